#!/usr/bin/env node
// Measures koffer against the upstream conformance material in ../shared/oracles.
// Each suite is a module in this folder exporting `run(oraclesDir) → { passed, total, ok, target?, lines }`.
// Usage: npm run conformance [-- ORACLES_DIR] [SUITE…]
import { readdirSync } from "node:fs";
import { resolve } from "node:path";

const [oraclesArg = "../shared/oracles", ...only] = process.argv.slice(2);
const oracles = resolve(oraclesArg);
const here = new URL(".", import.meta.url);
const suites = readdirSync(here)
  .filter((f) => f.endsWith(".mjs") && f !== "run.mjs")
  .map((f) => f.replace(/\.mjs$/, ""))
  .filter((name) => only.length === 0 || only.includes(name));

let failed = 0;
for (const name of suites) {
  const { run } = await import(new URL(`${name}.mjs`, here));
  const outcome = await run(oracles);
  for (const line of outcome.lines) console.log(line);
  console.log(
    `${name}: ${outcome.passed}/${outcome.total}${outcome.target ? ` (target ${outcome.target})` : ""}`,
  );
  if (outcome.ok === false) failed++;
}
process.exitCode = failed === 0 ? 0 : 1;
