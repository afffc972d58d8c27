// Cold start of `koffer --version` and `koffer --help` as a ratio to `node -e 0`,
// measured in the same run (median of 30 interleaved runs each). Target: ≤ 1.6×.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const bin = fileURLToPath(new URL("../bin/koffer.js", import.meta.url));
const runs = Number(process.env.RUNS ?? 30);
const cases = {
  "node -e 0": ["-e", "0"],
  "koffer --version": [bin, "--version"],
  "koffer --help": [bin, "--help"],
};
const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));

for (let i = 0; i < runs + 2; i++) {
  for (const [name, args] of Object.entries(cases)) {
    const started = process.hrtime.bigint();
    const result = spawnSync(process.execPath, args, { stdio: "ignore" });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (result.status !== 0) throw new Error(`${name} exited ${result.status}`);
    if (i >= 2) times[name].push(ms); // the first two rounds warm the file cache
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = median(times["node -e 0"]);
let ok = true;
for (const [name, xs] of Object.entries(times)) {
  const m = median(xs);
  const ratio = m / base;
  if (name !== "node -e 0" && ratio > 1.6) ok = false;
  console.log(
    `${name.padEnd(18)} median ${m.toFixed(1).padStart(6)} ms  ratio ${ratio.toFixed(2)}×`,
  );
}
console.log(ok ? "cold start within 1.6× of node -e 0" : "cold start ABOVE the 1.6× target");
