/**
 * Disk key hygiene with the real cryptsetup and systemd-cryptenroll against swtpm:
 * keyslot conversion, recovery key + escrow, stray slot removal, TPM2+PIN, and the
 * refusals that keep a volume openable.
 */
import { execa } from "execa";
import { mkdtemp, mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { disk03 } from "../../src/checks/disk-03.js";
import { disk04 } from "../../src/checks/disk-04.js";
import { disk05 } from "../../src/checks/disk-05.js";
import { gatherFacts } from "../../src/facts/index.js";
import { openEscrow } from "../../src/pki/escrow.js";
import { readPkcs12 } from "../../src/pki/pkcs12.js";
import { loadProfileOrThrow } from "../../src/profiles/loader.js";
import type { Profile } from "../../src/profiles/types.js";
import { applyChanges } from "../../src/provision/apply.js";
import { makeHandlers, opensSlot, readHeader } from "../../src/provision/handlers/index.js";
import type { Change } from "../../src/provision/types.js";
import { RootTarget } from "../../src/targets/root.js";
import { repoRoot } from "../helpers/cli.js";
import { makeLuksImage, testPassphrase } from "../helpers/luks.js";
import { startSwtpm, type Swtpm } from "../helpers/swtpm.js";

let dir: string;
let profile: Profile;
let swtpm: Swtpm;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "koffer-luks-handlers-"));
  profile = await loadProfileOrThrow(join(repoRoot, "examples/meerane.yaml"));
  swtpm = await startSwtpm();
});
afterAll(async () => {
  await swtpm?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function weakVolume(name: string) {
  const image = await makeLuksImage({
    pbkdf: "pbkdf2",
    extraKeyslots: [{ pbkdf: "pbkdf2" }],
    copyTo: join(dir, `${name}.img`),
  });
  const root = join(dir, `${name}-root`);
  await mkdir(join(root, "etc"), { recursive: true });
  const target = await RootTarget.open({ root, disks: [image.path] });
  return { image, root, target };
}

const base = { resource: "disk", summary: "test", controls: ["DISK-05"] };
const convert = (device: string, keyslot: string): Change => ({
  ...base,
  kind: "luks-convert-keyslot",
  device,
  keyslot,
});
const remove = (device: string, keyslot: string): Change => ({
  ...base,
  kind: "luks-remove-keyslot",
  device,
  keyslot,
});
const recovery = (device: string, volumeUuid: string): Change => ({
  ...base,
  kind: "luks-add-recovery-key",
  device,
  volumeUuid,
  escrowCertificate: join(repoRoot, "examples/certs/test-escrow.pem"),
});
const tpm2 = (device: string): Change => ({ ...base, kind: "tpm2-enrol", device, pcrs: [7] });

function options(extra: Partial<Parameters<typeof makeHandlers>[0]> = {}) {
  return makeHandlers({ profile, passphrase: testPassphrase, pbkdfCost: "fast", ...extra });
}

async function escrowKey(): Promise<import("node:crypto").KeyObject> {
  const pass = (await readFile(join(repoRoot, "examples/certs/test-escrow.pass"), "utf8")).trim();
  return readPkcs12(await readFile(join(repoRoot, "examples/certs/test-escrow.p12")), pass).key;
}

/**
 * Watches every systemd-cryptenroll process while it lives: records whether a secret appears
 * in its environment or command line. `seen` proves the watch saw the process at all.
 */
function watchCryptenroll(secrets: string[]) {
  let stopped = false;
  const leaks: string[] = [];
  const seen = new Set<number>();
  const done = (async () => {
    while (!stopped) {
      for (const name of await readdir("/proc").catch(() => [] as string[])) {
        if (!/^\d+$/.test(name)) continue;
        const comm = (await readFile(`/proc/${name}/comm`, "utf8").catch(() => "")).trim();
        if (comm !== "systemd-crypten") continue; // comm: 15 characters
        seen.add(Number(name));
        for (const file of ["environ", "cmdline"]) {
          const text = await readFile(`/proc/${name}/${file}`, "utf8").catch(() => "");
          for (const secret of secrets) if (text.includes(secret)) leaks.push(`${file}: ${secret}`);
        }
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await done;
      return { leaks, seen: seen.size };
    },
  };
}

describe("LUKS handlers", () => {
  it("converts, escrows a recovery key, removes the stray slot, enrols TPM2+PIN and drops the passphrase", async () => {
    const { image, root, target } = await weakVolume("full");
    const set = options({ tpm2Device: swtpm.device, tpm2Pin: "471108" });
    const changes = [
      convert(image.path, "0"),
      remove(image.path, "1"),
      recovery(image.path, image.uuid),
      tpm2(image.path),
      remove(image.path, "0"),
    ];
    const watch = watchCryptenroll([testPassphrase, "471108"]);
    const report = await applyChanges(target, changes, { handlers: set.handlers });
    const watched = await watch.stop();
    expect(report.failed).toEqual([]);
    expect(report.applied).toBe(5);
    // Neither the passphrase nor the PIN reached systemd-cryptenroll's environment or argv:
    // both went through the ask-password protocol.
    expect(watched.seen).toBeGreaterThan(0);
    expect(watched.leaks).toEqual([]);

    const header = await readHeader(target, image.path);
    const tpmToken = header.tokens.find((t) => t.type === "systemd-tpm2");
    const recoveryToken = header.tokens.find((t) => t.type === "systemd-recovery");
    expect(tpmToken?.tpm2Pin).toBe(true);
    expect(tpmToken?.tpm2Pcrs).toEqual([7]);
    expect(header.keyslots.map((k) => k.id).sort()).toEqual(
      [...(tpmToken?.keyslots ?? []), ...(recoveryToken?.keyslots ?? [])].sort(),
    );
    // The recovery slot is argon2id; the passphrase no longer opens anything.
    const recoverySlot = recoveryToken?.keyslots[0] as string;
    expect(header.keyslots.find((k) => k.id === recoverySlot)?.kdf.type).toBe("argon2id");
    expect(await opensSlot(target, image.path, testPassphrase)).toBe(false);

    // The escrow envelope opens with the escrow key, and the key in it opens the recovery slot.
    const record = JSON.parse(
      await readFile(join(root, `var/lib/koffer/escrow/${image.uuid}.json`), "utf8"),
    );
    expect(record).toMatchObject({ volumeUuid: image.uuid, keyslot: recoverySlot });
    const cmsPath = join(root, `var/lib/koffer/escrow/${image.uuid}.cms`);
    expect((await stat(cmsPath)).mode & 0o777).toBe(0o600);
    const key = openEscrow(await readFile(cmsPath, "utf8"), await escrowKey()).toString("utf8");
    expect(key).toMatch(/^([cbdefghijklnrtuv]{8}-){7}[cbdefghijklnrtuv]{8}$/);
    expect(await opensSlot(target, image.path, key, recoverySlot)).toBe(true);
    // The key exists in clear nowhere in the tree.
    const { stdout } = await execa("grep", ["-rlF", key, root], { reject: false });
    expect(stdout).toBe("");

    // What the checks see: DISK-03, -04 and -05 pass.
    const facts = await gatherFacts(target, { profile, now: new Date() }, { areas: ["disk"] });
    for (const control of [disk03, disk04, disk05]) {
      const statuses = control.evaluate(profile, facts, { now: new Date() }).map((f) => f.status);
      expect(statuses, control.meta.id).toEqual(["pass"]);
    }
    // Applying again changes nothing.
    const again = await applyChanges(target, changes, { handlers: options().handlers });
    expect(again).toMatchObject({ applied: 0, failed: [] });
  }, 120_000);

  it("without a TPM, leaves the enrolment and the passphrase slot for the first boot", async () => {
    const { image, target } = await weakVolume("no-tpm");
    const set = options();
    const report = await applyChanges(
      target,
      [recovery(image.path, image.uuid), tpm2(image.path), remove(image.path, "0")],
      { handlers: set.handlers },
    );
    expect(report).toMatchObject({ applied: 1, unchanged: 2, failed: [] });
    expect(set.state.notes.map((n) => n.kind)).toEqual([
      "recovery-key-escrowed",
      "tpm2-first-boot",
      "tpm2-first-boot",
    ]);
    expect(await opensSlot(target, image.path, testPassphrase, "0")).toBe(true);
    const facts = await gatherFacts(target, { profile }, { areas: ["disk"] });
    const findings = disk04.evaluate(profile, facts, { now: new Date() });
    expect(findings.map((f) => [f.status, f.messageId])).toEqual([["fail", "pending"]]);
  }, 60_000);

  it("refuses what would lock the volume: wrong passphrase, unproven or last keyslot", async () => {
    const { image, target } = await weakVolume("refuse");
    const wrong = makeHandlers({ profile, passphrase: "not-the-passphrase", pbkdfCost: "fast" });
    const r1 = await applyChanges(target, [convert(image.path, "0")], { handlers: wrong.handlers });
    expect(r1.failed[0]?.message).toMatch(/does not open keyslot 0/);
    // The stray slot's passphrase is unknown: it cannot be converted, only removed.
    const r2 = await applyChanges(target, [convert(image.path, "1")], {
      handlers: options().handlers,
    });
    expect(r2.failed[0]?.message).toMatch(/does not open keyslot 1/);
    // Removing slot 1 needs a key for another slot: the wrong passphrase proves nothing.
    const r3 = await applyChanges(target, [remove(image.path, "1")], { handlers: wrong.handlers });
    expect(r3.failed[0]?.message).toMatch(/no key koffer holds opens another keyslot/);
    expect((await readHeader(target, image.path)).keyslots).toHaveLength(2);
    // With the right passphrase slot 1 goes; slot 0 is then the last and stays.
    const r4 = await applyChanges(target, [remove(image.path, "1")], {
      handlers: options().handlers,
    });
    expect(r4).toMatchObject({ applied: 1, failed: [] });
    const stray = await makeLuksImage({ copyTo: join(dir, "single.img") });
    const single = await RootTarget.open({ root: join(dir, "refuse-root"), disks: [stray.path] });
    const known = makeHandlers({ profile, passphrase: "x", pbkdfCost: "fast" });
    const r5 = await applyChanges(single, [remove(stray.path, "0")], { handlers: known.handlers });
    expect(r5.failed[0]?.message).toMatch(/last keyslot/);
    expect(await opensSlot(single, stray.path, testPassphrase, "0")).toBe(true);
  }, 60_000);

  it("converts in place by number, and finishes a conversion a killed run left half-done", async () => {
    const { image, target } = await weakVolume("convert");
    const keyFile = join(dir, "convert-pass");
    await writeFile(keyFile, testPassphrase);
    // A killed conversion: the passphrase already added as argon2id to spare slot 2.
    await execa("cryptsetup", [
      "luksAddKey",
      "--batch-mode",
      `--key-file=${keyFile}`,
      "--key-slot=2",
      "--pbkdf=argon2id",
      "--pbkdf-force-iterations=4",
      "--pbkdf-memory=32768",
      image.path,
      keyFile,
    ]);
    const report = await applyChanges(target, [convert(image.path, "0")], {
      handlers: options().handlers,
    });
    expect(report).toMatchObject({ applied: 1, failed: [] });
    const header = await readHeader(target, image.path);
    expect(header.keyslots.map((k) => [k.id, k.kdf.type])).toEqual([
      ["0", "argon2id"],
      ["1", "pbkdf2"],
    ]);
    expect(await opensSlot(target, image.path, testPassphrase, "0")).toBe(true);
  }, 60_000);

  it("a recovery slot left by an interrupted run is replaced, so exactly one remains", async () => {
    const { image, root, target } = await weakVolume("interrupted");
    // Simulate a run killed right after luksAddKey: the marker names slot 2, no token, no record.
    await mkdir(join(root, "var/lib/koffer/escrow"), { recursive: true });
    await writeFile(join(root, `var/lib/koffer/escrow/${image.uuid}.pending`), "2\n");
    const keyFile = join(dir, "pass");
    await writeFile(keyFile, testPassphrase);
    await execa(
      "cryptsetup",
      [
        "luksAddKey",
        "--batch-mode",
        `--key-file=${keyFile}`,
        "--key-slot=2",
        "--pbkdf=argon2id",
        "--pbkdf-force-iterations=4",
        "--pbkdf-memory=32768",
        image.path,
        "-",
      ],
      { input: "lost-recovery-key" },
    );
    const report = await applyChanges(target, [recovery(image.path, image.uuid)], {
      handlers: options().handlers,
    });
    expect(report.failed).toEqual([]);
    const header = await readHeader(target, image.path);
    expect(header.keyslots.map((k) => k.id)).not.toContain("2");
    expect(header.tokens.filter((t) => t.type === "systemd-recovery")).toHaveLength(1);
    expect(
      await stat(join(root, `var/lib/koffer/escrow/${image.uuid}.pending`)).catch(() => null),
    ).toBeNull();
  }, 60_000);
});
