/**
 * The whole flow through the built CLI on a real debootstrapped Debian 12 root with a weak
 * LUKS2 image (pbkdf2 keyslots, a stray passphrase slot) and a software TPM (swtpm):
 * verify (non-compliant) → provision (chroot apt-get, files, units, keyslots, recovery key,
 * TPM2+PIN, VPN certificate from the test CA) → verify (compliant) → plan (no change) →
 * re-provision (no-op) → rollback (every file koffer wrote byte-identical to before).
 *
 * One provision of the root, reused by every assertion: it is the slow part.
 */
import { createHash } from "node:crypto";
import { readFile, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { controls } from "../../src/checks/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { koffer, repoRoot, type CliRun } from "../helpers/cli.js";
import { debianRootSkipReason } from "../helpers/debian-root.js";
import { provisionArgs, weakLaptop, type WeakLaptop } from "../helpers/weak-laptop.js";

const skip = debianRootSkipReason();
const profile = join(repoRoot, "examples/meerane.yaml");

let laptop: WeakLaptop;
let dir: string;
let base: string;
let root: string;
let image: string;
let before: CliRun;
let provisioned: CliRun;
let runId: string;
const files: Record<string, string> = {};

function target(): string[] {
  return ["--root", root, "--disk", image, "--profile", profile];
}

describe.skipIf(skip !== null)("provision end to end on a Debian 12 root", () => {
  beforeAll(async () => {
    laptop = await weakLaptop("debian-12", "koffer-e2e-");
    ({ base, dir, root, image } = laptop);
    files.passphrase = laptop.passphraseFile;

    before = await koffer(["verify", ...target(), "--format", "json"]);
    provisioned = await koffer(["provision", ...target(), ...provisionArgs(laptop)], {
      env: laptop.env,
      timeoutMs: 20 * 60_000,
    });
    runId = /^Run (\S+):/m.exec(provisioned.stdout)?.[1] ?? "";
  }, 30 * 60_000);

  afterAll(async () => {
    await laptop?.dispose();
  });

  it("starts non-compliant", () => {
    expect(before.exitCode).toBe(1);
    const result = JSON.parse(before.stdout) as { controls: { id: string; status: string }[] };
    const failing = result.controls.filter((c) => c.status === "fail").map((c) => c.id);
    expect(failing).toEqual(expect.arrayContaining(["DISK-03", "DISK-04", "DISK-05", "USB-01"]));
  });

  it("provisions: plan printed, every change applied, nothing left mounted", async () => {
    expect(provisioned.stderr).not.toMatch(/failed:/);
    expect(provisioned.stdout).toMatch(/^Plan: \d+ changes$/m);
    expect(runId).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{6}$/);
    expect(provisioned.stdout).toMatch(/ 0 failed/);
    const mounts = await readFile("/proc/self/mountinfo", "utf8");
    expect(mounts).not.toContain(root);
    expect(await stat(join(root, "usr/sbin/policy-rc.d")).catch(() => null)).toBeNull();
    // apt really ran in the chroot: dpkg in the tree knows the packages.
    const { stdout } = await execa("dpkg-query", [
      `--admindir=${join(root, "var/lib/dpkg")}`,
      "-W",
      "-f=${Package} ${db:Status-Abbrev}|\n",
      "usbguard",
      "auditd",
      "strongswan-swanctl",
    ]);
    expect(stdout.trim().split("\n").sort()).toEqual([
      "auditd ii |",
      "strongswan-swanctl ii |",
      "usbguard ii |",
    ]);
  });

  it("then verifies compliant (exit 0), with the reports on the target and locally", async () => {
    const after = await koffer(["verify", ...target(), "--format", "json"]);
    const result = JSON.parse(after.stdout) as { controls: { id: string; status: string }[] };
    const bad = result.controls.filter((c) => c.status === "fail" || c.status === "error");
    expect(bad.map((c) => c.id)).toEqual([]);
    expect(after.exitCode).toBe(0);
    expect(provisioned.exitCode).toBe(0);
    for (const ext of ["json", "html"]) {
      const onTarget = join(root, `var/lib/koffer/reports/${runId}.${ext}`);
      expect((await stat(onTarget)).mode & 0o777).toBe(0o600);
      expect(await readFile(join(dir, "out", `${runId}.${ext}`), "utf8")).toBe(
        await readFile(onTarget, "utf8"),
      );
    }
    // The device key was generated on the target, root-only, and never printed.
    const keys = await readdir(join(root, "etc/swanctl/private"));
    expect(keys.length).toBe(1);
    const keyPath = join(root, "etc/swanctl/private", keys[0]!);
    expect((await stat(keyPath)).mode & 0o777).toBe(0o600);
    const keyText = await readFile(keyPath, "utf8");
    expect(provisioned.stdout + provisioned.stderr).not.toContain(keyText.split("\n")[1]!);
  });

  it("provision and verify never drift: every control with a fix that failed before passes after (issue 11)", async () => {
    const statuses = (stdout: string) =>
      new Map(
        (JSON.parse(stdout) as { controls: { id: string; status: string }[] }).controls.map((c) => [
          c.id,
          c.status,
        ]),
      );
    const was = statuses(before.stdout);
    const now = statuses((await koffer(["verify", ...target(), "--format", "json"])).stdout);
    const fixable = controls.filter((c) => c.meta.fix !== null).map((c) => c.meta.id);
    const fixedHere = fixable.filter((id) => was.get(id) === "fail");
    expect(fixedHere.length).toBeGreaterThan(10);
    expect(
      fixedHere.filter((id) => now.get(id) !== "pass").map((id) => `${id} ${now.get(id)}`),
    ).toEqual([]);
  });

  it("plans nothing afterwards, and re-provisioning is a no-op", async () => {
    const plan = await koffer(["plan", ...target(), "--format", "json"]);
    expect(plan.exitCode).toBe(0);
    expect(JSON.parse(plan.stdout)).toEqual({ changes: [] });
    const again = await koffer(
      ["provision", ...target(), "--yes", "--passphrase-file", files.passphrase!],
      { env: laptop.env },
    );
    expect(again.stdout).toMatch(/^Plan: nothing to change\.$/m);
    expect(again.exitCode).toBe(0);
  });

  it("rollback restores every file the run wrote, byte for byte", async () => {
    const manifest = JSON.parse(
      await readFile(join(root, `var/lib/koffer/backups/${runId}/manifest.json`), "utf8"),
    ) as { files: { path: string; existed: boolean; sha256?: string }[] };
    expect(manifest.files.length).toBeGreaterThan(10);
    const rolled = await koffer(["rollback", runId, "--root", root]);
    expect(rolled.exitCode).toBe(0);
    const sha = (b: Buffer | null) =>
      b === null ? null : createHash("sha256").update(b).digest("hex");
    // Every file is back as the run found it; those apt had not changed equal the pristine tree.
    let pristineMatches = 0;
    for (const record of manifest.files) {
      const now = await readFile(join(root, record.path)).catch(() => null);
      if (!record.existed) {
        expect(now, record.path).toBeNull();
        continue;
      }
      expect(sha(now), record.path).toBe(record.sha256);
      const pristine = await readFile(join(base, record.path)).catch(() => null);
      if (sha(pristine) === record.sha256) pristineMatches++;
    }
    expect(pristineMatches).toBeGreaterThan(3);
  });
});
