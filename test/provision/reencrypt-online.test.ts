/**
 * Online re-encryption (issue 10 item 4): cryptsetup runs in its own transient unit on the
 * target so no interruption of koffer can SIGKILL it (a SIGKILL inside an online step leaves
 * the hot zone mapped with the new key over old data, cryptsetup 2.6.1 on the laptop VM). What
 * runs here without systemd or device-mapper: the decisions — the unit's command line (its
 * properties, no key in it), the unit's and the helpers' state, the refusal after an unclean
 * death (German and English), the advice after a clean stop — and the plan of an opened
 * volume. test/vm/reencrypt-online.test.ts runs it on the booted laptop.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadProfileOrThrow } from "../../src/profiles/loader.js";
import type { Profile } from "../../src/profiles/types.js";
import { namesVolume } from "../../src/provision/handlers/reencrypt.js";
import {
  killedRefusal,
  parseActiveState,
  parseHelpers,
  stoppedAdvice,
  systemdRunArgs,
  unitLog,
  unitName,
} from "../../src/provision/handlers/reencrypt-unit.js";
import { gatherFacts } from "../../src/facts/index.js";
import { planProvision } from "../../src/provision/plan.js";
import { leftoverHelpers, openedMapping } from "../../src/provision/resources/disk.js";
import type { BlockDevice } from "../../src/facts/types.js";
import type { ReencryptChange } from "../../src/provision/types.js";
import { RootTarget } from "../../src/targets/root.js";
import { repoRoot } from "../helpers/cli.js";
import { makeLuksImage } from "../helpers/luks.js";

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

describe("luks-reencrypt online: the unit cryptsetup runs in", () => {
  it("is one unit per mapping, with a unit-safe name and a root-only log in /run", () => {
    expect(unitName("weakdata")).toBe("koffer-reencrypt-weakdata.service");
    expect(unitName("luks-1a2b/c d")).toBe("koffer-reencrypt-luks-1a2b_c_d.service");
    expect(unitLog("weakdata")).toBe("/run/koffer/koffer-reencrypt-weakdata.log");
  });

  it("runs cryptsetup with SIGTERM only, no stop timeout, OOM-protected, keys only on stdin", () => {
    const args = systemdRunArgs("weakdata", [
      "reencrypt",
      "--resume-only",
      "--key-file=-",
      "--active-name=weakdata",
    ]);
    expect(args).toEqual(
      expect.arrayContaining([
        "--unit=koffer-reencrypt-weakdata.service",
        "--pipe",
        "--collect",
        "--property=KillSignal=SIGTERM",
        "--property=SendSIGKILL=no",
        "--property=TimeoutStopSec=infinity",
        "--property=OOMScoreAdjust=-1000",
      ]),
    );
    // After "--": the wrapper execs cryptsetup (the unit's main process) with the log as $1.
    const command = args.slice(args.indexOf("--") + 1);
    expect(command).toEqual([
      "/bin/sh",
      "-c",
      'log=$1; shift; exec cryptsetup "$@" >"$log" 2>&1',
      "sh",
      "/run/koffer/koffer-reencrypt-weakdata.log",
      "reencrypt",
      "--resume-only",
      "--key-file=-",
      "--active-name=weakdata",
    ]);
    // Nothing of a key: --pipe hands koffer's stdin over, no StandardInputText/Data, no file.
    expect(args.join(" ")).not.toMatch(/StandardInput|key-file=\/|passphrase/i);
  });

  it("reads the unit's state: running, stopping (cryptsetup finishing its hot zone), gone", () => {
    expect(parseActiveState("active\n")).toBe("running");
    expect(parseActiveState("activating")).toBe("running");
    expect(parseActiveState("deactivating\n")).toBe("stopping");
    expect(parseActiveState("inactive\n")).toBe("gone");
    expect(parseActiveState("failed")).toBe("gone");
    expect(parseActiveState("")).toBe("gone");
  });

  it("finds the helper devices of the mapping and whether they are suspended", () => {
    const info = [
      "weakdata Active",
      "weakdata-overlay Active",
      "weakdata-hotzone-forward Suspended",
      "weakdata2-overlay Active",
      "root Active",
    ].join("\n");
    expect(parseHelpers(info, "weakdata")).toEqual([
      { name: "weakdata-hotzone-forward", suspended: true },
      { name: "weakdata-overlay", suspended: false },
    ]);
    expect(parseHelpers("weakdata Active\n", "weakdata")).toEqual([]);
    expect(parseHelpers("No devices found\n", "weakdata")).toEqual([]);
  });

  it("refuses after an unclean death in German and English, exit 2, nothing in place", () => {
    const error = killedRefusal("/dev/vdb", "weakdata", [
      { name: "weakdata-hotzone-forward", suspended: true },
      { name: "weakdata-overlay", suspended: false },
    ]);
    expect(error.code).toBe("E_REENCRYPT_KILLED");
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain(
      "hat weakdata-hotzone-forward (angehalten), weakdata-overlay hinterlassen",
    );
    expect(error.message).toContain("Laptop ausschalten; beim nächsten Öffnen (initrd)");
    expect(error.message).toContain(
      "left weakdata-hotzone-forward (suspended), weakdata-overlay. koffer repairs nothing in place",
    );
    expect(error.message).toMatch(
      /Power the laptop off; the next open \(initrd\) recovers the hot zone from its checksums; then run koffer provision again to resume\.$/,
    );
    // Killed with no helper left (the header alone says it needs recovery).
    expect(killedRefusal("/dev/vdb", "weakdata", []).message).toContain(
      "left a header that needs recovery",
    );
  });

  it("after a clean stop names the percentage and the online resume", () => {
    expect(stoppedAdvice("/dev/vdb", "weakdata", 28)).toBe(
      "re-encryption of /dev/vdb (weakdata) stopped cleanly at 28% (cryptsetup finished its hot zone); run koffer provision again to resume it online (cryptsetup reencrypt --resume-only --active-name weakdata)",
    );
    expect(stoppedAdvice("/dev/vdb", "weakdata", null)).toMatch(/stopped cleanly \(/);
  });
});

describe("luks-reencrypt online: the plan", () => {
  /** Plan the disk of a real weak image whose facts show it opened (as lsblk does on the laptop). */
  async function planOpened(
    name: string,
    opened: (path: string) => BlockDevice,
    headerError?: string,
  ) {
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
      if (headerError !== undefined)
        facts.disk.volumes = facts.disk.volumes.map((v) => ({ ...v, error: headerError }));
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

  it("plans the re-encryption online, confirmed explicitly, in its own unit, and nothing else on the volume", async () => {
    const { image, closed, online } = await planOpened("plan-open", (path) =>
      asDisk(path, [dev("weakdata", "crypt")]),
    );
    const reencrypt = online.filter((c) => c.kind === "luks-reencrypt");
    expect(reencrypt).toHaveLength(1);
    // The keyslot work waits for the next run (the re-encryption may outlive this one).
    expect(online.filter((c) => c.kind.startsWith("luks-") || c.kind === "tpm2-enrol")).toEqual(
      reencrypt,
    );
    expect(reencrypt[0]).toMatchObject({
      device: image,
      activeName: "weakdata",
      confirmation: "explicit",
    });
    expect(reencrypt[0]!.summary).toMatch(
      /\(\d+ MiB, ≈ \d+ s at 10 MiB\/s; online, mapping weakdata\) — needs --confirm-reencrypt or a typed yes; runs in its own unit koffer-reencrypt-weakdata\.service, Ctrl-C stops it at a safe point$/,
    );
    expect(reencrypt[0]!.summary).not.toMatch(/refused|helper/);
    // Closed, the same volume is re-encrypted offline, before its keyslot changes.
    const luks = closed.filter((c) => c.kind.startsWith("luks-"));
    expect(luks[0]).toMatchObject({ kind: "luks-reencrypt", activeName: null });
    expect(luks[0]!.summary).toMatch(/offline\) — needs --confirm-reencrypt or a typed yes$/);
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
    // The plan cannot tell a running unit from a dead cryptsetup: it says both outcomes.
    expect(reencrypt!.summary).toMatch(
      /helper devices weakdata-hotzone-forward, weakdata-overlay present: if koffer-reencrypt-weakdata\.service still runs, provision waits for it; otherwise cryptsetup was killed inside a step and provision refuses \(exit 2\): power the laptop off/,
    );
  }, 60_000);

  it("plans a resume when the header is locked by a running online re-encryption (helpers present)", async () => {
    const helpers = (path: string) =>
      asDisk(path, [
        dev("weakdata-hotzone-forward", "crypt", [
          dev("weakdata-overlay", "crypt", [dev("weakdata", "crypt")]),
        ]),
      ]);
    // Measured on the VM: while the unit ran, the disk facts had an error and nothing was planned.
    const { image, online } = await planOpened("plan-busy", helpers, "cryptsetup luksDump failed");
    const reencrypt = online.filter((c) => c.kind === "luks-reencrypt");
    expect(reencrypt).toHaveLength(1);
    expect(reencrypt[0]).toMatchObject({ device: image, activeName: "weakdata", resume: true });
    expect(reencrypt[0]!.summary).toMatch(
      /online re-encryption under way, header locked \(online, mapping weakdata\) — helper devices weakdata-hotzone-forward, weakdata-overlay present: if koffer-reencrypt-weakdata\.service still runs, provision waits for it/,
    );
    // An unreadable header with no helper devices is only reported (DISK-01), not planned.
    const plain = await planOpened(
      "plan-unreadable",
      (path) => asDisk(path, [dev("weakdata", "crypt")]),
      "cryptsetup luksDump failed",
    );
    expect(plain.online.filter((c) => c.kind === "luks-reencrypt")).toEqual([]);
  }, 60_000);
});
