/**
 * Online re-encryption is refused (issue 10 item 4; cryptsetup 2.6.1 on the laptop VM): a
 * SIGKILL of `cryptsetup reencrypt --active-name` between loading a step's tables and writing
 * its checksums leaves the hot zone mapped with the new key over data under the old key, and
 * nothing can release the held I/O safely while the volume stays open. What runs here without
 * device-mapper: the handler refuses before writing anything, the plan keeps the change as
 * what is left to do offline (naming the helper devices a killed run left) and nothing else on
 * that volume until then. The VM test shows the same on a
 * booted laptop and re-encrypts the closed volume offline with a kill -9 and a resume.
 */
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadProfileOrThrow } from "../../src/profiles/loader.js";
import type { Profile } from "../../src/profiles/types.js";
import { applyChanges } from "../../src/provision/apply.js";
import { makeHandlers } from "../../src/provision/handlers/index.js";
import { namesVolume } from "../../src/provision/handlers/reencrypt.js";
import { gatherFacts } from "../../src/facts/index.js";
import { planProvision } from "../../src/provision/plan.js";
import { leftoverHelpers, openedMapping } from "../../src/provision/resources/disk.js";
import type { BlockDevice } from "../../src/facts/types.js";
import type { ReencryptChange } from "../../src/provision/types.js";
import { RootTarget } from "../../src/targets/root.js";
import { repoRoot } from "../helpers/cli.js";
import { makeLuksImage, testPassphrase } from "../helpers/luks.js";

const passphrase = testPassphrase;
let dir: string;
let profile: Profile;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "kof-reonline-"));
  profile = await loadProfileOrThrow(join(repoRoot, "examples", "meerane.yaml"));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A LUKS2 image as an old installer leaves it: 256-bit XTS key, one passphrase slot. */
async function weakImage(name: string): Promise<string> {
  return (await makeLuksImage({ keyBits: 256, copyTo: join(dir, `${name}.img`) })).path;
}

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

  it("refuses a change that names the opened mapping before writing anything (E_REENCRYPT_ONLINE)", async () => {
    const image = await weakImage("refuse");
    const before = await readFile(image);
    const root = join(dir, "root-refuse");
    await mkdir(join(root, "etc"), { recursive: true });
    const target = await RootTarget.open({ root, disks: [image] });
    try {
      const set = makeHandlers({ profile, passphrase, pbkdfCost: "fast", confirmReencrypt: true });
      const report = await applyChanges(target, [change(image, "weakdata")], {
        handlers: set.handlers,
      });
      expect(report.applied).toBe(0);
      expect(report.failed[0]?.message).toMatch(
        /is opened as weakdata: koffer does not re-encrypt an opened volume; nothing was written/,
      );
      expect((await readFile(image)).equals(before)).toBe(true);
    } finally {
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

  it("names the helpers a killed online run left under the device, none otherwise", () => {
    const killed = dev("vda", "disk", [
      dev("weakdata-hotzone-forward", "crypt", [
        dev("weakdata-overlay", "crypt", [dev("weakdata", "crypt")]),
      ]),
      dev("weakdata-overlay", "crypt", [dev("weakdata", "crypt")]),
    ]);
    expect(leftoverHelpers([killed], "/dev/vda")).toEqual([
      "weakdata-hotzone-forward",
      "weakdata-overlay",
    ]);
    expect(leftoverHelpers([dev("vda", "disk", [dev("weakdata", "crypt")])], "/dev/vda")).toEqual(
      [],
    );
    expect(leftoverHelpers([killed], "/dev/vdb")).toEqual([]);
  });
});

describe("luks-reencrypt online: the plan", () => {
  /** Plan the disk of a real weak image whose facts show it opened (as lsblk does on the laptop). */
  async function planOpened(name: string, opened: (path: string) => BlockDevice) {
    const image = await weakImage(name);
    const root = join(dir, `root-${name}`);
    await mkdir(join(root, "etc"), { recursive: true });
    const target = await RootTarget.open({ root, disks: [image] });
    try {
      const facts = await gatherFacts(target, { profile, now: new Date() }, { areas: ["disk"] });
      const closed = planProvision(profile, facts, { now: new Date() }).filter(
        (c) => c.resource === "disk",
      );
      facts.disk.blockDevices = { available: true, value: [opened(image)], source: "lsblk (test)" };
      const online = planProvision(profile, facts, { now: new Date() }).filter(
        (c) => c.resource === "disk",
      );
      return { image, closed, online };
    } finally {
      await target.close();
    }
  }
  const asDisk = (path: string, children: BlockDevice[]): BlockDevice => ({
    ...dev("weak", "disk", children),
    path,
  });

  it("keeps the re-encryption as refused online, with the offline way, and nothing else on the volume", async () => {
    const { image, closed, online } = await planOpened("plan-open", (path) =>
      asDisk(path, [dev("weakdata", "crypt")]),
    );
    const reencrypt = online.filter((c) => c.kind === "luks-reencrypt");
    expect(reencrypt).toHaveLength(1);
    expect(online.filter((c) => c.kind.startsWith("luks-") || c.kind === "tpm2-enrol")).toEqual(
      reencrypt,
    );
    expect(reencrypt[0]).toMatchObject({ device: image, activeName: "weakdata" });
    expect(reencrypt[0]!.summary).toMatch(/online, mapping weakdata\) — refused online: /);
    expect(reencrypt[0]!.summary).toContain(
      `boot a rescue system with the volume closed and run koffer provision --root <mounted root> --disk ${image} --confirm-reencrypt`,
    );
    expect(reencrypt[0]!.summary).not.toMatch(/killed/);
    // Closed, the same volume is re-encrypted offline, before its keyslot changes.
    const luks = closed.filter((c) => c.kind.startsWith("luks-"));
    expect(luks[0]).toMatchObject({ kind: "luks-reencrypt", activeName: null });
    expect(luks[0]!.summary).toMatch(/offline\) — needs --confirm-reencrypt/);
    // Closed, the keyslot work follows the re-encryption in the same run.
    expect(luks.length).toBeGreaterThan(1);
  }, 60_000);

  it("after a killed online run names its helper devices and says not to touch them", async () => {
    const { online } = await planOpened("plan-killed", (path) =>
      asDisk(path, [
        dev("weakdata-hotzone-forward", "crypt", [
          dev("weakdata-overlay", "crypt", [dev("weakdata", "crypt")]),
        ]),
        dev("weakdata-overlay", "crypt", [dev("weakdata", "crypt")]),
      ]),
    );
    const reencrypt = online.find((c) => c.kind === "luks-reencrypt");
    expect(reencrypt).toMatchObject({ activeName: "weakdata" });
    expect(reencrypt!.summary).toMatch(
      /killed inside an online step and left weakdata-hotzone-forward, weakdata-overlay: do not resume or remove them by hand .* power the laptop off, then boot a rescue system/,
    );
  }, 60_000);
});
