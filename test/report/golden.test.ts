/**
 * Golden files for every renderer × scenario × language (STYLE.md §9).
 * Update with `UPDATE_GOLDEN=1 npx vitest run test/report/golden.test.ts`, then review the diff.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { formatExtension, formats, render } from "../../src/report/render/index.js";
import { sampleResult, type Scenario } from "../helpers/result.js";

const dir = fileURLToPath(new URL("../fixtures/reports/", import.meta.url));
const update = process.env.UPDATE_GOLDEN === "1";
const scenarios: Scenario[] = ["compliant", "non-compliant", "pending"];
const source = { sha256: "0".repeat(64), signature: { status: "unsigned" as const } };

describe("golden files", () => {
  for (const scenario of scenarios)
    for (const lang of ["de", "en"] as const)
      for (const format of formats) {
        const name = `${scenario}.${lang}.${formatExtension[format]}`;
        it(name, () => {
          const out = render(sampleResult(scenario, lang), format, { lang, source });
          const file = dir + name;
          if (update || !existsSync(file)) {
            mkdirSync(dir, { recursive: true });
            writeFileSync(file, out);
            if (!update) throw new Error(`golden file ${name} was missing and has been written`);
          }
          expect(out).toBe(readFileSync(file, "utf8"));
        });
      }
});
