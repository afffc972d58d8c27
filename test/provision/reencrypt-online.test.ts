/**
 * The online side of `luks-reencrypt` that runs on this host without device-mapper: how the
 * handler recognises a `cryptsetup reencrypt` of the same volume still running when that run
 * is online (its command line names only `--active-name`, never the device). The online
 * re-encryption itself is proven on the booted laptop VM (test/vm/reencrypt-online.test.ts).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadProfileOrThrow } from "../../src/profiles/loader.js";
import type { Profile } from "../../src/profiles/types.js";
import { applyChanges } from "../../src/provision/apply.js";
import { makeHandlers } from "../../src/provision/handlers/index.js";
import { namesVolume } from "../../src/provision/handlers/reencrypt.js";
import {
  onlineHelpers,
  parseDmsetupLs,
  refreshFlags,
} from "../../src/provision/handlers/reencrypt-online.js";
import { openedMapping } from "../../src/provision/resources/disk.js";
import type { BlockDevice } from "../../src/facts/types.js";
import type { ReencryptChange } from "../../src/provision/types.js";
import { RootTarget } from "../../src/targets/root.js";
import { repoRoot } from "../helpers/cli.js";

const passphrase = "technician passphrase";
let dir: string;
let profile: Profile;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "kof-reonline-"));
  profile = await loadProfileOrThrow(join(repoRoot, "examples", "meerane.yaml"));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const change = (device: string, activeName: string | null): ReencryptChange => ({
  kind: "luks-reencrypt",
  device,
  activeName,
  resume: false,
  from: { cipher: "aes-xts-plain64", keyBits: 256 },
  to: { cipher: "aes-xts-plain64", keyBits: 512 },
  dataBytes: null,
  mibPerSecond: 10,
  estimateSeconds: null,
  confirmation: "explicit",
  resource: "disk",
  controls: ["DISK-02"],
  summary: "test",
});

describe("luks-reencrypt online: which running cryptsetup is about this volume", () => {
  it("matches the device offline and the mapping online, in both option spellings", () => {
    const online = change("/dev/vda", "weakdata");
    expect(namesVolume(["cryptsetup", "reencrypt", "--active-name=weakdata"], online)).toBe(true);
    expect(namesVolume(["cryptsetup", "reencrypt", "--active-name", "weakdata"], online)).toBe(
      true,
    );
    expect(namesVolume(["cryptsetup", "reencrypt", "/dev/vda"], online)).toBe(true);
    // Another mapping, or the name as a bare word (not the option's value), is another volume.
    expect(namesVolume(["cryptsetup", "reencrypt", "--active-name=weakdata2"], online)).toBe(false);
    expect(namesVolume(["cryptsetup", "reencrypt", "--cipher", "weakdata"], online)).toBe(false);
    expect(
      namesVolume(["cryptsetup", "reencrypt", "--active-name=weakdata"], change("/dev/vda", null)),
    ).toBe(false);
  });

  it("refuses to start beside an online cryptsetup reencrypt of the same mapping: nothing written", async () => {
    const image = join(dir, "weak.img");
    await writeFile(image, "");
    await execa("truncate", ["-s", "48M", image]);
    await execa(
      "cryptsetup",
      [
        "luksFormat",
        "--batch-mode",
        "--type=luks2",
        "--key-size=256",
        "--pbkdf=argon2id",
        "--pbkdf-force-iterations=4",
        "--pbkdf-memory=32768",
        "--key-file=-",
        image,
      ],
      { input: passphrase },
    );
    const before = await readFile(image);
    // A process whose command line is exactly what an online run shows in /proc:
    // `cryptsetup reencrypt … --active-name=NAME` (node running a script file named "reencrypt").
    const fake = join(dir, "fake");
    await mkdir(fake);
    await writeFile(join(fake, "reencrypt"), "setTimeout(() => {}, 120000);\n");
    const name = `kof-online-${process.pid}`;
    let child: ChildProcess | null = null;
    const root = join(dir, "root");
    await mkdir(join(root, "etc"), { recursive: true });
    const target = await RootTarget.open({ root, disks: [image] });
    try {
      child = spawn(process.execPath, ["reencrypt", "--batch-mode", `--active-name=${name}`], {
        argv0: "cryptsetup",
        cwd: fake,
        stdio: "ignore",
      });
      await new Promise((r) => setTimeout(r, 300));
      const set = makeHandlers({ profile, passphrase, pbkdfCost: "fast", confirmReencrypt: true });
      const report = await applyChanges(target, [change(image, name)], { handlers: set.handlers });
      expect(report.failed[0]?.message).toMatch(new RegExp(`still running \\(pid ${child.pid}\\)`));
      expect((await readFile(image)).equals(before)).toBe(true);
    } finally {
      child?.kill("SIGKILL");
      await target.close();
    }
  }, 60_000);
});

const dev = (name: string, type: string, children: BlockDevice[] = []): BlockDevice => ({
  name,
  path: `/dev/${type === "disk" ? "" : "mapper/"}${name}`,
  type,
  fstype: null,
  mountpoints: [],
  uuid: null,
  children,
});

describe("luks-reencrypt online: the mapping under cryptsetup's helper devices", () => {
  it("is the opened mapping, also when a killed online run left NAME-overlay and NAME-hotzone-forward", () => {
    expect(openedMapping(dev("vda", "disk", [dev("weakdata", "crypt")]))).toBe("weakdata");
    // lsblk -J on the VM after kill -9 of an online `cryptsetup reencrypt` (both helpers are
    // CRYPT-SUBDEV devices, which lsblk types "crypt"): the helpers come first.
    const killed = dev("vda", "disk", [
      dev("weakdata-hotzone-forward", "crypt", [
        dev("weakdata-overlay", "crypt", [dev("weakdata", "crypt")]),
      ]),
      dev("weakdata-overlay", "crypt", [dev("weakdata", "crypt")]),
    ]);
    expect(openedMapping(killed)).toBe("weakdata");
    // A mapping that merely ends in -overlay, with no NAME beside it, is a mapping.
    expect(openedMapping(dev("vdb", "disk", [dev("data-overlay", "crypt")]))).toBe("data-overlay");
    expect(openedMapping(dev("vdc", "disk"))).toBeNull();
  });

  it("finds the helpers of NAME in `dmsetup ls`", () => {
    const names = parseDmsetupLs(
      "weakdata-hotzone-forward\t(254:2)\nweakdata\t(254:4)\ncryptroot\t(254:0)\nweakdata-overlay\t(254:3)\n",
    );
    expect(onlineHelpers("weakdata", names)).toEqual([
      "weakdata-overlay",
      "weakdata-hotzone-forward",
    ]);
    expect(onlineHelpers("cryptroot", names)).toEqual([]);
    expect(parseDmsetupLs("No devices found\n")).toEqual([]);
  });

  it("keeps the mapping's dm-crypt flags when it refreshes it (crypttab discard)", () => {
    expect(
      refreshFlags(
        "0 131072 crypt aes-xts-plain64 :64:logon:cryptsetup:x-d0 0 252:0 32768 2 allow_discards no_read_workqueue\n",
      ),
    ).toEqual(["--allow-discards", "--perf-no_read_workqueue"]);
    expect(refreshFlags("0 65536 linear 252:0 32768\n")).toEqual([]);
  });
});
