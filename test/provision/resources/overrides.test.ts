/**
 * What provision must fix for verify to pass (issue 11, found by test/provision/drift.test.ts
 * on the desktop laptop root): lines of other files that override koffer's own settings, a
 * masked mount unit, other tunnels, a device key others could read, and never rules that
 * silence the audit rules. Planning is judged on literal facts; the disable-lines change is
 * applied to a real tree.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Facts, ManagedFile } from "../../../src/facts/types.js";
import { applyChanges, manifestPath } from "../../../src/provision/apply.js";
import { planProvision } from "../../../src/provision/plan.js";
import type { Change, DisableLinesChange } from "../../../src/provision/types.js";
import { RootTarget } from "../../../src/targets/root.js";
import { hardenedFacts, judgedAt } from "../../helpers/facts.js";
import { makeProfile } from "../../helpers/profile.js";

const now = judgedAt;
const profile = makeProfile();
const present: ManagedFile = { sha256: "0".repeat(64), mode: 0o644, uid: 0, gid: 0 };

const plan = (facts: Facts, options: { canIssue?: boolean } = {}) =>
  planProvision(profile, facts, { now, ...options });
const disabling = (changes: Change[]) =>
  changes.filter((c): c is DisableLinesChange => c.kind === "disable-lines");

describe("lines of other files that override koffer's settings are planned for disabling", () => {
  it("a later sysctl.d file over koffer's own (source chain): that line, nothing else", () => {
    const facts = hardenedFacts();
    facts.data.sysctl["kernel.sysrq"] = {
      value: "1",
      source: "/etc/sysctl.d/95-debug.conf:1",
      chain: [
        { file: "/usr/lib/sysctl.d/50-default.conf", line: 3, value: "438", note: "set" },
        { file: "/etc/sysctl.d/90-koffer.conf", line: 3, value: "0", note: "overrides" },
        { file: "/etc/sysctl.d/95-debug.conf", line: 1, value: "1", note: "overrides" },
      ],
    };
    expect(disabling(plan(facts))).toEqual([
      expect.objectContaining({
        path: "/etc/sysctl.d/95-debug.conf",
        lines: [{ line: 1, key: "kernel.sysrq" }],
        controls: ["BOOT-04"],
        comment: "#",
      }),
    ]);
  });

  it("a vendor default koffer's file is not read after yet: koffer's file decides, the vendor file stays", () => {
    const facts = hardenedFacts();
    facts.data.sysctl["kernel.sysrq"] = {
      value: "438",
      source: "/usr/lib/sysctl.d/50-default.conf:3",
      chain: [{ file: "/usr/lib/sysctl.d/50-default.conf", line: 3, value: "438", note: "set" }],
    };
    const changes = plan(facts);
    expect(disabling(changes)).toEqual([]);
    expect(changes.map((c) => c.kind === "write-file" && c.path)).toContain(
      "/etc/sysctl.d/90-koffer.conf",
    );
  });

  it("settings without a chain: the winning line, once koffer's own file is there", () => {
    const facts = hardenedFacts();
    facts.logging.journald.Storage = {
      value: "volatile",
      source: "/etc/systemd/journald.conf.d/99-volatile.conf:2",
    };
    facts.logging.timesyncd.NTP = {
      value: "pool.ntp.org",
      source: "/etc/systemd/timesyncd.conf.d/99-pool.conf:2",
    };
    facts.updates.aptConf["APT::Periodic::Unattended-Upgrade"] = {
      value: "0",
      source: "/etc/apt/apt.conf.d/99-no-auto:1",
    };
    facts.accounts.pwquality.minlen = {
      value: "6",
      source: "/etc/security/pwquality.conf.d/99-local.conf:1",
    };
    // Without koffer's files on the target, writing them is the fix: nothing is disabled.
    expect(disabling(plan(facts))).toEqual([]);
    facts.managedFiles = Object.fromEntries(
      [
        "/etc/systemd/journald.conf.d/90-koffer.conf",
        "/etc/systemd/timesyncd.conf.d/90-koffer.conf",
        "/etc/apt/apt.conf.d/20auto-upgrades",
        "/etc/security/pwquality.conf.d/90-koffer.conf",
      ].map((p) => [p, present]),
    );
    expect(
      disabling(plan(facts))
        .map((c) => `${c.path} ${c.comment} ${JSON.stringify(c.lines)}`)
        .sort(),
    ).toEqual([
      '/etc/apt/apt.conf.d/99-no-auto // [{"line":1,"key":"APT::Periodic::Unattended-Upgrade"}]',
      '/etc/security/pwquality.conf.d/99-local.conf # [{"line":1,"key":"minlen"}]',
      '/etc/systemd/journald.conf.d/99-volatile.conf # [{"line":2,"key":"Storage"}]',
      '/etc/systemd/timesyncd.conf.d/99-pool.conf # [{"line":2,"key":"NTP"}]',
    ]);
  });

  it("sshd (first match wins): an earlier drop-in allowing passwords", () => {
    const sshProfile = makeProfile({
      spec: { network: { ssh: true, sshListenAddress: "10.8.0.7" } },
    });
    const facts = hardenedFacts();
    facts.network.sshd = {
      passwordauthentication: { value: "yes", source: "/etc/ssh/sshd_config.d/00-admin.conf:1" },
      kbdinteractiveauthentication: {
        value: "no",
        source: "/etc/ssh/sshd_config.d/00-koffer.conf:3",
      },
      permitrootlogin: { value: "no", source: "/etc/ssh/sshd_config.d/00-koffer.conf:4" },
      listenaddress: { value: "10.8.0.7", source: "/etc/ssh/sshd_config.d/00-koffer.conf:8" },
    };
    facts.managedFiles = { "/etc/ssh/sshd_config.d/00-koffer.conf": present };
    expect(disabling(planProvision(sshProfile, facts, { now }))).toEqual([
      expect.objectContaining({
        path: "/etc/ssh/sshd_config.d/00-admin.conf",
        lines: [{ line: 1, key: "passwordauthentication" }],
        controls: ["NET-03"],
      }),
    ]);
  });

  it("audit: a never rule of another file, while koffer's rules are silenced", () => {
    const facts = hardenedFacts();
    facts.logging.auditRules = [
      {
        rule: "-a never,exit -F arch=b64 -S execve",
        source: "/etc/audit/rules.d/10-quiet.rules:1",
      },
      ...facts.logging.auditRules,
    ];
    expect(disabling(plan(facts))).toEqual([
      expect.objectContaining({
        path: "/etc/audit/rules.d/10-quiet.rules",
        lines: [{ line: 1, key: "never" }],
        controls: ["LOG-01"],
      }),
    ]);
  });
});

describe("other fixes the drift test found missing", () => {
  it("a masked mount unit is unmasked (its fstab line never mounts otherwise)", () => {
    const facts = hardenedFacts({ services: { unitFiles: { "var-tmp.mount": "masked" } } });
    expect(plan(facts)).toContainEqual(
      expect.objectContaining({ kind: "unmask-unit", unit: "var-tmp.mount", controls: ["APP-01"] }),
    );
  });

  it("another tunnel's configuration is removed (VPN-01: remove other tunnels)", () => {
    const facts = hardenedFacts({
      vpn: { otherTunnels: [{ type: "wireguard", source: "/etc/wireguard/wg0.conf" }] },
    });
    expect(plan(facts)).toContainEqual(
      expect.objectContaining({
        kind: "remove-file",
        path: "/etc/wireguard/wg0.conf",
        controls: ["VPN-01"],
      }),
    );
  });

  it("a device key others could read gets a new key and certificate (VPN-03)", () => {
    const facts = hardenedFacts();
    const key = facts.vpn.privateKeys[0]!;
    expect(plan(facts, { canIssue: true }).some((c) => c.kind === "vpn-certificate")).toBe(false);
    key.file = { ...key.file, mode: 0o644 };
    expect(plan(facts, { canIssue: true })).toContainEqual(
      expect.objectContaining({ kind: "vpn-certificate", action: "issue" }),
    );
  });
});

describe("disable-lines applied to a tree", () => {
  let dir: string;
  let target: RootTarget;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "koffer-disable-lines-"));
    await mkdir(join(dir, "etc/sysctl.d"), { recursive: true });
    await writeFile(
      join(dir, "etc/sysctl.d/95-debug.conf"),
      "kernel.printk = 4\nkernel.sysrq = 1\n",
      {
        mode: 0o640,
      },
    );
    target = await RootTarget.open({ root: dir });
  });
  afterEach(async () => {
    await target.close();
    await rm(dir, { recursive: true, force: true });
  });
  const change = (line: number, key = "kernel.sysrq"): DisableLinesChange => ({
    kind: "disable-lines",
    resource: "sysctl",
    summary: "test",
    controls: ["BOOT-04"],
    path: "/etc/sysctl.d/95-debug.conf",
    lines: [{ line, key }],
    comment: "#",
  });

  it("comments the line out, keeps the rest and the mode, backs the file up; again: unchanged", async () => {
    const first = await applyChanges(target, [change(2)], { runId: "20260101T000000Z-aaaaaa" });
    expect(first).toMatchObject({ applied: 1, failed: [] });
    expect(await readFile(join(dir, "etc/sysctl.d/95-debug.conf"), "utf8")).toBe(
      "kernel.printk = 4\n# koffer (BOOT-04): kernel.sysrq = 1\n",
    );
    const manifest = JSON.parse(
      await readFile(join(dir, manifestPath("20260101T000000Z-aaaaaa")), "utf8"),
    ) as { files: { path: string; mode: number }[] };
    expect(manifest.files).toEqual([
      expect.objectContaining({ path: "/etc/sysctl.d/95-debug.conf", mode: 0o640 }),
    ]);
    const again = await applyChanges(target, [change(2)]);
    expect(again).toMatchObject({ applied: 0, unchanged: 1, failed: [] });
  });

  it("a line that no longer sets the key is refused and the file stays as it is", async () => {
    const report = await applyChanges(target, [change(1, "fs.suid_dumpable")]);
    expect(report.failed[0]?.message).toMatch(/95-debug\.conf:1 no longer sets fs\.suid_dumpable/);
    expect(await readFile(join(dir, "etc/sysctl.d/95-debug.conf"), "utf8")).toBe(
      "kernel.printk = 4\nkernel.sysrq = 1\n",
    );
  });
});
