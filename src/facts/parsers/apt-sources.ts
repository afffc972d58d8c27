/**
 * APT sources: one-line `sources.list` format and deb822 `.sources` files (sources.list(5)).
 */
import type { AptSource } from "../types.js";
import { parseStanzas } from "./dpkg.js";

function words(value: string | undefined): string[] {
  return value === undefined ? [] : value.split(/\s+/).filter((w) => w !== "");
}

function isYes(value: string | undefined): boolean {
  return value !== undefined && /^(yes|true|1)$/i.test(value.trim());
}

/** Parse a deb822 `.sources` file; stanzas with `Enabled: no` are left out. */
export function parseDeb822Sources(text: string, path: string): AptSource[] {
  const out: AptSource[] = [];
  // Line numbers of stanza starts, for the source reference.
  const starts: number[] = [];
  let inStanza = false;
  text.split(/\r?\n/).forEach((raw, i) => {
    const blank = raw.trim() === "";
    if (!blank && !raw.startsWith("#") && !inStanza) {
      starts.push(i + 1);
      inStanza = true;
    } else if (blank) inStanza = false;
  });
  parseStanzas(text).forEach((raw, i) => {
    // Field names are case-insensitive in deb822.
    const s: Record<string, string> = {};
    for (const [k, v] of Object.entries(raw)) s[k.toLowerCase()] = v;
    if (s["enabled"] !== undefined && !isYes(s["enabled"])) return;
    const signedBy = s["signed-by"]?.trim();
    out.push({
      types: words(s["types"]),
      uris: words(s["uris"]),
      suites: words(s["suites"]),
      components: words(s["components"]),
      trusted: isYes(s["trusted"]),
      signedBy: signedBy === undefined || signedBy === "" ? null : signedBy,
      source: `${path}:${starts[i] ?? 1}`,
    });
  });
  return out;
}

/** Parse the one-line format: `deb [ option=value … ] uri suite [component…]`. */
export function parseOneLineSources(text: string, path: string): AptSource[] {
  const out: AptSource[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*$/, "").trim();
    const m = /^(deb|deb-src)\s+(?:\[([^\]]*)\]\s*)?(\S+)\s+(\S+)(.*)$/.exec(line);
    if (!m) return;
    const options: Record<string, string> = {};
    for (const opt of words(m[2])) {
      const eq = opt.indexOf("=");
      if (eq > 0) options[opt.slice(0, eq).toLowerCase()] = opt.slice(eq + 1);
    }
    out.push({
      types: [m[1] as string],
      uris: [m[3] as string],
      suites: [m[4] as string],
      components: words(m[5]),
      trusted: isYes(options["trusted"]),
      signedBy: options["signed-by"] ?? null,
      source: `${path}:${i + 1}`,
    });
  });
  return out;
}
