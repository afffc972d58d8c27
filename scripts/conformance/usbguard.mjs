// koffer's USBGuard rule parser against the upstream test rules (ORACLES/usbguard):
// - test-rules.good: every line accepted, canonical form identical to the 2nd column of
//   test-rules.good.canonical-usbguard-1.1.2.tsv (usbguard-rule-parser 1.1.2 output; a
//   comment-only line prints as an empty string);
// - test-rules.bad: every line refused;
// - test-rules.file: parsed as a rules file; compared line by line with usbguard-rule-parser
//   when it is installed (1.1.2 refuses the last line, which is indented).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { formatRule, parseRuleLine, parseRulesFile } from "../../dist/facts/usbguard-rules.js";

const lines = (text) => {
  const all = text.split("\n");
  if (all.at(-1) === "") all.pop();
  return all;
};

function koffer(line) {
  try {
    const rule = parseRuleLine(line);
    return { ok: true, canonical: rule === null ? "" : formatRule(rule) };
  } catch (error) {
    return { ok: false, message: error.message, column: error.column };
  }
}

/** usbguard-rule-parser's verdict on one line, or undefined when it is not installed. */
function usbguard(line) {
  try {
    const out = execFileSync("usbguard-rule-parser", [line], {
      encoding: "latin1",
      stdio: ["ignore", "pipe", "pipe"],
    });
    const output = out.split("\n").find((l) => l.startsWith("OUTPUT: "));
    return { ok: true, canonical: output === undefined ? "" : output.slice(8) };
  } catch (error) {
    if (error.code === "ENOENT") return undefined;
    return { ok: false };
  }
}

export async function run(oraclesDir) {
  const dir = join(oraclesDir, "usbguard");
  const out = [];
  let passed = 0;
  let total = 0;

  // good: accepted with the identical canonical form
  const tsv = lines(
    readFileSync(join(dir, "test-rules.good.canonical-usbguard-1.1.2.tsv"), "utf8"),
  );
  const good = lines(readFileSync(join(dir, "test-rules.good"), "utf8"));
  const expected = new Map(
    tsv.slice(1).map((row) => {
      const tab = row.indexOf("\t");
      return [row.slice(0, tab), row.slice(tab + 1)];
    }),
  );
  let goodPassed = 0;
  for (const line of good) {
    const result = koffer(line);
    const want = expected.get(line);
    if (result.ok && result.canonical === want) goodPassed++;
    else if (!result.ok) out.push(`  good, refused: ${line}\n    ${result.message}`);
    else
      out.push(
        `  good, different: ${line}\n    koffer:   ${result.canonical}\n    usbguard: ${want}`,
      );
  }
  out.push(
    `usbguard good rules accepted with identical canonical form: ${goodPassed}/${good.length}`,
  );
  passed += goodPassed;
  total += good.length;

  // bad: refused, with a message
  const bad = lines(readFileSync(join(dir, "test-rules.bad"), "utf8"));
  let badPassed = 0;
  for (const line of bad) {
    const result = koffer(line);
    if (!result.ok && /^Expected .+, found .+/.test(result.message)) badPassed++;
    else out.push(`  bad, accepted: ${JSON.stringify(line)} → ${result.canonical}`);
  }
  out.push(`usbguard bad rules refused: ${badPassed}/${bad.length}`);
  passed += badPassed;
  total += bad.length;

  // file: koffer's file parser line by line against usbguard-rule-parser on the same lines
  const fileText = readFileSync(join(dir, "test-rules.file"), "utf8");
  const parsed = parseRulesFile(fileText, "test-rules.file");
  const fileLines = lines(fileText);
  const byLine = new Map(parsed.rules.map((r) => [r.line, formatRule(r.rule)]));
  const errorLines = new Map(parsed.errors.map((e) => [e.line, e]));
  let filePassed = 0;
  let compared = 0;
  for (const [index, line] of fileLines.entries()) {
    if (line === "") continue; // the daemon skips empty lines; the tool has nothing to print
    const theirs = usbguard(line);
    if (theirs === undefined) break;
    compared++;
    const n = index + 1;
    const ours = errorLines.has(n) ? { ok: false } : { ok: true, canonical: byLine.get(n) ?? "" };
    if (ours.ok === theirs.ok && (!ours.ok || ours.canonical === theirs.canonical)) filePassed++;
    else
      out.push(
        `  test-rules.file:${n}: koffer ${JSON.stringify(ours)} usbguard ${JSON.stringify(theirs)}`,
      );
  }
  for (const e of parsed.errors) out.push(`  test-rules.file:${e.line}:${e.column}: ${e.message}`);
  if (compared > 0) {
    out.push(
      `usbguard test-rules.file lines agreeing with usbguard-rule-parser 1.1.2: ${filePassed}/${compared} (${parsed.rules.length} rules, ${parsed.errors.length} refused)`,
    );
    passed += filePassed;
    total += compared;
  } else {
    out.push(
      `usbguard test-rules.file: ${parsed.rules.length} rules, ${parsed.errors.length} refused (usbguard-rule-parser not installed, not compared)`,
    );
  }

  return {
    passed,
    total,
    ok: passed === total,
    target: `${good.length}/${good.length} good, ${bad.length}/${bad.length} bad`,
    lines: out,
  };
}
