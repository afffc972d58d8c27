import { existsSync, readdirSync, readFileSync } from "node:fs";
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
  it("declares every fact area a control reads (a failed gatherer then makes it error, not pass)", () => {
    const helpers: [RegExp, string][] = [
      [/\b(installed|presentPackage)\(/, "apps"],
      [/\bunitState\(/, "services"],
      [/\b(fstabMount|noVolumesFinding|onCryptMapping)\(/, "disk"],
      [/\bvpnClientCertificates\(/, "vpn"],
    ];
    const missing: string[] = [];
    for (const control of controls) {
      const text = readFileSync(`${checksDir}${control.meta.id.toLowerCase()}.ts`, "utf8");
      const read = new Set(
        [
          ...text.matchAll(
            /\bfacts\.(disk|boot|vpn|usb|apps|services|accounts|network|updates|logging|data)\b/g,
          ),
        ].map((m) => m[1] as string),
      );
      for (const [re, area] of helpers) if (re.test(text)) read.add(area);
      for (const area of read)
        if (!(control.meta.facts as readonly string[]).includes(area))
          missing.push(`${control.meta.id} reads ${area}`);
    }
    expect(missing).toEqual([]);
  });
});
