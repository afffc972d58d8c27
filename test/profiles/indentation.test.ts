import { describe, expect, it } from "vitest";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { parseDocument } from "yaml";
import { findMisindentedKey } from "../../src/profiles/indentation.js";
import { repoRoot } from "../helpers/cli.js";

const profiles = [
  ...readdirSync(path.join(repoRoot, "examples"))
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => path.join(repoRoot, "examples", f)),
  path.join(repoRoot, "test/fixtures/profiles/valid/town.yaml"),
];
/** Two profiles for the mutations keep the test quick (yaml parses each mutant). */
const mutated = profiles.filter((f) => /(meerane|town)\.yaml$/.test(f));

/** Every key line of every profile moved by ±1 and ±2 columns, where yaml then refuses the file. */
function mutations() {
  const out: { file: string; line: number; text: string }[] = [];
  for (const file of mutated) {
    const lines = readFileSync(file, "utf8").split("\n");
    lines.forEach((l, i) => {
      if (!/^\s*[A-Za-z][\w-]*:/.test(l)) return;
      const indent = l.length - l.trimStart().length;
      for (const d of [1, -1, 2, -2]) {
        if (indent + d < 0) continue;
        const copy = [...lines];
        copy[i] = " ".repeat(indent + d) + l.trimStart();
        const text = copy.join("\n");
        if (parseDocument(text).errors.length > 0) out.push({ file, line: i + 1, text });
      }
    });
  }
  return out;
}

describe("findMisindentedKey", () => {
  it("finds nothing in valid profiles", () => {
    for (const file of profiles)
      expect(findMisindentedKey(readFileSync(file, "utf8"))).toBe(undefined);
  });

  it("names the moved line itself for most one-line indentation mistakes", () => {
    const all = mutations();
    expect(all.length).toBeGreaterThan(150);
    const exact = all.filter((m) => findMisindentedKey(m.text)?.line === m.line).length;
    // Measured 218 of 263: the rest move a parent key (its children then disagree with it) or
    // leave two lines equally likely; yaml's own errors or another single line are reported.
    expect(exact / all.length).toBeGreaterThan(0.8);
  });

  it("skips block scalars, flow collections and plain-scalar continuations", () => {
    const text = [
      "a:",
      "  b: |",
      "      free: text",
      "    more",
      "  c: {x: 1,",
      "        y: 2}",
      "  d: long plain",
      "     continued",
      "  e:",
      "  - item",
      "   f: 1",
    ].join("\n");
    expect(findMisindentedKey(text)).toEqual({
      line: 11,
      column: 4,
      message: 'Expected "f" at column 5 or column 3 like the keys beside it, found column 4',
    });
  });
});
