/**
 * Provisioning an image with no reachable TPM installs the first-boot enrolment through the
 * ordinary machinery (plan lines, apply with journal and backups, a second plan with no
 * change), and verify of that image reports DISK-04 as `pending` — with the real
 * `systemctl --root`, a real LUKS2 image file and the real gatherers.
 */
import { execa } from "execa";
import { readFile, readdir, readlink, stat, writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { disk04 } from "../../src/checks/disk-04.js";
import { gatherFacts } from "../../src/facts/index.js";
import { managedPath } from "../../src/facts/managed.js";
import { applyChanges, manifestPath, parseJournal } from "../../src/provision/apply.js";
import { planProvision } from "../../src/provision/plan.js";
import { JOURNAL_DIR } from "../../src/provision/state.js";
import type { Change } from "../../src/provision/types.js";
import { evaluate } from "../../src/report/evaluate.js";
import { exitCodeFor } from "../../src/report/exit-code.js";
import { RootTarget } from "../../src/targets/root.js";
import { koffer, repoRoot } from "../helpers/cli.js";
import { makeLuksImage, type TokenSpec } from "../helpers/luks.js";
import { makeProfile } from "../helpers/profile.js";
import { buildRoot } from "../helpers/root-tree.js";

const now = new Date("2026-12-01T12:00:00Z");
const profile = makeProfile();
const firstBootPaths = [
  managedPath.tpm2EnrolScript,
  managedPath.tpm2EnrolUnit,
  managedPath.tpm2EnrolConf,
];

async function image(name: string, tokens: TokenSpec[] = []) {
  const root = await buildRoot({
    packages: [{ name: "systemd" }, { name: "systemd-cryptsetup" }, { name: "cryptsetup" }],
    dirs: ["/etc/systemd/system", "/usr/lib/systemd/system"],
  });
  const luks = await makeLuksImage({
    extraKeyslots: [{ token: { type: "systemd-recovery" } }, ...tokens.map((token) => ({ token }))],
    copyTo: join(root, `..`, `${name}-${Date.now()}.img`),
  });
  await writeFile(
    join(root, "etc/crypttab"),
    `cryptroot UUID=${luks.uuid} none luks,discard,tpm2-device=auto\n`,
  );
  const target = await RootTarget.open({ root, disks: [luks.path] });
  return { root, luks, target };
}

const isFirstBoot = (c: Change) =>
  ("path" in c && firstBootPaths.includes(c.path as (typeof firstBootPaths)[number])) ||
  ("unit" in c && c.unit === "koffer-tpm2-enrol.service");

describe("first-boot TPM2+PIN enrolment: provision and verify of an image", () => {
  it("plans, applies (journal, backups) and re-plans nothing; verify says pending", async () => {
    const { root, luks, target } = await image("pending");
    const facts = await gatherFacts(target, { profile, now });
    const plan = planProvision(profile, facts, { now }).filter(isFirstBoot);
    expect(
      plan.map((c) => `${c.kind} ${"path" in c ? c.path : "unit" in c ? c.unit : ""}`),
    ).toEqual([
      `write-file ${managedPath.tpm2EnrolScript}`,
      `write-file ${managedPath.tpm2EnrolUnit}`,
      `write-file ${managedPath.tpm2EnrolConf}`,
      "enable-unit koffer-tpm2-enrol.service",
    ]);
    expect(plan.every((c) => c.controls.includes("DISK-04"))).toBe(true);
    // No TPM2 enrolment against the build host, and the technician's passphrase slot stays.
    const all = planProvision(profile, facts, { now });
    expect(all.some((c) => c.kind === "tpm2-enrol")).toBe(false);
    expect(all.some((c) => c.kind === "luks-remove-keyslot" && c.keyslot === "0")).toBe(false);

    const report = await applyChanges(target, plan, { now });
    expect(report.failed).toEqual([]);
    expect(report.applied).toBe(4);

    // systemd itself reads the unit without a complaint (it prints unknown keys and bad values).
    const analyze = await execa(
      "systemd-analyze",
      ["verify", join(root, managedPath.tpm2EnrolUnit)],
      { reject: false },
    );
    expect(analyze.stderr.trim()).toBe("");
    const script = await readFile(join(root, managedPath.tpm2EnrolScript), "utf8");
    expect(script).toBe(await readFile(join(repoRoot, "templates/tpm2-enrol.sh"), "utf8"));
    expect((await stat(join(root, managedPath.tpm2EnrolScript))).mode & 0o777).toBe(0o755);
    expect(await readFile(join(root, managedPath.tpm2EnrolConf), "utf8")).toContain(
      `\ncryptroot /dev/disk/by-uuid/${luks.uuid} 7\n`,
    );
    expect(
      await readlink(
        join(root, "etc/systemd/system/multi-user.target.wants/koffer-tpm2-enrol.service"),
      ),
    ).toBe("/etc/systemd/system/koffer-tpm2-enrol.service");
    const journal = parseJournal(
      await readFile(join(root, JOURNAL_DIR, `${report.runId}.jsonl`), "utf8"),
    );
    expect(journal.filter((e) => e.state === "done")).toHaveLength(4);
    // New files: the backup manifest records that they did not exist (rollback removes them).
    const manifest = JSON.parse(await readFile(join(root, manifestPath(report.runId)), "utf8")) as {
      files: { path: string; existed: boolean }[];
    };
    expect(manifest.files).toEqual(firstBootPaths.map((path) => ({ path, existed: false })));

    const after = await gatherFacts(target, { profile, now });
    expect(planProvision(profile, after, { now }).filter(isFirstBoot)).toEqual([]);
    expect(after.services.unitFiles["koffer-tpm2-enrol.service"]).toBe("enabled");

    const result = evaluate(profile, after, { now, lang: "de" });
    const d4 = result.controls.find((c) => c.id === "DISK-04");
    expect(d4?.status).toBe("pending");
    expect(d4?.message).toMatch(
      /^TPM2\+PIN-Registrierung beim ersten Start ausstehend \(Dienst installiert\)/,
    );
    expect(d4?.messages[0]?.text.en).toMatch(
      /^TPM2\+PIN enrolment pending at first boot \(unit installed\)/,
    );
    expect(result.summary.pending).toBe(1);
    expect(result.summary.compliant).toBe(false);
    // The gate: pending fails by default, `--pending=ok` accepts it.
    const onlyPending = {
      ...result,
      controls: result.controls.filter((c) => c.id === "DISK-04"),
    };
    expect(exitCodeFor(onlyPending)).toBe(1);
    expect(exitCodeFor(onlyPending, "low", "ok")).toBe(0);
    expect(exitCodeFor(onlyPending, "critical")).toBe(0);

    // The same through the binary a pipeline runs.
    const cli = await koffer([
      "verify",
      "--profile",
      join(repoRoot, "examples/meerane.yaml"),
      "--root",
      root,
      "--disk",
      luks.path,
      "--format",
      "json",
    ]);
    const json = JSON.parse(cli.stdout) as { controls: { id: string; status: string }[] };
    expect(json.controls.find((c) => c.id === "DISK-04")?.status).toBe("pending");
    const text = await koffer([
      "verify",
      "--profile",
      join(repoRoot, "examples/meerane.yaml"),
      "--root",
      root,
      "--disk",
      luks.path,
      "--lang",
      "en",
    ]);
    expect(text.stdout).toMatch(/^… DISK-04 /m);
    expect(text.stdout).toContain("TPM2+PIN enrolment pending at first boot (unit installed)");

    // The script noted a failure on the device: DISK-04 fails and shows the note.
    await mkdir(join(root, "var/lib/koffer"), { recursive: true });
    await writeFile(
      join(root, "var/lib/koffer/tpm2-enrol.failed"),
      "2026-12-01T08:00:00Z cryptroot: Passphrase dreimal falsch/passphrase wrong three times\n",
    );
    const failed = await gatherFacts(target, { profile, now });
    const findings = disk04.evaluate(profile, failed, { now });
    expect(findings.map((f) => [f.status, f.messageId])).toEqual([["fail", "firstBootFailed"]]);
    expect(findings[0]?.evidence?.[1]?.source).toBe("/var/lib/koffer/tpm2-enrol.failed");
  }, 120_000);

  it("unit installed but disabled, or the volume missing from its config: fail, not pending", async () => {
    const { root, target } = await image("incomplete");
    const facts = await gatherFacts(target, { profile, now });
    const plan = planProvision(profile, facts, { now }).filter(isFirstBoot);
    await applyChanges(target, plan, { now });
    await execa("systemctl", [`--root=${root}`, "disable", "koffer-tpm2-enrol.service"], {
      env: { SYSTEMCTL_SKIP_SYSV: "1" },
    });
    const findings = disk04.evaluate(profile, await gatherFacts(target, { profile, now }), {
      now,
    });
    expect(findings.map((f) => [f.status, f.messageId])).toEqual([["fail", "firstBootIncomplete"]]);
    expect(String(findings[0]?.data?.missing)).toContain("koffer-tpm2-enrol.service disabled");
    // Planning again re-enables it.
    const again = planProvision(profile, await gatherFacts(target, { profile, now }), { now });
    expect(again.filter(isFirstBoot).map((c) => c.kind)).toEqual(["enable-unit"]);
  }, 120_000);

  it("unit installed and the volume already has a TPM2+PIN token: DISK-04 passes, nothing planned", async () => {
    const { target, root } = await image("enrolled");
    await applyChanges(
      target,
      planProvision(profile, await gatherFacts(target, { profile, now }), { now }).filter(
        isFirstBoot,
      ),
      { now },
    );
    // The device enrolled at first boot: a TPM2+PIN token bound to PCR 7 in the header.
    const enrolled = await image("enrolled-token", [
      { type: "systemd-tpm2", pin: true, pcrs: [7] },
    ]);
    const target2 = await RootTarget.open({ root, disks: [enrolled.luks.path] });
    await writeFile(
      join(root, "etc/crypttab"),
      `cryptroot UUID=${enrolled.luks.uuid} none luks,discard,tpm2-device=auto\n`,
    );
    const facts = await gatherFacts(target2, { profile, now });
    expect(facts.disk.firstBootEnrol?.script).toBe(managedPath.tpm2EnrolScript);
    const findings = disk04.evaluate(profile, facts, { now });
    expect(findings.map((f) => [f.status, f.messageId])).toEqual([["pass", "ok"]]);
    expect(planProvision(profile, facts, { now }).filter(isFirstBoot)).toEqual([]);
    expect(await readdir(join(root, "etc/systemd/system"))).toContain("koffer-tpm2-enrol.service");
  }, 120_000);
});
