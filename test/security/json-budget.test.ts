/**
 * Saved results and facts are untrusted: a 2 MB result of nested arrays made `report render`
 * take 16 s and 1.2 GB before it was refused; a 2 MB array of a million wrong values as long.
 * The one reader (src/json-input.ts) now checks size and depth before parsing, validates a
 * large document only up to its first problem and places problems without building a tree:
 * exit 78 with FILE:LINE:COLUMN, in bounded time and memory.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { offsetOf } from "../../src/json-input.js";
import { koffer, repoRoot } from "../helpers/cli.js";
import { treeSnapshot } from "./guard.js";

let dir: string;
let fixture: Record<string, unknown> & { controls: { evidence: unknown[] }[] };
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "koffer-json-budget-"));
  fixture = JSON.parse(
    await readFile(join(repoRoot, "test/fixtures/reports/non-compliant.en.json"), "utf8"),
  );
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

/** Line and column (1-based) of the first occurrence of `needle` in `text`, plus `extra` columns. */
function where(text: string, needle: string, extra = 0): string {
  const offset = text.indexOf(needle) + extra;
  const before = text.slice(0, offset);
  return `${before.split("\n").length}:${offset - before.lastIndexOf("\n")}`;
}

describe("untrusted JSON within budgets", () => {
  it("security: a 2 MB deeply nested result is refused at the first bracket too deep (exit 78)", async () => {
    const depth = 1_000_000;
    const text = JSON.stringify({ ...fixture, padding: "@" }, null, 2).replace(
      '"@"',
      "[".repeat(depth) + "]".repeat(depth),
    );
    const file = join(dir, "nested.json");
    await writeFile(file, text);
    const before = await treeSnapshot(dir);
    const started = Date.now();
    const run = await koffer(["report", "render", file]);
    expect(Date.now() - started).toBeLessThan(15_000); // was 16-18 s and 1.2 GB
    expect(run.exitCode).toBe(78);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain(
      // the outer object is level 1, so the 64th bracket of the padding is level 65
      `${file}:${where(text, '"padding": [', 11 + 63)}: Expected at most 64 levels of nesting, found more (at /)`,
    );
    expect(await treeSnapshot(dir)).toEqual(before);
  });

  it("security: a result with a 2 MB array of a million wrong values is refused quickly (exit 78)", async () => {
    const result = structuredClone(fixture);
    result.controls[0]!.evidence = new Array(1_000_000).fill(0);
    const text = JSON.stringify(result);
    expect(text.length).toBeGreaterThan(2_000_000);
    const file = join(dir, "array.json");
    await writeFile(file, text);
    const started = Date.now();
    const run = await koffer(["report", "render", file]);
    expect(Date.now() - started).toBeLessThan(15_000); // was 65 s and 1.2 GB
    expect(run.exitCode).toBe(78);
    expect(run.stderr).toContain(
      `${file}:${where(text, '"evidence":[0', 12)}: Expected a mapping, found 0 (at /controls/0/evidence/0)`,
    );
  });

  it("security: many wrong values in a small result are reported, at most 100 placed", async () => {
    const result = structuredClone(fixture);
    result.controls[0]!.evidence = new Array(5000).fill(0);
    const file = join(dir, "many.json");
    await writeFile(file, JSON.stringify(result, null, 1));
    const run = await koffer(["report", "render", file]);
    expect(run.exitCode).toBe(78);
    expect(run.stderr.match(/Expected a mapping, found 0/g)).toHaveLength(100);
    expect(run.stderr).toContain("Expected a valid result, found 4900 more problems (at /)");
  });

  it("security: a result file over 64 MiB is refused before it is read (exit 78)", async () => {
    const file = join(dir, "huge.json");
    await writeFile(file, "");
    await truncate(file, 65 * 1024 * 1024);
    const run = await koffer(["report", "render", file]);
    expect(run.exitCode).toBe(78);
    expect(run.stderr).toContain(`${file}: not read: expected at most 67108864 bytes, found`);
  });

  it("security: deeply nested facts are refused by verify --facts (exit 78)", async () => {
    const file = join(dir, "facts.json");
    await writeFile(file, `{"schema":"koffer/facts/v1","x":${"[".repeat(100)}${"]".repeat(100)}}`);
    const run = await koffer([
      "verify",
      "--facts",
      file,
      "--profile",
      join(repoRoot, "examples/meerane.yaml"),
    ]);
    expect(run.exitCode).toBe(78);
    expect(run.stderr).toContain(
      `${file}:1:${32 + 63 + 1}: Expected at most 64 levels of nesting, found more (at /)`,
    );
  });

  it("security: report merge skips a deeply nested result instead of parsing it", async () => {
    const good = join(dir, "merge-good.json");
    const bad = join(dir, "merge-bad.json");
    await writeFile(good, JSON.stringify(fixture));
    await writeFile(bad, `${"[".repeat(100_000)}${"]".repeat(100_000)}`);
    const out = join(dir, "fleet");
    const run = await koffer(["report", "merge", good, bad, "--out-dir", out]);
    expect(run.stderr).toContain(`koffer: skipped ${bad}: ${bad}: result is nested too deeply`);
    expect(run.exitCode).toBe(0);
  });

  it("security: problems are placed by a one-pass locator, keys and values alike", () => {
    const text = '{\n  "a": [1, {"b": "x\\"]"}, 3],\n  "c": {"d": null}\n}';
    expect(offsetOf(text, ["a", 1, "b"], false)).toBe(text.indexOf('"x'));
    expect(offsetOf(text, ["a", 1, "b"], true)).toBe(text.indexOf('"b"'));
    expect(offsetOf(text, ["a", 2], false)).toBe(text.indexOf("3]"));
    expect(offsetOf(text, ["c", "d"], false)).toBe(text.indexOf("null"));
    expect(offsetOf(text, ["c", "missing"], false)).toBe(text.indexOf('{"d"'));
  });
});
