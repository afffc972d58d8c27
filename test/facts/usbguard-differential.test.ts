/**
 * koffer's parser and printer against the real thing: Debian 12's usbguard-rule-parser (1.1.2)
 * on thousands of generated rules (seeded, so a failure is reproducible) and on mutations of
 * them. Accepted rules must print byte for byte what usbguard prints; a mutated rule must be
 * refused exactly when usbguard refuses it.
 */
import { describe, expect, it } from "vitest";
import { execa } from "execa";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatRule, parseRuleLine } from "../../src/facts/usbguard-rules.js";
import { tempDir } from "../helpers/tmp.js";

const BINARY = "usbguard-rule-parser";

/** xorshift32: a small seeded generator so every run tests the same rules. */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  const next = (): number => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
  const int = (n: number): number => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const chance = (p: number): boolean => next() < p;
  return { int, pick, chance };
}
type Rng = ReturnType<typeof rng>;

const hexDigits = "0123456789abcdefABCDEF";
const hex = (r: Rng, n: number): string =>
  Array.from({ length: n }, () => r.pick([...hexDigits])).join("");

function stringValue(r: Rng): string {
  const length = r.int(10);
  let out = '"';
  for (let i = 0; i < length; i++) {
    const kind = r.int(12);
    if (kind === 0) out += '\\"';
    else if (kind === 1) out += "\\\\";
    else if (kind === 2) out += "\\x" + hex(r, 2);
    else if (kind === 3) out += r.pick(["é", "ü", "€", "😀", "\t", "ß"]);
    else {
      // printable ASCII except the two that need escaping
      let c = String.fromCharCode(0x20 + r.int(95));
      if (c === '"' || c === "\\") c = "_";
      out += c;
    }
  }
  return out + '"';
}

function deviceId(r: Rng): string {
  const v = r.int(10);
  if (v === 0) return "*:*";
  if (v === 1) return `${hex(r, 4)}:*`;
  return `${hex(r, 4)}:${hex(r, 4)}`;
}

function interfaceType(r: Rng): string {
  const v = r.int(3);
  if (v === 0) return `${hex(r, 2)}:*:*`;
  if (v === 1) return `${hex(r, 2)}:${hex(r, 2)}:*`;
  return `${hex(r, 2)}:${hex(r, 2)}:${hex(r, 2)}`;
}

function condition(r: Rng): string {
  const body = r.pick([
    "true",
    "false",
    "random",
    "random(0.25)",
    "random(1e-3)",
    "localtime(08:00-17:30)",
    "localtime(7:05)",
    "localtime(00:00:10-23:59)",
    "rule-applied",
    "rule-applied(30)",
    "rule-applied(1:00)",
    "rule-evaluated",
    "rule-evaluated(00:10:00)",
    "true(x)",
    `allowed-matches(id ${deviceId(r)})`,
    `allowed-matches(with-interface ${interfaceType(r)})`,
  ]);
  return (r.chance(0.3) ? "!" : "") + body;
}

const blanks = (r: Rng, min: number): string =>
  Array.from({ length: min + r.int(3) }, () => (r.chance(0.8) ? " " : "\t")).join("");

const attributes: [string, (r: Rng) => string][] = [
  ["id", deviceId],
  ["serial", stringValue],
  ["name", stringValue],
  ["hash", stringValue],
  ["parent-hash", stringValue],
  ["via-port", stringValue],
  ["with-interface", interfaceType],
  ["with-connect-type", stringValue],
  ["label", stringValue],
  ["if", condition],
];
const operators = ["all-of", "one-of", "none-of", "equals", "equals-ordered", "match-all"];

function attributeText(r: Rng, keyword: string, value: (r: Rng) => string): string {
  let text = keyword + blanks(r, 1);
  if (r.chance(0.5)) return text + value(r);
  if (r.chance(0.7)) text += r.pick(operators) + blanks(r, 1);
  const values = Array.from({ length: 1 + r.int(4) }, () => value(r));
  return text + "{" + blanks(r, 0) + values.join(blanks(r, 1)) + blanks(r, 0) + "}";
}

function generateRule(r: Rng): string {
  let text = r.pick(["allow", "block", "reject", "match", "device"]);
  if (r.chance(0.2)) text += blanks(r, 1) + deviceId(r);
  const chosen = attributes.filter(([keyword]) => keyword !== "id" || !text.includes(":"));
  const count = r.int(6);
  const used = new Set<string>();
  for (let i = 0; i < count; i++) {
    const [keyword, value] = r.pick(chosen);
    if (used.has(keyword) && keyword !== "label") continue;
    used.add(keyword);
    text += blanks(r, 1) + attributeText(r, keyword, value);
  }
  if (r.chance(0.1)) text += blanks(r, 1) + "# note";
  return text;
}

/** Small edits that often break a rule and sometimes do not. */
function mutate(r: Rng, rule: string): string {
  const at = r.int(rule.length + 1);
  switch (r.int(8)) {
    case 0:
      return rule.slice(0, at) + rule.slice(at + 1);
    case 1:
      return rule.slice(0, at) + r.pick([...' \t"\\{}():*#!-x0Z']) + rule.slice(at);
    case 2:
      return " " + rule;
    case 3:
      return rule + r.pick([" ", "\t", "allow", " #", "block id 1234:5678"]);
    case 4:
      return rule + " " + r.pick(["name", "label", "id", "if"]) + " " + stringValue(r);
    case 5:
      return rule.replace(/ /g, "");
    case 6:
      return (
        rule.slice(0, at) + r.pick(["\\n", "\\x", "\\xZZ", "\\'", "\\0", "\\x7f"]) + rule.slice(at)
      );
    default:
      return rule.slice(0, at) + rule.slice(at).replace(/[0-9a-f]/, r.pick(["*", "g", ""]));
  }
}

function koffer(rule: string): string | null {
  try {
    const parsed = parseRuleLine(rule);
    return parsed === null ? "" : formatRule(parsed);
  } catch {
    return null;
  }
}

/** usbguard-rule-parser's verdict on one rule: its canonical output, or null when refused. */
async function usbguard(rule: string): Promise<string | null> {
  const result = await execa(BINARY, [rule], { reject: false, encoding: "buffer" });
  if (result.exitCode !== 0) return null;
  const lines = Buffer.from(result.stdout).toString("latin1").split("\n");
  const output = lines.find((l) => l.startsWith("OUTPUT: "));
  return output === undefined ? null : output.slice("OUTPUT: ".length);
}

/** koffer's output as the bytes usbguard would print (condition parameters may hold any byte). */
const asBytes = (text: string | null): string | null =>
  text === null ? null : Buffer.from(text, "utf8").toString("latin1");

const available = await execa(BINARY, ["allow"], { reject: false }).then(
  (r) => r.exitCode === 0,
  () => false,
);

describe.skipIf(!available)("differential: koffer vs usbguard-rule-parser 1.1.2", () => {
  it("prints 3,000 generated valid rules byte for byte like usbguard", async () => {
    const r = rng(0x5eed);
    const rules = Array.from({ length: 3000 }, () => generateRule(r));
    // One usbguard process for the whole file: it prints INPUT:/OUTPUT: per line.
    const dir = tempDir("usbguard");
    const file = join(dir, "generated.rules");
    writeFileSync(file, rules.join("\n") + "\n");
    const result = await execa(BINARY, ["-f", file], { reject: false, encoding: "buffer" });
    const stdout = Buffer.from(result.stdout).toString("latin1");
    expect(result.exitCode, Buffer.from(result.stderr).toString()).toBe(0);
    const outputs = stdout
      .split("\n")
      .filter((l) => l.startsWith("OUTPUT: "))
      .map((l) => l.slice("OUTPUT: ".length));
    expect(outputs).toHaveLength(rules.length);
    const mismatches = rules
      .map((rule, i) => ({ rule, ours: asBytes(koffer(rule)), theirs: outputs[i] }))
      .filter((m) => m.ours !== m.theirs);
    expect(mismatches.slice(0, 5)).toEqual([]);
  });

  it("accepts and refuses 300 mutated rules exactly as usbguard does", async () => {
    const r = rng(0xbad5eed);
    const cases = Array.from({ length: 300 }, () => mutate(r, generateRule(r))).filter(
      (rule) => rule !== "",
    );
    const mismatches: { rule: string; ours: string | null; theirs: string | null }[] = [];
    let refused = 0;
    // Two at a time: the machine is shared.
    for (let i = 0; i < cases.length; i += 2) {
      const batch = cases.slice(i, i + 2);
      const theirs = await Promise.all(batch.map((rule) => usbguard(rule)));
      batch.forEach((rule, k) => {
        const ours = asBytes(koffer(rule));
        if (theirs[k] === null) refused++;
        if (ours !== theirs[k]) mismatches.push({ rule, ours, theirs: theirs[k] ?? null });
      });
    }
    expect(mismatches.slice(0, 5)).toEqual([]);
    // The mutations must exercise both sides, or this test proves little.
    expect(refused).toBeGreaterThan(cases.length / 4);
    expect(refused).toBeLessThan(cases.length);
  }, 120_000);
});
