#!/usr/bin/env node
// Run every `bench:*` npm script of package.json in sequence (each builds first and
// measures against its own baseline), print their outputs, and exit non-zero when any fails.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("..", import.meta.url));
const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
const only = process.argv.slice(2);
const names = Object.keys(pkg.scripts ?? {})
  .filter((n) => n.startsWith("bench:"))
  .filter((n) => only.length === 0 || only.includes(n) || only.includes(n.slice(6)));

if (names.length === 0) {
  console.error(`no bench:* script matches ${only.join(", ")}`);
  process.exit(64);
}

const outcomes = [];
for (const name of names) {
  console.log(`\n=== ${name}`);
  const t0 = performance.now();
  // stdio inherited: each benchmark prints as it goes (some run for a minute).
  const r = spawnSync("npm", ["run", "--silent", name], { cwd: repo, stdio: "inherit" });
  const seconds = (performance.now() - t0) / 1000;
  const status = r.status ?? (r.signal ? `signal ${r.signal}` : "?");
  outcomes.push({ name, status, seconds });
}
console.log("\n=== summary");
for (const o of outcomes)
  console.log(
    `${o.status === 0 ? "ok  " : "FAIL"} ${o.name} (${o.seconds.toFixed(1)} s)${o.status === 0 ? "" : `: exit ${o.status}`}`,
  );
process.exitCode = outcomes.every((o) => o.status === 0) ? 0 : 1;
