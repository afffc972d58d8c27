import { afterAll, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { koffer, kofferBin, repoRoot } from "../helpers/cli.js";

const scratch = mkdtempSync(path.join(tmpdir(), "koffer-init-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const examples = ["feldberger-seenlandschaft", "limbach-oberfrohna", "meerane", "schkeuditz"].map(
  (n) => `examples/${n}.yaml`,
);

describe("koffer validate", () => {
  it("accepts every example: exit 0, one ok line per file", async () => {
    const run = await koffer(["validate", ...examples]);
    expect(run).toMatchObject({ exitCode: 0, stderr: "" });
    expect(run.stdout).toBe(examples.map((f) => `${f}: ok\n`).join(""));
  });

  it("prints warnings but exits 0 when a profile has only warnings", async () => {
    const file = "test/fixtures/profiles/valid/town.yaml";
    const run = await koffer(["validate", file, "--now", "2026-06-01T00:00:00Z"]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toBe(`${file}: ok\n`);
    expect(run.stderr).toBe(
      `${file}:19:123: warning: Expected a waiver that has not expired, found "BOOT-01" expired on 2025-12-31 (the control counts as failing) (at /waivers/1/expires) [waiver/expired]\n`,
    );
  });

  it("--format json reports every file for CI", async () => {
    const broken = "test/fixtures/profiles/broken/ssh-denied.yaml";
    const run = await koffer(["validate", "--format", "json", examples[0]!, broken]);
    expect(run.exitCode).toBe(78);
    const report = JSON.parse(run.stdout) as {
      files: { file: string; valid: boolean; problems: { rule: string; position: object }[] }[];
    };
    expect(report.files.map((f) => [f.file, f.valid])).toEqual([
      [examples[0], true],
      [broken, false],
    ]);
    expect(report.files[1]!.problems).toMatchObject([
      {
        rule: "contradiction/ssh-denied",
        severity: "error",
        path: "/spec/network/ssh",
        // Line 10: the fixture gained `apps.deny: [openssh-server]` (the baseline no longer
        // denies it) and a listen address, so `ssh: true` moved down two lines.
        position: { file: broken, line: 10, column: 10 },
      },
    ]);
  });

  it("needs at least one file (usage, exit 64)", async () => {
    expect((await koffer(["validate"])).exitCode).toBe(64);
  });
});

describe("koffer schema", () => {
  it("prints the published schema", async () => {
    const run = await koffer(["schema"]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toBe(
      readFileSync(path.join(repoRoot, "schema/profile.schema.json"), "utf8"),
    );
    expect(JSON.parse(run.stdout)).toMatchObject({
      $schema: "https://json-schema.org/draft/2020-12/schema",
    });
  });
});

describe("koffer init", () => {
  it("scaffolds a profile from flags that koffer validate accepts", async () => {
    const out = path.join(scratch, "muster", "musterstadt.yaml");
    const run = await koffer([
      "init",
      "--name",
      "musterstadt",
      "--controller",
      "Stadt Musterstadt, Sachsen",
      "--processor",
      "KISA",
      "--gateway",
      "vpn.musterstadt.example",
      "--device",
      "cyberjack-rfid-komfort",
      "--device",
      "crossmatch",
      "--device",
      "signotec-omega",
      "--out",
      out,
    ]);
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(0);
    const text = readFileSync(out, "utf8");
    expect(text).toContain(
      'gatewayId: "CN=vpn.musterstadt.example, O=Stadt Musterstadt\\\\, Sachsen, C=DE"',
    );
    expect(text).toContain('usb: ["080b:0010", "080b:0002"]');
    const validate = await koffer(["validate", out]);
    expect(validate).toMatchObject({ exitCode: 0, stdout: `${out}: ok\n` });
  });

  it("refuses to overwrite without --force, and overwrites with it", async () => {
    const out = path.join(scratch, "exists.yaml");
    writeFileSync(out, "keep me\n");
    const args = ["init", "--name", "exists", "--controller", "Gemeinde X", "--out", out];
    const refused = await koffer(args);
    expect(refused.exitCode).toBe(64);
    expect(readFileSync(out, "utf8")).toBe("keep me\n");
    expect((await koffer([...args, "--force"])).exitCode).toBe(0);
    expect(readFileSync(out, "utf8")).toContain('name: "exists"');
  });

  it("names every bad flag at once (exit 64)", async () => {
    const run = await koffer([
      "init",
      "--name",
      "Bad Name",
      "--device",
      "toaster",
      "--out",
      path.join(scratch, "x.yaml"),
    ]);
    expect(run.exitCode).toBe(64);
    expect(run.stderr).toContain("Expected --controller");
    expect(run.stderr).toContain('found "Bad Name"');
    expect(run.stderr).toContain('found "toaster"');
  });
});

describe("start-up", () => {
  it("--help and --version load none of execa, ora, ajv, node-forge, yaml, chalk", async () => {
    const { execa } = await import("execa");
    const hook = path.join(repoRoot, "test/fixtures/profiles/forbid-heavy-modules.mjs");
    const run = (args: string[]) =>
      execa(process.execPath, ["--import", hook, kofferBin, ...args], {
        reject: false,
        cwd: repoRoot,
      });
    for (const args of [["--help"], ["--version"], ["validate", "--help"]]) {
      const result = await run(args);
      expect(result.stderr, args.join(" ")).toBe("");
      expect(result.exitCode).toBe(0);
    }
    // The hook does bite: validating needs yaml and ajv.
    const validate = await run(["validate", "examples/meerane.yaml"]);
    expect(validate.exitCode).not.toBe(0);
    expect(validate.stderr).toContain("heavy module loaded at start-up");
  });
});
