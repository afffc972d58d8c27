/**
 * The USBGuard rule language: parser, canonical printer and the fact koffer keeps per rule.
 *
 * Ground truth is usbguard 1.1.2 (Debian 12): its PEGTL grammar decides what is accepted, its
 * rule printer what the canonical form is. The daemon reads rules.conf line by line with the
 * same grammar and refuses to start on the first line it cannot parse, so this parser accepts
 * exactly what 1.1.2 accepts — including its oddities:
 * - no whitespace before a rule or after it (a comment may be indented, a rule may not);
 * - rules can run together without a blank (`allowallow` is `allow`): the grammar loops over
 *   "rule or comment" until the end of the line, and the later target wins;
 * - `label` may repeat (its values add up); every other attribute appears at most once;
 * - in strings only `\"`, `\\` and `\xHH` are valid escapes;
 * - `true(x)`/`false(x)` drop their parameter; `rule-evaluated` prints as `rule-applied`
 *   (upstream bug in 1.1.2's condition object, reproduced so that the output is byte-exact).
 *
 * Columns in errors count bytes from 1, as usbguard does.
 */
import { InputError } from "../errors.js";
import type { UsbRuleFact } from "./types.js";
import { decodeRuleBytes, encodeRuleText } from "./usbguard/bytes.js";
import { conditionProblem, isConditionName, type UsbConditionName } from "./usbguard/conditions.js";

export { decodeRuleBytes, encodeRuleText } from "./usbguard/bytes.js";
export type { UsbConditionName } from "./usbguard/conditions.js";

// ─── model ──────────────────────────────────────────────────────────────────

export type UsbRuleTarget = UsbRuleFact["target"];

/** Set operators of the rule language; `equals` is the default and is not printed. */
export type UsbSetOperator =
  "all-of" | "one-of" | "none-of" | "equals" | "equals-ordered" | "match-all";

/** An attribute: its values and how a device's values must relate to them. */
export interface UsbAttribute<T> {
  operator: UsbSetOperator;
  values: T[];
}

/** `vvvv:pppp`, each four hex digits or `*` (case kept as written; `*:pppp` is invalid). */
export interface UsbDeviceId {
  vendor: string;
  product: string;
}

/** `cc:ss:pp`; `null` is `*`. A wildcard subclass implies a wildcard protocol. */
export interface UsbInterfaceType {
  class: number;
  subclass: number | null;
  protocol: number | null;
}

export interface UsbRuleCondition {
  negated: boolean;
  identifier: UsbConditionName;
  /** The text between the parentheses, verbatim; null without parentheses (always for true/false). */
  parameter: string | null;
}

/**
 * A parsed rule. String values are the unescaped text: valid UTF-8 as characters, any other
 * byte as U+DC80+byte (see {@link decodeRuleBytes}), so {@link formatRule} writes the same bytes.
 */
export interface UsbRule {
  target: UsbRuleTarget;
  id?: UsbAttribute<UsbDeviceId>;
  serial?: UsbAttribute<string>;
  name?: UsbAttribute<string>;
  hash?: UsbAttribute<string>;
  parentHash?: UsbAttribute<string>;
  viaPort?: UsbAttribute<string>;
  withInterface?: UsbAttribute<UsbInterfaceType>;
  conditions?: UsbAttribute<UsbRuleCondition>;
  withConnectType?: UsbAttribute<string>;
  label?: UsbAttribute<string>;
}

type AttributeKey = Exclude<keyof UsbRule, "target">;
type ValueKind = "string" | "device-id" | "interface" | "condition";

interface AttributeSpec {
  keyword: string;
  key: AttributeKey;
  kind: ValueKind;
}

/** Attributes in the order usbguard 1.1.2 prints them. */
const attributeSpecs: readonly AttributeSpec[] = [
  { keyword: "id", key: "id", kind: "device-id" },
  { keyword: "serial", key: "serial", kind: "string" },
  { keyword: "name", key: "name", kind: "string" },
  { keyword: "hash", key: "hash", kind: "string" },
  { keyword: "parent-hash", key: "parentHash", kind: "string" },
  { keyword: "via-port", key: "viaPort", kind: "string" },
  { keyword: "with-interface", key: "withInterface", kind: "interface" },
  { keyword: "if", key: "conditions", kind: "condition" },
  { keyword: "with-connect-type", key: "withConnectType", kind: "string" },
  { keyword: "label", key: "label", kind: "string" },
];

const ID_SLOT = 0; // attributeSpecs[0] is id

const targets: readonly UsbRuleTarget[] = ["allow", "block", "reject", "match", "device"];
// Longest first where one is a prefix of another, as the grammar's ordered choice requires.
const operators: readonly UsbSetOperator[] = [
  "all-of",
  "one-of",
  "none-of",
  "equals-ordered",
  "equals",
  "match-all",
];

// ─── errors ─────────────────────────────────────────────────────────────────

/** A rule usbguard 1.1.2 would refuse. Exit 78 like every bad input. */
export class UsbRuleSyntaxError extends InputError {
  /** 1-based byte column in the rule text. */
  readonly column: number;
  readonly expected: string;
  readonly found: string;
  constructor(column: number, expected: string, found: string, hint?: string) {
    super(`Expected ${expected}, found ${found}${hint ? ` (${hint})` : ""}`);
    this.name = "UsbRuleSyntaxError";
    this.column = column;
    this.expected = expected;
    this.found = found;
  }
}

// ─── parser ─────────────────────────────────────────────────────────────────

const attributeList = attributeSpecs.map((a) => a.keyword).join(", ");
const targetList = targets.join(", ");

const isBlank = (c: number): boolean => c === 0x20 || c === 0x09;
const isHex = (c: number): boolean =>
  (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
const isIdentStart = (c: number): boolean =>
  (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x2d;
const isIdentChar = (c: number): boolean => isIdentStart(c) || (c >= 0x30 && c <= 0x39);

/** Parse state for one line; `s` holds one char per byte (codes 0..255). */
class LineParser {
  private pos = 0;
  private target: UsbRuleTarget | "invalid" | "empty" = "invalid";
  /** One slot per attribute, in attributeSpecs order. */
  private readonly slots: (UsbAttribute<unknown> | undefined)[] = new Array(attributeSpecs.length);

  constructor(private readonly s: string) {}

  /** The rule, "empty" for a comment-only line, "invalid" for an empty line (usbguard's states). */
  parse(): UsbRule | "empty" | "invalid" {
    const s = this.s;
    // The grammar: until end of line, a comment or a rule — rules may follow each other directly.
    while (this.pos < s.length) {
      let j = this.pos;
      while (j < s.length && isBlank(s.charCodeAt(j))) j++;
      if (s[j] === "#") {
        if (this.target === "invalid") this.target = "empty";
        this.pos = s.length;
        break;
      }
      this.parseRuleSegment();
    }
    if (this.target === "invalid" || this.target === "empty") return this.target;
    const rule: UsbRule = { target: this.target };
    for (let i = 0; i < attributeSpecs.length; i++) {
      const attribute = this.slots[i];
      if (attribute)
        (rule as unknown as Record<string, unknown>)[attributeSpecs[i]!.key] = attribute;
    }
    return rule;
  }

  private fail(at: number, expected: string, found = this.describe(at), hint?: string): never {
    throw new UsbRuleSyntaxError(at + 1, expected, found, hint);
  }

  /** What stands at `at`, for "found …". */
  private describe(at: number): string {
    const s = this.s;
    if (at >= s.length) return "end of line";
    const c = s.charCodeAt(at);
    if (c === 0x0d) return "a carriage return (\\r; the file has Windows line endings)";
    if (isBlank(c)) return at + 1 >= s.length ? "trailing whitespace" : "whitespace";
    let end = at;
    while (end < s.length && end - at < 40 && !isBlank(s.charCodeAt(end))) end++;
    return JSON.stringify(decodeRuleBytes(s.slice(at, end)));
  }

  /** The word of `words` that starts at `at` (first match in order), without allocating. */
  private matchWord<T extends string>(at: number, words: readonly T[]): T | undefined {
    for (let i = 0; i < words.length; i++) if (this.s.startsWith(words[i]!, at)) return words[i];
    return undefined;
  }

  private parseRuleSegment(): void {
    const s = this.s;
    const start = this.pos;
    const target = this.matchWord(start, targets);
    if (!target) {
      const leading = start === 0 && isBlank(s.charCodeAt(0));
      this.fail(
        start,
        `a rule target (${targetList}) or a comment`,
        undefined,
        leading ? "usbguard 1.1.2 refuses a rule indented by whitespace" : undefined,
      );
    }
    this.target = target;
    this.pos = start + target.length;
    let first = true;
    for (;;) {
      const here = this.pos;
      if (here >= s.length || s[here] === "#") {
        if (here < s.length) this.pos = s.length; // the rule's trailing comment
        return;
      }
      if (!isBlank(s.charCodeAt(here))) {
        // Another rule may follow without a blank; anything else is an error.
        if (this.matchWord(here, targets) !== undefined) return;
        this.fail(here, "whitespace, a comment or the end of the line");
      }
      let j = here;
      while (j < s.length && isBlank(s.charCodeAt(j))) j++;
      if (j >= s.length) this.fail(here, "the end of the line", "trailing whitespace");
      this.pos = j;
      if (s[j] === "#") {
        this.pos = s.length;
        return;
      }
      if (first) {
        first = false;
        const id = this.tryDeviceId(j);
        if (id) {
          this.setDeviceId(id, j);
          continue;
        }
        this.parseAttribute(true);
      } else this.parseAttribute(false);
    }
  }

  /** The device id right after the target sets (replaces) the id attribute's single value. */
  private setDeviceId(id: UsbDeviceId, at: number): void {
    const attribute = this.slots[ID_SLOT] as UsbAttribute<UsbDeviceId> | undefined;
    if (!attribute) this.slots[ID_SLOT] = { operator: "equals", values: [id] };
    else if (attribute.values.length > 1)
      this.fail(
        at,
        "no device id after a rule with a multi-valued id attribute",
        JSON.stringify(`${id.vendor}:${id.product}`),
      );
    else attribute.values[0] = id;
  }

  private parseAttribute(deviceIdAllowed: boolean): void {
    const s = this.s;
    const at = this.pos;
    let slot = -1;
    for (let i = 0; i < attributeSpecs.length; i++) {
      const keyword = attributeSpecs[i]!.keyword;
      const end = at + keyword.length;
      if (s.startsWith(keyword, at) && (end >= s.length || isBlank(s.charCodeAt(end)))) {
        slot = i;
        break;
      }
    }
    const spec = attributeSpecs[slot];
    if (!spec) {
      this.fail(
        at,
        deviceIdAllowed
          ? `a device id (VVVV:PPPP), an attribute (${attributeList}) or a comment`
          : `an attribute (${attributeList}) or a comment`,
      );
    }
    if (spec.key !== "label" && this.slots[slot])
      this.fail(at, `at most one ${spec.keyword} attribute`, `a second one`);
    let j = at + spec.keyword.length;
    while (j < s.length && isBlank(s.charCodeAt(j))) j++;
    if (j >= s.length) this.fail(j, `a value after ${spec.keyword}`);
    this.pos = j;
    const attribute = (this.slots[slot] ??= { operator: "equals", values: [] });
    const operator = this.matchWord(j, operators);
    if (operator !== undefined || s[j] === "{") {
      if (operator !== undefined) {
        let k = j + operator.length;
        const blanks = k;
        while (k < s.length && isBlank(s.charCodeAt(k))) k++;
        if (k === blanks || s[k] !== "{") this.fail(k, `whitespace and '{' after ${operator}`);
        attribute.operator = operator;
        this.pos = k;
      }
      this.parseSet(spec, attribute);
    } else {
      attribute.values.push(this.parseValue(spec));
    }
  }

  /** `{ v v … }` with at least one value; blanks separate values. */
  private parseSet(spec: AttributeSpec, attribute: UsbAttribute<unknown>): void {
    const s = this.s;
    this.pos++; // '{'
    while (this.pos < s.length && isBlank(s.charCodeAt(this.pos))) this.pos++;
    if (s[this.pos] === "}")
      this.fail(this.pos, `at least one value (${valueDescription(spec.kind)})`);
    for (;;) {
      attribute.values.push(this.parseValue(spec));
      const afterValue = this.pos;
      while (this.pos < s.length && isBlank(s.charCodeAt(this.pos))) this.pos++;
      if (s[this.pos] === "}") {
        this.pos++;
        return;
      }
      if (this.pos >= s.length) this.fail(this.pos, `'}' to close the ${spec.keyword} set`);
      if (this.pos === afterValue) this.fail(this.pos, "whitespace or '}'");
    }
  }

  private parseValue(spec: AttributeSpec): unknown {
    switch (spec.kind) {
      case "string":
        return this.parseString();
      case "device-id": {
        const id = this.tryDeviceId(this.pos);
        if (!id) this.fail(this.pos, valueDescription("device-id"));
        return id;
      }
      case "interface":
        return this.parseInterface();
      case "condition":
        return this.parseCondition();
    }
  }

  /** `vvvv:pppp` at `at` (advancing past it), or null when none starts there. */
  private tryDeviceId(at: number): UsbDeviceId | null {
    const s = this.s;
    const part = (k: number): number => {
      if (s[k] === "*") return 1;
      for (let n = 0; n < 4; n++) if (!isHex(s.charCodeAt(k + n))) return 0;
      return 4;
    };
    const v = part(at);
    if (v === 0 || s[at + v] !== ":") return null;
    const p = part(at + v + 1);
    if (p === 0) return null;
    const vendor = s.slice(at, at + v);
    const product = s.slice(at + v + 1, at + v + 1 + p);
    if (vendor === "*" && product !== "*")
      this.fail(at + v + 1, "product id * when the vendor id is *", JSON.stringify(product));
    this.pos = at + v + 1 + p;
    return { vendor, product };
  }

  private parseInterface(): UsbInterfaceType {
    const s = this.s;
    const at = this.pos;
    const expected = valueDescription("interface");
    const hex2 = (k: number): number | null =>
      isHex(s.charCodeAt(k)) && isHex(s.charCodeAt(k + 1)) ? parseInt(s.slice(k, k + 2), 16) : null;
    const cls = hex2(at);
    if (cls === null || s[at + 2] !== ":") this.fail(at, expected);
    let k = at + 3;
    const field = (): number | null | undefined => {
      if (s[k] === "*") {
        k += 1;
        return null;
      }
      const v = hex2(k);
      if (v === null) return undefined;
      k += 2;
      return v;
    };
    const subclass = field();
    if (subclass === undefined || s[k] !== ":") this.fail(at, expected);
    k++;
    const protocol = field();
    if (protocol === undefined) this.fail(at, expected);
    if (subclass === null && protocol !== null)
      this.fail(k - 2, "protocol * when the subclass is *", JSON.stringify(s.slice(k - 2, k)));
    this.pos = k;
    return { class: cls, subclass, protocol };
  }

  /** A quoted string; returns the unescaped value (decoded, see decodeRuleBytes). */
  private parseString(): string {
    const s = this.s;
    const start = this.pos;
    if (s[start] !== '"') this.fail(start, "a quoted string");
    let bytes = "";
    let k = start + 1;
    let chunk = k;
    let plain = true; // no escapes and no byte above 0x7f: the text is the value
    for (;;) {
      if (k >= s.length) this.fail(k, `'"' to close the string opened at column ${start + 1}`);
      const c = s.charCodeAt(k);
      if (c === 0x22) break;
      if (c === 0x0d || c === 0x0a)
        this.fail(k, `'"' to close the string opened at column ${start + 1}`);
      if (c >= 0x80) plain = false;
      if (c === 0x5c) {
        plain = false;
        bytes += s.slice(chunk, k);
        const e = s[k + 1];
        if (e === '"' || e === "\\") {
          bytes += e;
          k += 2;
        } else if (e === "x" && isHex(s.charCodeAt(k + 2)) && isHex(s.charCodeAt(k + 3))) {
          bytes += String.fromCharCode(parseInt(s.slice(k + 2, k + 4), 16));
          k += 4;
        } else {
          this.fail(
            k,
            'an escape sequence \\", \\\\ or \\xHH',
            JSON.stringify(decodeRuleBytes(s.slice(k, k + 2))),
          );
        }
        chunk = k;
        continue;
      }
      k++;
    }
    this.pos = k + 1;
    if (plain) return s.slice(start + 1, k);
    bytes += s.slice(chunk, k);
    return decodeRuleBytes(bytes);
  }

  private parseCondition(): UsbRuleCondition {
    const s = this.s;
    const at = this.pos;
    let k = at;
    const negated = s[k] === "!";
    if (negated) k++;
    if (!isIdentStart(s.charCodeAt(k))) this.fail(at, valueDescription("condition"));
    const idStart = k;
    while (k < s.length && isIdentChar(s.charCodeAt(k))) k++;
    const identifier = s.slice(idStart, k);
    let parameter: string | null = null;
    if (s[k] === "(") {
      // Raw text up to the first unescaped ')'; escapes are checked but kept as written.
      const open = k;
      k++;
      for (;;) {
        if (k >= s.length || s.charCodeAt(k) === 0x0d || s.charCodeAt(k) === 0x0a)
          this.fail(k, `')' to close the parameter opened at column ${open + 1}`);
        const c = s[k];
        if (c === ")") break;
        if (c === "\\") {
          const e = s[k + 1] ?? "";
          if (e === "x") {
            if (!isHex(s.charCodeAt(k + 2)) || !isHex(s.charCodeAt(k + 3)))
              this.fail(k, "an escape sequence \\xHH", JSON.stringify(s.slice(k, k + 4)));
            k += 4;
          } else if (e >= "0" && e <= "9") {
            k += 2;
            for (let n = 0; n < 2 && isDigit(s[k]); n++) k++;
          } else if ("abfnrtv\\'0\n)".includes(e) && e !== "") {
            k += 2;
          } else {
            this.fail(k, "an escape sequence", JSON.stringify(decodeRuleBytes(s.slice(k, k + 2))));
          }
          continue;
        }
        k++;
      }
      parameter = s.slice(open + 1, k);
      k++;
      if (parameter === "")
        this.fail(open, "a non-empty parameter between the parentheses", '"()"');
    }
    if (!isConditionName(identifier))
      this.fail(
        idStart,
        "a condition (allowed-matches, localtime, true, false, random, rule-applied, rule-evaluated)",
        JSON.stringify(identifier),
      );
    const problem = conditionProblem(identifier, parameter ?? "", (text) => {
      try {
        new LineParser(text).parse();
        return null;
      } catch (error) {
        if (!(error instanceof UsbRuleSyntaxError)) throw error;
        return { expected: error.expected, found: error.found };
      }
    });
    if (problem) this.fail(at, problem.expected, problem.found);
    this.pos = k;
    const fixedState = identifier === "true" || identifier === "false";
    return {
      negated,
      identifier,
      parameter: fixedState || parameter === null ? null : decodeRuleBytes(parameter),
    };
  }
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= "0" && c <= "9";

function valueDescription(kind: ValueKind): string {
  switch (kind) {
    case "string":
      return "a quoted string";
    case "device-id":
      return "a device id VVVV:PPPP (four hex digits or * each)";
    case "interface":
      return "an interface type CC:SS:PP (two hex digits each; SS and PP may be *)";
    case "condition":
      return "a condition (allowed-matches, localtime, true, false, random, rule-applied, rule-evaluated)";
  }
}

/**
 * Parse one rule as usbguard 1.1.2 does.
 * @throws UsbRuleSyntaxError with the column, what was expected and what was found; also for
 *   an empty text or a comment, which are not rules.
 */
export function parseRule(text: string): UsbRule {
  const result = new LineParser(encodeRuleText(text)).parse();
  if (result === "invalid") throw new UsbRuleSyntaxError(1, "a rule", "an empty text");
  if (result === "empty") throw new UsbRuleSyntaxError(1, "a rule", "only a comment");
  return result;
}

/**
 * Parse one line of a rules file: a rule, or null for an empty or comment-only line (which the
 * daemon skips and usbguard-rule-parser prints as an empty line).
 * @throws UsbRuleSyntaxError when usbguard 1.1.2 would refuse the line.
 */
export function parseRuleLine(text: string): UsbRule | null {
  const result = new LineParser(encodeRuleText(text)).parse();
  return result === "invalid" || result === "empty" ? null : result;
}

/** One parsed line of a rules file. */
export interface ParsedRuleLine {
  rule: UsbRule;
  /** 1-based line number. */
  line: number;
}

/** One line usbguard would refuse (the daemon then does not start). */
export interface RuleLineError {
  line: number;
  /** 1-based byte column. */
  column: number;
  message: string;
}

/**
 * Parse a rules file (rules.conf or a file of RuleFolder) the way the daemon loads it: line by
 * line; empty lines and comment lines are skipped; every line that does not parse is reported
 * (the daemon stops at the first). `file` is only used for naming; positions are in the result.
 */
export function parseRulesFile(
  text: string,
  file: string,
): { file: string; rules: ParsedRuleLine[]; errors: RuleLineError[] } {
  const rules: ParsedRuleLine[] = [];
  const errors: RuleLineError[] = [];
  const lines = encodeRuleText(text).split("\n");
  // A final newline ends the last line; it does not start another.
  if (lines.length > 1 && lines[lines.length - 1] === "") lines.pop();
  lines.forEach((lineText, index) => {
    try {
      const result = new LineParser(lineText).parse();
      if (result !== "invalid" && result !== "empty") rules.push({ rule: result, line: index + 1 });
    } catch (error) {
      if (!(error instanceof UsbRuleSyntaxError)) throw error;
      errors.push({ line: index + 1, column: error.column, message: error.message });
    }
  });
  return { file, rules, errors };
}

// ─── printer ────────────────────────────────────────────────────────────────

const hex2 = (n: number): string => n.toString(16).padStart(2, "0");

/** usbguard's string escaping: `"` and `\` escaped, bytes outside 0x20..0x7e as `\xhh`. */
function quoteString(value: string): string {
  const bytes = encodeRuleText(value);
  let out = '"';
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += "\\\\";
    else if (c >= 0x20 && c <= 0x7e) out += bytes[i];
    else out += "\\x" + hex2(c);
  }
  return out + '"';
}

function formatValue(kind: ValueKind, value: unknown): string {
  switch (kind) {
    case "string":
      return quoteString(value as string);
    case "device-id": {
      const id = value as UsbDeviceId;
      return `${id.vendor}:${id.product}`;
    }
    case "interface": {
      const t = value as UsbInterfaceType;
      if (t.subclass === null) return `${hex2(t.class)}:*:*`;
      return `${hex2(t.class)}:${hex2(t.subclass)}:${t.protocol === null ? "*" : hex2(t.protocol)}`;
    }
    case "condition": {
      const c = value as UsbRuleCondition;
      // 1.1.2's RuleEvaluatedCondition names itself "rule-applied" (upstream bug).
      const identifier = c.identifier === "rule-evaluated" ? "rule-applied" : c.identifier;
      const fixedState = c.identifier === "true" || c.identifier === "false";
      const parameter = !fixedState && c.parameter ? `(${c.parameter})` : "";
      return `${c.negated ? "!" : ""}${identifier}${parameter}`;
    }
  }
}

/**
 * The canonical form of a rule, byte for byte what usbguard 1.1.2 prints (usbguard-rule-parser,
 * `usbguard list-rules`, rules the daemon saves): attributes in a fixed order, a single value
 * without braces unless its operator is not `equals`, strings escaped, interface types in lower
 * case. Non-ASCII text can only appear in condition parameters (usbguard does not escape them).
 */
export function formatRule(rule: UsbRule): string {
  let out: string = rule.target;
  for (const spec of attributeSpecs) {
    const attribute = rule[spec.key] as UsbAttribute<unknown> | undefined;
    if (!attribute || attribute.values.length === 0) continue;
    out += ` ${spec.keyword} `;
    const nonDefault = attribute.operator !== "equals";
    if (attribute.values.length > 1 || nonDefault) {
      if (nonDefault) out += `${attribute.operator} `;
      out += "{ ";
      for (const value of attribute.values) out += `${formatValue(spec.kind, value)} `;
      out += "}";
    } else {
      out += formatValue(spec.kind, attribute.values[0]);
    }
  }
  return out;
}

// ─── fact ───────────────────────────────────────────────────────────────────

/** The summary of a rule that checks read (see UsbRuleFact in facts/types.ts). */
export function toRuleFact(rule: UsbRule, source: string): UsbRuleFact {
  return {
    target: rule.target,
    canonical: formatRule(rule),
    ids: (rule.id?.values ?? []).map((id) => `${id.vendor}:${id.product}`.toLowerCase()),
    withInterface: rule.withInterface
      ? {
          operator: rule.withInterface.operator,
          values: rule.withInterface.values.map((v) => formatValue("interface", v)),
        }
      : null,
    hasSerial: (rule.serial?.values.length ?? 0) > 0,
    hasHash: (rule.hash?.values.length ?? 0) > 0,
    source,
  };
}
