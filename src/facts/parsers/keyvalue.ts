/**
 * Simple `key value` / `key = value` configuration files: login.defs, pwquality.conf,
 * faillock.conf, os-release, ca-certificates.conf.
 */
import type { Setting } from "../types.js";
import { contentLines, setting } from "./common.js";

export interface KeyValueOptions {
  /** "space": `KEY VALUE` (login.defs); "equals": `key = value` (pwquality, faillock). */
  style: "space" | "equals";
  /** Fold keys to lower case (for formats whose keys are case-insensitive). */
  lowerCaseKeys?: boolean;
}

/**
 * Parse a key/value file; the last occurrence of a key wins. A line that is only a word
 * (a flag such as faillock's `audit`) gets the value "".
 */
export function parseKeyValue(
  text: string,
  path: string,
  options: KeyValueOptions,
): Record<string, Setting> {
  const out: Record<string, Setting> = {};
  for (const { text: line, line: n } of contentLines(text)) {
    let key: string;
    let value: string;
    if (options.style === "equals") {
      const eq = line.indexOf("=");
      key = (eq === -1 ? line : line.slice(0, eq)).trim();
      value = eq === -1 ? "" : line.slice(eq + 1).trim();
    } else {
      const m = /^(\S+)\s*(.*)$/.exec(line);
      if (!m) continue;
      key = m[1] as string;
      value = (m[2] as string).trim();
    }
    if (key === "" || /\s/.test(key)) continue;
    out[options.lowerCaseKeys ? key.toLowerCase() : key] = setting(value, path, n);
  }
  return out;
}

/** Parse os-release(5): shell-style assignments with quoting and backslash escapes. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { text: line } of contentLines(text)) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    let value = (m[2] as string).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) {
      value = value.slice(1, -1).replace(/\\([\\$"`])/g, "$1");
    } else if (value.startsWith("'") && value.endsWith("'") && value.length >= 2) {
      value = value.slice(1, -1);
    }
    out[m[1] as string] = value;
  }
  return out;
}

/** Parse /etc/ca-certificates.conf: enabled lines and `!`-disabled lines (paths below /usr/share/ca-certificates). */
export function parseCaCertificatesConf(text: string): { enabled: string[]; disabled: string[] } {
  const enabled: string[] = [];
  const disabled: string[] = [];
  for (const { text: line } of contentLines(text)) {
    if (line.startsWith("!")) disabled.push(line.slice(1).trim());
    else enabled.push(line);
  }
  return { enabled, disabled };
}
