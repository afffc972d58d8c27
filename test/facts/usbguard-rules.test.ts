import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import {
  UsbRuleSyntaxError,
  decodeRuleBytes,
  encodeRuleText,
  formatRule,
  parseRule,
  parseRuleLine,
  parseRulesFile,
  toRuleFact,
  type UsbRule,
} from "../../src/facts/usbguard-rules.js";
import { ExitCode } from "../../src/errors.js";

const canonical = (text: string): string => formatRule(parseRule(text));

function syntaxError(text: string): UsbRuleSyntaxError {
  try {
    parseRule(text);
  } catch (error) {
    if (error instanceof UsbRuleSyntaxError) return error;
    throw error;
  }
  throw new Error(`accepted: ${text}`);
}

describe("parseRule: the model", () => {
  it("reads every attribute kind into typed values", () => {
    const rule = parseRule(
      'allow 0C4B:0500 serial "S1" name one-of { "A" "B" } with-interface { 0B:00:* 03:*:* } if !localtime(08:00-17:00) label "reader"',
    );
    expect(rule).toEqual<UsbRule>({
      target: "allow",
      id: { operator: "equals", values: [{ vendor: "0C4B", product: "0500" }] },
      serial: { operator: "equals", values: ["S1"] },
      name: { operator: "one-of", values: ["A", "B"] },
      withInterface: {
        operator: "equals",
        values: [
          { class: 0x0b, subclass: 0x00, protocol: null },
          { class: 0x03, subclass: null, protocol: null },
        ],
      },
      conditions: {
        operator: "equals",
        values: [{ negated: true, identifier: "localtime", parameter: "08:00-17:00" }],
      },
      label: { operator: "equals", values: ["reader"] },
    });
  });

  it('unescapes \\" \\\\ and \\xHH; UTF-8 bytes become characters', () => {
    const rule = parseRule('block name "a\\"b\\\\c\\x41\\xc3\\xbc"');
    expect(rule.name?.values).toEqual(['a"b\\cAü']);
  });

  it("keeps bytes that are not UTF-8 (surrogate escape) and writes them back unchanged", () => {
    const rule = parseRule('block serial "\\xff\\x00"');
    expect(rule.serial?.values[0]).toBe("\udcff\u0000");
    expect(formatRule(rule)).toBe('block serial "\\xff\\x00"');
    expect(encodeRuleText(decodeRuleBytes(new Uint8Array([0xc3, 0xbc, 0xff, 0x41])))).toBe(
      "\xc3\xbc\xff\x41",
    );
  });
});

describe("formatRule: usbguard 1.1.2's canonical form", () => {
  it.each([
    // attribute order is fixed; a leading device id becomes `id`
    [
      'allow 1234:abCD label "l" with-connect-type "hotplug" if true via-port "1-2" parent-hash "p" hash "h" name "n" serial "s"',
      'allow id 1234:abCD serial "s" name "n" hash "h" parent-hash "p" via-port "1-2" if true with-connect-type "hotplug" label "l"',
    ],
    // a single value loses its braces unless the operator is not `equals`
    ['allow name { "a" }', 'allow name "a"'],
    ['allow name equals { "a" }', 'allow name "a"'],
    ['allow name one-of { "a" }', 'allow name one-of { "a" }'],
    ['allow hash equals {"a"   "b"}', 'allow hash { "a" "b" }'],
    [
      "allow with-interface equals-ordered { 08:*:* }",
      "allow with-interface equals-ordered { 08:*:* }",
    ],
    ["allow id match-all { 1234:* *:* }", "allow id match-all { 1234:* *:* }"],
    // interface types in lower case, device ids as written
    ["allow id DEAD:bEEf with-interface 0A:Bc:dE", "allow id DEAD:bEEf with-interface 0a:bc:de"],
    // strings: only " and \ escaped; everything outside 0x20..0x7e as \xhh (lower case)
    ['allow name "tab\there"', 'allow name "tab\\x09here"'],
    ['allow name "é\\x7F"', 'allow name "\\xc3\\xa9\\x7f"'],
    // conditions: parameters verbatim; true/false drop theirs; rule-evaluated prints as rule-applied
    ["allow if !true(whatever)", "allow if !true"],
    ["allow if rule-evaluated(5)", "allow if rule-applied(5)"],
    [
      "allow if { random( 0.5) localtime(1:00 - 2:00) }",
      "allow if { random( 0.5) localtime(1:00 - 2:00) }",
    ],
    ['allow if allowed-matches(name "x" # y)', 'allow if allowed-matches(name "x" # y)'],
    // comments and blank runs
    ["reject with-interface one-of { e6:*:* } # note", "reject with-interface one-of { e6:*:* }"],
    ['allow\tname  "a"#c', 'allow name "a"'],
    // rules that run together: the later target wins, attributes add up
    ["allowallow", "allow"],
    ["allow id 1111:2222block 1234:5678", "block id 1234:5678"],
    ["allow id one-of { 1111:2222 }block 1234:5678", "block id one-of { 1234:5678 }"],
    // label may repeat (1.1.2 never checks it)
    ['allow label "a" label one-of { "b" }', 'allow label one-of { "a" "b" }'],
    ['allow name ""', 'allow name ""'],
  ])("%s", (input, expected) => {
    expect(canonical(input)).toBe(expected);
  });

  it("is a fixed point: parsing the canonical form gives it back", () => {
    const text =
      'allow id 1d6b:* serial "x\\\\y" name { "a" "b" } via-port one-of { "1-1" "2-1" } with-interface none-of { 08:*:* } if one-of { !true random(0.1) }';
    expect(canonical(text)).toBe(text);
    expect(canonical(canonical(text))).toBe(text);
  });

  it("writes a rule built in code (provisioning) the way the daemon would", () => {
    const rule: UsbRule = {
      target: "allow",
      id: { operator: "equals", values: [{ vendor: "0c4b", product: "0500" }] },
      name: { operator: "equals", values: ['cyberJack "RFID" standard'] },
      withInterface: {
        operator: "equals",
        values: [{ class: 0x0b, subclass: 0, protocol: 0 }],
      },
    };
    expect(formatRule(rule)).toBe(
      'allow id 0c4b:0500 name "cyberJack \\"RFID\\" standard" with-interface 0b:00:00',
    );
  });
});

describe("parseRule: what usbguard 1.1.2 refuses", () => {
  it.each([
    // whitespace around a rule (1.1.2's grammar has none; a comment may be indented)
    [" allow", 1, "a rule target"],
    ["allow ", 6, "the end of the line"],
    ['allow name "a"\t', 15, "the end of the line"],
    ["   ", 1, "a rule target"],
    // Windows line endings
    ["allow\r", 6, "whitespace, a comment or the end of the line"],
    // targets and attributes
    ["allowx", 6, "whitespace, a comment or the end of the line"],
    ["permit", 1, "a rule target (allow, block, reject, match, device) or a comment"],
    ["allow unknown", 7, "a device id (VVVV:PPPP), an attribute"],
    ['allow name "a" serialx "b"', 16, "an attribute"],
    ["allow name", 11, "a value after name"],
    // values
    ["allow id 1234:123", 10, "a device id VVVV:PPPP"],
    ["allow *:1234", 9, "product id * when the vendor id is *"],
    ["allow with-interface 08:*:06", 27, "protocol * when the subclass is *"],
    ["allow with-interface 8:*:*", 22, "an interface type"],
    ['allow name "a', 14, "'\"' to close the string"],
    ['allow name "\\n"', 13, 'an escape sequence \\", \\\\ or \\xHH'],
    ['allow name "\\101"', 13, "an escape sequence"],
    ['allow name "\\x4"', 13, "an escape sequence"],
    // sets
    ['allow name { "a""b" }', 17, "whitespace or '}'"],
    ["allow name { }", 14, "at least one value (a quoted string)"],
    ['allow name one-of{ "a" }', 18, "whitespace and '{' after one-of"],
    ['allow name { "a"', 17, "'}' to close the name set"],
    // repetition
    ['allow name "a" name "b"', 16, "at most one name attribute"],
    ["allow 1234:5678 id 1111:2222", 17, "at most one id attribute"],
    ['allow name "a"allow name "b"', 21, "at most one name attribute"],
    ["allow id one-of { 1111:2222 3333:4444 }block 1234:5678", 46, "no device id after a rule"],
    // conditions
    ["allow if unknown", 10, "a condition"],
    ["allow if true()", 14, "a non-empty parameter"],
    ["allow if random(", 17, "')' to close the parameter"],
    ["allow if random(abc)", 10, "a probability"],
    ["allow if random(1e999)", 10, "a probability"],
    ["allow if localtime(25:00)", 10, "a time or time range"],
    ["allow if localtime", 10, "a time or time range"],
    ["allow if localtime(10:00-09:00)", 10, "a range whose begin is not after its end"],
    ["allow if rule-applied(abc)", 10, "an elapsed time"],
    ["allow if allowed-matches(fooo)", 10, "in allowed-matches()"],
    ["allow if true false", 15, "an attribute"],
  ])("%j at column %i: Expected %s", (input, column, expected) => {
    const error = syntaxError(input);
    expect(error.column).toBe(column);
    expect(error.expected).toContain(expected);
    expect(error.message).toMatch(/^Expected .+, found .+/);
    expect(error.exitCode).toBe(ExitCode.config);
  });

  it("says what it found", () => {
    expect(syntaxError("allow unknown-attribute").found).toBe('"unknown-attribute"');
    expect(syntaxError("allow ").found).toBe("trailing whitespace");
    expect(syntaxError("allow\r").found).toContain("carriage return");
    expect(syntaxError(" allow").message).toContain("indented");
  });

  it("refuses an empty text and a comment as a rule; parseRuleLine returns null for them", () => {
    expect(syntaxError("").found).toBe("an empty text");
    expect(syntaxError("# x").found).toBe("only a comment");
    expect(parseRuleLine("")).toBeNull();
    expect(parseRuleLine("  # indented comment")).toBeNull();
    expect(parseRuleLine("#")).toBeNull();
  });

  it("accepts the time and number forms glibc strptime and strtod accept", () => {
    for (const text of [
      "allow if localtime(1:60)", // %M reads "6" and strptime ignores the rest
      "allow if localtime(01:5)",
      "allow if localtime(1:00-)",
      "allow if localtime(10:00:30-09:00)", // %s is epoch seconds: begin 00:00:30
      "allow if rule-applied(1:)", // %s reads "1"
      "allow if rule-applied(5 )",
      "allow if random(0x1p-1074)",
      "allow if random(inf)",
      "allow if random(.5)",
      "allow if random(0.5abc)",
    ])
      expect(() => parseRule(text), text).not.toThrow();
    for (const text of [
      "allow if rule-applied( 5)",
      "allow if rule-applied(99999999999999999999)",
      "allow if random(1e-310)",
      "allow if random(.)",
      "allow if localtime(24:00)",
    ])
      expect(() => parseRule(text), text).toThrow(UsbRuleSyntaxError);
  });
});

describe("parseRulesFile", () => {
  const fixture = new URL("../fixtures/usbguard/", import.meta.url);

  it("skips comments and empty lines and numbers rules by line", () => {
    const text = readFileSync(new URL("allowlist.rules", fixture), "utf8");
    const parsed = parseRulesFile(text, "allowlist.rules");
    expect(parsed.errors).toEqual([]);
    expect(parsed.rules.map((r) => r.line)).toEqual([5, 6, 7, 10, 11, 14, 15]);
    expect(formatRule(parsed.rules[0]!.rule)).toBe(
      'allow id 0c4b:0500 serial "4E3F0C1A" name "cyberJack RFID standard" with-interface 0b:00:00',
    );
  });

  it("reports every bad line with its column, not only the first", () => {
    const text = readFileSync(new URL("broken.rules", fixture), "utf8");
    const parsed = parseRulesFile(text, "broken.rules");
    expect(parsed.errors.map((e) => [e.line, e.column])).toEqual([
      [3, 1],
      [4, 27],
      [6, 16],
      [8, 19],
    ]);
    expect(parsed.rules.map((r) => r.line)).toEqual([2, 7]);
    expect(parsed.errors[0]!.message).toMatch(/^Expected a rule target .*, found whitespace/);
  });

  it("treats a final newline as the end of the last line; CRLF lines are refused like usbguard", () => {
    expect(parseRulesFile("allow\n", "f").rules).toHaveLength(1);
    expect(parseRulesFile("allow\n\n", "f").rules).toHaveLength(1);
    const crlf = parseRulesFile("allow\r\nblock\r\n", "f");
    expect(crlf.errors.map((e) => e.line)).toEqual([1, 2]);
  });

  // Timings live in bench/usbguard.mjs (npm run bench:usbguard); here only correctness.
  it("parses 10,000 rules, and rejects pathological long input with a syntax error", () => {
    const lines: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      const hex = (i % 65536).toString(16).padStart(4, "0");
      lines.push(
        `allow id ${hex}:* serial "SN${i}" name "Device \\"${i}\\"" hash "${"x".repeat(44)}" via-port one-of { "1-${i % 8}" "2-1" } with-interface { 03:01:01 0b:*:* } if !localtime(08:00-17:00)`,
      );
      if (i % 100 === 0) lines.push("# group " + i, "");
    }
    const parsed = parseRulesFile(lines.join("\n") + "\n", "big.rules");
    expect(parsed.errors).toEqual([]);
    expect(parsed.rules).toHaveLength(10_000);
    expect(parsed.rules[9_999]?.rule).toMatchObject({ target: "allow" });
    expect(() => parseRule('allow name "' + "\\\\".repeat(200_000))).toThrow(UsbRuleSyntaxError);
    expect(() => parseRule("allow" + " \t".repeat(200_000) + "x")).toThrow(UsbRuleSyntaxError);
  });
});

describe("toRuleFact", () => {
  it("summarises a rule for the checks", () => {
    const rule = parseRule(
      'allow id 0C4B:* serial "S" hash "H" with-interface one-of { 08:*:* 03:01:01 }',
    );
    expect(toRuleFact(rule, "/etc/usbguard/rules.conf:3")).toEqual({
      target: "allow",
      canonical: 'allow id 0C4B:* serial "S" hash "H" with-interface one-of { 08:*:* 03:01:01 }',
      ids: ["0c4b:*"],
      withInterface: { operator: "one-of", values: ["08:*:*", "03:01:01"] },
      hasSerial: true,
      hasHash: true,
      source: "/etc/usbguard/rules.conf:3",
    });
    expect(toRuleFact(parseRule("reject"), "x:1")).toMatchObject({
      ids: [],
      withInterface: null,
      hasSerial: false,
      hasHash: false,
    });
  });
});
