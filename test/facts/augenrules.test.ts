/**
 * /etc/audit/rules.d read as augenrules (audit-userspace init.d/augenrules) reads it:
 * `/bin/ls -1v rules.d | grep '\.rules$'` — GNU ls's version sort (filevercmp, the same in
 * every locale), no dot files (ls without -a) — and, when rules.d exists without a rules file,
 * an audit.rules regenerated with no rules at all (the header line keeps the file non-empty,
 * so augenrules replaces the old audit.rules and loads that).
 */
import { describe, expect, it } from "vitest";
import { execa } from "execa";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { auditGapList } from "../../src/checks/log-01.js";
import { memorySource, type FileSource } from "../../src/facts/parsers/common.js";
import { readAuditRules } from "../../src/facts/parsers/misc-conf.js";
import { hardenedFacts } from "../helpers/facts.js";

const names = [
  "10-base-config.rules",
  "9-a.rules",
  "50.rules",
  "50a.rules",
  "50-Zeta.rules",
  "50-audit.rules",
  "50-x.rules",
  "50_x.rules",
  "50-koffer.rules",
  "50-Local.rules",
  "99-finalize.rules",
  "99.rules",
  "audit.rules",
  "a10.rules",
  "a9.rules",
  "A.rules",
  "z~.rules",
  "z.rules",
  "010-x.rules",
  "10-x.rules",
  "30-stig.rules.rules",
];

describe("augenrules' file order", () => {
  it("is GNU ls -1v's, dot files left out (differential against the host's ls)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "koffer-augenrules-"));
    try {
      for (const n of [...names, ".90-hidden.rules"]) await writeFile(join(dir, n), "");
      const ls = await execa("/bin/ls", ["-1v", dir], { env: { LC_ALL: "C" } });
      const expected = ls.stdout.split("\n").filter((n) => n.endsWith(".rules"));
      const files: Record<string, string> = {};
      for (const n of [...names, ".90-hidden.rules"])
        files[`/etc/audit/rules.d/${n}`] = `-w /x/${n}\n`;
      const rules = await readAuditRules(memorySource(files));
      expect(rules.map((r) => r.source.replace(/^\/etc\/audit\/rules\.d\/(.*):1$/, "$1"))).toEqual(
        expected,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("a never rule in 50-Local.rules comes before 50-koffer.rules (ls -v: 'L' < 'k')", async () => {
    const wanted = hardenedFacts().logging.auditRules.map((r) => r.rule);
    const rules = await readAuditRules(
      memorySource({
        "/etc/audit/rules.d/50-koffer.rules": `${wanted.join("\n")}\n`,
        "/etc/audit/rules.d/50-Local.rules": "-a never,exit -F arch=b64 -S execve\n",
      }),
    );
    expect(auditGapList(rules).map((g) => g.kind)).toContain("privilege");
  });

  it("a rules.d without rules files loads no rules, whatever audit.rules held", async () => {
    const files: Record<string, string> = {
      "/etc/audit/audit.rules": "-w /etc/shadow -p wa\n",
      "/etc/audit/rules.d/README": "rules go here\n",
    };
    expect(await readAuditRules(memorySource(files))).toEqual([]);
    // An empty rules.d (no entry at all) is the same; a missing one leaves audit.rules loaded.
    const emptyDir: FileSource = {
      readText: async (p) => files[p] ?? null,
      readDir: async (p) => (p === "/etc/audit/rules.d" ? [] : null),
    };
    expect(await readAuditRules(emptyDir)).toEqual([]);
    expect(
      await readAuditRules(memorySource({ "/etc/audit/audit.rules": "-w /etc/shadow -p wa\n" })),
    ).toEqual([{ rule: "-w /etc/shadow -p wa", source: "/etc/audit/audit.rules:1" }]);
  });
});

describe("-D in the rules (auditctl: delete all rules, or those with the key of -k)", () => {
  const wanted = hardenedFacts().logging.auditRules.map((r) => r.rule);
  const gapsOf = async (files: Record<string, string>) =>
    auditGapList(await readAuditRules(memorySource(files))).map((g) => g.name);

  it("augenrules moves a plain -D to the front: a later file's -D deletes nothing it loads", async () => {
    expect(
      await gapsOf({
        "/etc/audit/rules.d/10-koffer.rules": `${wanted.join("\n")}\n`,
        "/etc/audit/rules.d/99-x.rules": "-D\n-e 1\n",
      }),
    ).toEqual([]);
  });

  it("-D -k KEY stays in place and deletes the earlier rules with that key", async () => {
    expect(
      await gapsOf({
        "/etc/audit/rules.d/10-koffer.rules": `${wanted.join("\n")}\n`,
        "/etc/audit/rules.d/99-x.rules": "-D -k identity\n",
      }),
    ).toEqual(["/etc/passwd", "/etc/shadow", "/etc/group"]);
  });

  it("audit.rules loaded as it is (no rules.d): a -D after the rules deletes them all", async () => {
    const gaps = await gapsOf({ "/etc/audit/audit.rules": `${wanted.join("\n")}\n-D\n` });
    expect(gaps).toContain("/etc/passwd");
    expect(gaps).toContain("execve euid=0");
  });
});
