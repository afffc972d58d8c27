/**
 * Validation of rule condition parameters exactly as usbguard 1.1.2 does it when it builds a
 * condition object: `localtime()` and `rule-applied()`/`rule-evaluated()` go through glibc's
 * strptime (which ignores trailing text), `random()` through std::stod (strtod: a prefix is
 * enough, out-of-range values are refused). Only acceptance matters here; the canonical form
 * keeps the parameter text as written.
 *
 * One difference is deliberate: `%s` (seconds since the epoch) is read as UTC, where usbguard
 * uses the machine's time zone; it only changes whether an exotic range like
 * `localtime(10:00:30-09:00)` counts as begin > end.
 */

export const conditionNames = [
  "allowed-matches",
  "localtime",
  "true",
  "false",
  "random",
  "rule-applied",
  "rule-evaluated",
] as const;
export type UsbConditionName = (typeof conditionNames)[number];

export function isConditionName(name: string): name is UsbConditionName {
  return (conditionNames as readonly string[]).includes(name);
}

interface Tm {
  hour: number;
  min: number;
  sec: number;
}

const isSpace = (c: string | undefined): boolean =>
  c === " " || c === "\t" || c === "\n" || c === "\v" || c === "\f" || c === "\r";
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= "0" && c <= "9";

/** glibc's strptime for the formats usbguard uses (%H, %M, %s, literal ':'); null = NULL. */
function strptime(input: string, format: "%H:%M:%s" | "%H:%M" | "%s"): Tm | null {
  const tm: Tm = { hour: 0, min: 0, sec: 0 };
  let rp = 0;
  // glibc's get_number: skip white space, then up to n digits while the value can still grow.
  const getNumber = (from: number, to: number, n: number): number | null => {
    while (isSpace(input[rp])) rp++;
    if (!isDigit(input[rp])) return null;
    let val = 0;
    let left = n;
    do {
      val = val * 10 + (input.charCodeAt(rp++) - 48);
    } while (--left > 0 && val * 10 <= to && isDigit(input[rp]));
    return val < from || val > to ? null : val;
  };
  for (let f = 0; f < format.length; f++) {
    const fc = format[f];
    if (fc !== "%") {
      if (input[rp] !== fc) return null;
      rp++;
      continue;
    }
    const conversion = format[++f];
    if (conversion === "H") {
      const v = getNumber(0, 23, 2);
      if (v === null) return null;
      tm.hour = v;
    } else if (conversion === "M") {
      const v = getNumber(0, 59, 2);
      if (v === null) return null;
      tm.min = v;
    } else {
      // %s: seconds since the epoch, converted with localtime_r (here: UTC).
      if (!isDigit(input[rp])) return null;
      let secs = 0n;
      while (isDigit(input[rp])) secs = secs * 10n + BigInt(input.charCodeAt(rp++) - 48);
      secs = BigInt.asIntN(64, secs); // time_t wraps like the C loop does
      // localtime_r fails when the year no longer fits an int.
      if (secs > 67_767_976_233_316_800n || secs < -67_768_040_609_740_800n) return null;
      const daytime = Number(((secs % 86_400n) + 86_400n) % 86_400n);
      tm.hour = Math.floor(daytime / 3600);
      tm.min = Math.floor((daytime % 3600) / 60);
      tm.sec = daytime % 60;
    }
  }
  return tm;
}

const seconds = (tm: Tm): number => tm.sec + 60 * tm.min + 3600 * tm.hour;

function daytime(text: string): number | null {
  const tm = strptime(text, "%H:%M:%s") ?? strptime(text, "%H:%M");
  return tm === null ? null : seconds(tm);
}

function elapsedTimeValid(text: string): boolean {
  if (text === "") return true;
  return (
    strptime(text, "%H:%M:%s") !== null ||
    strptime(text, "%H:%M") !== null ||
    strptime(text, "%s") !== null
  );
}

const DBL_MIN = 2.2250738585072014e-308;

/** std::stod: "" when accepted, else why not ("not a number" / "out of range"). */
function stodProblem(text: string): string {
  let i = 0;
  while (isSpace(text[i])) i++;
  if (text[i] === "+" || text[i] === "-") i++;
  const rest = text.slice(i).toLowerCase();
  if (rest.startsWith("inf") || rest.startsWith("nan")) return "";
  if (rest.startsWith("0x")) {
    const m = /^0x([0-9a-f]*)(?:\.([0-9a-f]*))?/.exec(rest)!;
    const int = m[1] ?? "";
    const frac = m[2] ?? "";
    if (int === "" && frac === "") return ""; // strtod reads the "0" and stops at "x"
    let exponent = 0;
    const e = /^p([+-]?\d+)/.exec(rest.slice(m[0].length));
    if (e) exponent = Number(e[1]);
    let mantissa = BigInt("0x" + (int + frac || "0"));
    if (mantissa === 0n) return "";
    let e2 = exponent - 4 * frac.length;
    while ((mantissa & 1n) === 0n) {
      mantissa >>= 1n;
      e2++;
    }
    const bits = mantissa.toString(2).length;
    if (bits + e2 > 1024) return "out of range";
    // Below DBL_MIN strtod reports ERANGE unless the denormal is exact.
    if (bits + e2 - 1 < -1022 && (e2 < -1074 || bits > 53)) return "out of range";
    return "";
  }
  const m = /^(\d*)(?:\.(\d*))?/.exec(rest)!;
  if ((m[1] ?? "") === "" && (m[2] ?? "") === "") return "not a number";
  let literal = m[0];
  const e = /^e[+-]?\d+/.exec(rest.slice(literal.length));
  if (e) literal += e[0];
  const value = Number(literal.startsWith(".") ? "0" + literal : literal);
  if (!Number.isFinite(value)) return "out of range";
  const nonZeroDigits = /[1-9]/.test(m[0]);
  if (nonZeroDigits && Math.abs(value) < DBL_MIN) return "out of range";
  return "";
}

/**
 * Why usbguard 1.1.2 refuses this condition, or null when it accepts it.
 * `parseInner` parses the rule that `allowed-matches()` wraps ("allow " + parameter) and
 * returns what it expected and found, or null when it parses.
 */
export function conditionProblem(
  identifier: UsbConditionName,
  parameter: string,
  parseInner: (ruleText: string) => { expected: string; found: string } | null,
): { expected: string; found: string } | null {
  switch (identifier) {
    case "allowed-matches": {
      const inner = parseInner("allow " + parameter);
      return inner === null
        ? null
        : { expected: `${inner.expected} in allowed-matches()`, found: inner.found };
    }
    case "localtime": {
      const dash = parameter.indexOf("-");
      const beginText = dash === -1 ? parameter : parameter.slice(0, dash);
      const endText = dash === -1 ? "" : parameter.slice(dash + 1);
      const begin = daytime(beginText);
      const end = endText === "" ? begin : daytime(endText);
      const expected = "a time or time range HH:MM[:SS][-HH:MM[:SS]]";
      if (begin === null || end === null) return { expected, found: JSON.stringify(parameter) };
      if (begin > end)
        return {
          expected: "a range whose begin is not after its end",
          found: JSON.stringify(parameter),
        };
      return null;
    }
    case "random": {
      if (parameter === "") return null;
      const problem = stodProblem(parameter);
      return problem === ""
        ? null
        : {
            expected: "a probability (a number)",
            found: `${JSON.stringify(parameter)} (${problem})`,
          };
    }
    case "rule-applied":
    case "rule-evaluated":
      return elapsedTimeValid(parameter)
        ? null
        : {
            expected: "an elapsed time HH:MM, HH:MM:SS or seconds",
            found: JSON.stringify(parameter),
          };
    case "true":
    case "false":
      return null;
  }
}
