// Parsing speed: koffer's USBGuard rule parser and printer against usbguard-rule-parser 1.1.2
// (the C++ PEGTL parser) on the same 10,000-rule file, measured in the same run.
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { formatRule, parseRule, parseRulesFile } from "../dist/facts/usbguard-rules.js";

const RULES = 10_000;
const lines = [];
for (let i = 0; i < RULES; i++) {
  const hex = (i % 65536).toString(16).padStart(4, "0");
  lines.push(
    `allow id ${hex}:* serial "SN${i}" name "Device \\"${i}\\"" hash "${"h".repeat(44)}" via-port one-of { "1-${i % 8}" "2-1" } with-interface { 03:01:01 0b:*:* } if !localtime(08:00-17:00)`,
  );
}
const text = lines.join("\n") + "\n";
const file = join(mkdtempSync(join(tmpdir(), "koffer-bench-usbguard-")), "rules.conf");
writeFileSync(file, text);

function time(fn, runs) {
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    fn();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

let printed = 0;
const koffer = time(() => {
  const parsed = parseRulesFile(text, "rules.conf");
  if (parsed.errors.length > 0) throw new Error(parsed.errors[0].message);
  printed = parsed.rules.map((r) => formatRule(r.rule)).length;
}, 7);

let baseline;
try {
  baseline = time(() => {
    execFileSync("usbguard-rule-parser", ["-f", file], {
      stdio: ["ignore", "ignore", "inherit"],
      maxBuffer: 1 << 28,
    });
  }, 3);
} catch (error) {
  console.log(`usbguard-rule-parser not available (${error.code ?? error.message}); koffer only`);
}

console.log(`koffer parse + print, ${printed} rules: ${koffer.toFixed(1)} ms (median of 7)`);
if (baseline !== undefined) {
  console.log(
    `usbguard-rule-parser -f, ${RULES} rules: ${baseline.toFixed(1)} ms (median of 3, includes process start)`,
  );
  console.log(`ratio usbguard/koffer: ${(baseline / koffer).toFixed(2)}x`);
}

// Pathological input must stay linear (the test suite checks only that it is rejected).
const pathological = time(() => {
  for (const line of [
    'allow name "' + "\\\\".repeat(200_000),
    "allow" + " \t".repeat(200_000) + "x",
  ])
    try {
      parseRule(line);
      throw new Error("pathological rule accepted");
    } catch (error) {
      if (error.message === "pathological rule accepted") throw error;
    }
}, 3);
console.log(
  `koffer rejects two 400,000-character pathological rules: ${pathological.toFixed(1)} ms (median of 3)`,
);
