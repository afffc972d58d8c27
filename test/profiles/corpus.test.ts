import { describe, expect, it } from "vitest";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { formatProblem } from "../../src/errors.js";
import { loadProfile } from "../../src/profiles/loader.js";
import { koffer, repoRoot } from "../helpers/cli.js";

/**
 * The broken-profile corpus: every file beside its `.expected` sidecar holding the exit
 * code and the exact stderr lines. UPDATE_EXPECTED=1 rewrites the sidecars (review the diff).
 */
const dir = "test/fixtures/profiles/broken";
const files = readdirSync(path.join(repoRoot, dir))
  .filter((f) => f.endsWith(".yaml"))
  .sort();
const now = new Date("2026-06-01T12:00:00Z");

function expected(file: string): { exit: number; lines: string[] } {
  const text = readFileSync(path.join(repoRoot, dir, file.replace(/\.yaml$/, ".expected")), "utf8");
  const [head, ...lines] = text.trimEnd().split("\n");
  return { exit: Number(/^exit: (\d+)$/.exec(head!)![1]), lines };
}

describe("broken profile corpus", () => {
  it("has at least 30 broken profiles, each with its expectation", () => {
    expect(files.length).toBeGreaterThanOrEqual(30);
    for (const f of files) {
      if (!process.env.UPDATE_EXPECTED)
        expect(existsSync(path.join(repoRoot, dir, f.replace(/\.yaml$/, ".expected")))).toBe(true);
    }
  });

  for (const file of files) {
    it(file, async () => {
      const rel = `${dir}/${file}`;
      const cwd = process.cwd();
      process.chdir(repoRoot);
      try {
        const result = await loadProfile(rel, { now });
        const lines = result.problems.map(formatProblem);
        const exit = result.profile === null ? 78 : 0;
        if (process.env.UPDATE_EXPECTED) {
          writeFileSync(
            path.join(repoRoot, dir, file.replace(/\.yaml$/, ".expected")),
            `exit: ${exit}\n${lines.join("\n")}\n`,
          );
          return;
        }
        expect({ exit, lines }).toEqual(expected(file));
        expect(exit).toBe(78);
        // Every error names FILE:LINE:COLUMN and a JSON path.
        for (const line of lines) expect(line).toMatch(/^[^:]+\.yaml:\d+:\d+: .+ \(at \/[^)]*\)$/);
      } finally {
        process.chdir(cwd);
      }
    });
  }

  it("koffer validate prints the same lines for the whole corpus in one run and exits 78", async () => {
    // The CLI judges waivers at the real time; the corpus's only date-dependent line
    // is an expiry in 2020, which stays expired.
    const run = await koffer(["validate", ...files.map((f) => `${dir}/${f}`)]);
    expect(run.exitCode).toBe(78);
    expect(run.stdout).toBe("");
    const lines = run.stderr.trimEnd().split("\n");
    // Each line ends with the id of the rule that found it (README: "each with its rule id").
    for (const line of lines) expect(line).toMatch(/ \[[a-z0-9]+(?:[/-][a-z0-9]+)*\]$/);
    expect(lines.map((l) => l.replace(/ \[[^\]]+\]$/, ""))).toEqual(
      files.flatMap((f) => expected(f).lines),
    );
  });
});
