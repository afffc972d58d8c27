import { execa } from "execa";
import { readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../helpers/cli.js";

/** Run vitest on the guard's fixture as CI runs the suite, in fixture mode `mode`. */
async function fixtureRun(mode: "leak" | "clean") {
  const vitest = `${repoRoot}node_modules/vitest/vitest.mjs`;
  return execa(
    process.execPath,
    [vitest, "run", "--config", "test/fixtures/tmp-guard/vitest.config.ts"],
    {
      cwd: repoRoot,
      reject: false,
      env: { KOFFER_FIXTURE_MODE: mode, NO_COLOR: "1", CI: "1" },
      all: true,
      timeout: 120_000,
    },
  );
}

describe("the /tmp leak guard", () => {
  it("runs this test in a TMPDIR of its own", () => {
    expect(tmpdir()).toMatch(/\/vitest-koffer-run-[^/]+$/);
  });

  it("fails the run naming the koffer-* entry a test left behind, and removes it", async () => {
    const before = readdirSync(tmpdir());
    const run = await fixtureRun("leak");
    expect(run.all).toMatch(/tmp guard: tests left 1 temporary entry behind:\n {2}koffer-leak-\w+/);
    expect(run.exitCode).toBe(1);
    expect(readdirSync(tmpdir())).toEqual(before);
  });

  it("passes when every directory is made with tempDir()", async () => {
    const before = readdirSync(tmpdir());
    const run = await fixtureRun("clean");
    expect(run.all).not.toContain("tmp guard");
    expect(run.exitCode).toBe(0);
    expect(readdirSync(tmpdir())).toEqual(before);
  });
});
