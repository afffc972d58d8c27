/**
 * APT sources as apt reads them (sources.list(5)): the one-line format of `sources.list` and
 * `*.list` parts, deb822 `*.sources` parts, and which files of the parts directory apt reads
 * at all (its run-parts-like name rules: other extensions such as `.disabled`, `.save` or
 * `.dpkg-old`, names with other characters and dot-files are ignored).
 */
import type { AptSource } from "../types.js";

function words(value: string | undefined): string[] {
  return value === undefined ? [] : value.split(/\s+/).filter((w) => w !== "");
}

/** apt's StringToBool: yes/true/with/on/enable (and non-zero numbers) are true. */
export function aptTrue(value: string | undefined): boolean {
  if (value === undefined) return false;
  const v = value.trim().toLowerCase();
  return /^(yes|true|with|on|enable)$/.test(v) || (/^\d+$/.test(v) && Number(v) !== 0);
}

/**
 * Options that let apt accept a repository whose signature it cannot check or that is signed
 * weakly (per source; `trusted` is reported on its own).
 */
export const weakeningOptions = ["allow-insecure", "allow-downgrade-to-insecure", "allow-weak"];

/**
 * Does apt read `name` in the sources parts directory, and as which format? apt takes only
 * names of letters, digits, `_`, `-`, `:` and `.`, not starting with a dot, ending in `.list`
 * (one-line) or `.sources` (deb822); it skips everything else (silently for `.disabled`,
 * `.save`, `.bak`, `.dpkg-*` …, with a notice for the rest).
 */
export function aptSourcePart(name: string): "one-line" | "deb822" | null {
  if (name.startsWith(".") || !/^[A-Za-z0-9_:.-]+$/.test(name)) return null;
  if (name.endsWith(".list")) return "one-line";
  if (name.endsWith(".sources")) return "deb822";
  return null;
}

export interface Deb822Field {
  /** The field as written (continuation lines joined with "\n"). */
  value: string;
  /** 1-based line of the field's name. */
  line: number;
}

export interface Deb822Stanza {
  /** 1-based first and last line of the stanza (comments inside included). */
  start: number;
  end: number;
  /** Fields by lower-case name (deb822 names are case-insensitive). */
  fields: Record<string, Deb822Field>;
}

/** Split deb822 text into stanzas with their line ranges; `#` lines are comments. */
export function deb822Stanzas(text: string): Deb822Stanza[] {
  const out: Deb822Stanza[] = [];
  let current: Deb822Stanza | null = null;
  let last: Deb822Field | null = null;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === "") {
      if (current !== null && Object.keys(current.fields).length > 0) out.push(current);
      current = null;
      last = null;
      return;
    }
    if (raw.startsWith("#")) {
      if (current !== null) current.end = line;
      return;
    }
    if (current === null) current = { start: line, end: line, fields: {} };
    current.end = line;
    if (/^[ \t]/.test(raw)) {
      if (last !== null) last.value += `\n${raw.trim()}`;
      return;
    }
    const colon = raw.indexOf(":");
    if (colon <= 0) return;
    last = { value: raw.slice(colon + 1).trim(), line };
    current.fields[raw.slice(0, colon).trim().toLowerCase()] = last;
  });
  const tail = current as Deb822Stanza | null;
  if (tail !== null && Object.keys(tail.fields).length > 0) out.push(tail);
  return out;
}

/** Is a deb822 stanza switched off (`Enabled: no`)? */
export function stanzaDisabled(stanza: Deb822Stanza): boolean {
  const enabled = stanza.fields["enabled"];
  return enabled !== undefined && !aptTrue(enabled.value);
}

/** Parse a deb822 `.sources` file; stanzas with `Enabled: no` are left out, as apt leaves them. */
export function parseDeb822Sources(text: string, path: string): AptSource[] {
  const out: AptSource[] = [];
  for (const stanza of deb822Stanzas(text)) {
    if (stanzaDisabled(stanza)) continue;
    const f = (name: string) => stanza.fields[name]?.value;
    const signedBy = f("signed-by")?.trim();
    const weakened = weakeningOptions.filter((o) => aptTrue(f(o)));
    out.push({
      types: words(f("types")),
      uris: words(f("uris")),
      suites: words(f("suites")),
      components: words(f("components")),
      trusted: aptTrue(f("trusted")),
      signedBy: signedBy === undefined || signedBy === "" ? null : signedBy,
      source: `${path}:${stanza.start}`,
      ...(weakened.length > 0 ? { weakened } : {}),
    });
  }
  return out;
}

/** One line of the one-line format: `deb [ option=value … ] uri suite [component…]`. */
export function parseOneLine(
  raw: string,
): { type: string; options: Record<string, string>; uri: string; rest: string } | null {
  const line = raw.replace(/#.*$/, "").trim();
  const m = /^(deb|deb-src)\s+(?:\[([^\]]*)\]\s*)?(\S+)\s+(\S+.*)$/.exec(line);
  if (!m) return null;
  const options: Record<string, string> = {};
  for (const opt of words(m[2])) {
    const eq = opt.indexOf("=");
    if (eq > 0) options[opt.slice(0, eq).toLowerCase()] = opt.slice(eq + 1);
  }
  return { type: m[1] as string, options, uri: m[3] as string, rest: m[4] as string };
}

/** Parse the one-line format. */
export function parseOneLineSources(text: string, path: string): AptSource[] {
  const out: AptSource[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const p = parseOneLine(raw);
    if (p === null) return;
    const [suite = "", ...components] = words(p.rest);
    const weakened = weakeningOptions.filter((o) => aptTrue(p.options[o]));
    out.push({
      types: [p.type],
      uris: [p.uri],
      suites: [suite],
      components,
      trusted: aptTrue(p.options["trusted"]),
      signedBy: p.options["signed-by"] ?? null,
      source: `${path}:${i + 1}`,
      ...(weakened.length > 0 ? { weakened } : {}),
    });
  });
  return out;
}
