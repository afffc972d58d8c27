import { existsSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { controls } from "../../src/checks/index.js";
import { controlIds } from "../../src/profiles/control-ids.js";
import { catalogue } from "./catalogue.js";

const checksDir = fileURLToPath(new URL("../../src/checks/", import.meta.url));
const testsDir = fileURLToPath(new URL("./", import.meta.url));

describe("the control registry", () => {
  const ids = controls.map((c) => c.meta.id);
  it("equals the catalogue of CONTROLS.md, in order", () => {
    expect(ids).toEqual(catalogue.map((r) => r.id));
    expect(ids).toHaveLength(50);
  });
  it("equals the ids the profile loader knows", () => {
    expect(ids).toEqual([...controlIds]);
  });
  it("equals the directory: one file per control", () => {
    const files = readdirSync(checksDir)
      .filter((f) => f.endsWith(".ts") && !["index.ts", "types.ts", "util.ts"].includes(f))
      .map((f) => f.replace(/\.ts$/, "").toUpperCase())
      .sort();
    expect(files).toEqual([...ids].sort());
  });
  it("has a test file for every control", () => {
    for (const id of ids)
      expect(existsSync(`${testsDir}${id.toLowerCase()}.test.ts`), id).toBe(true);
  });
});
