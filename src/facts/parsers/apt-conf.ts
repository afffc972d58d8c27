/**
 * apt.conf(5): `Scope::Name "value";`, nested `Scope { Name "value"; };`, lists of
 * unnamed values, `#clear`, `#include`, and `//`, `/* *\/` and `#` comments. Files in
 * /etc/apt/apt.conf.d are read in name order, then /etc/apt/apt.conf, as APT does.
 */
import type { Setting } from "../types.js";
import { compareC, joinPath, type FileSource } from "./common.js";

export interface AptConfig {
  /** Scalar values by full name ("APT::Periodic::Unattended-Upgrade"). */
  values: Map<string, Setting>;
  /** Lists by full name ("Unattended-Upgrade::Origins-Pattern"). */
  lists: Map<string, { value: string; source: string }[]>;
  errors: string[];
}

export function emptyAptConfig(): AptConfig {
  return { values: new Map(), lists: new Map(), errors: [] };
}

interface Tok {
  kind: "word" | "string" | "{" | "}" | ";" | "clear" | "include";
  value: string;
  line: number;
}

function tokenize(text: string, path: string, errors: string[]): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  let line = 1;
  let lineStart = true;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === "\n") {
      line++;
      i++;
      lineStart = true;
      continue;
    }
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
      continue;
    }
    if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      const stop = end === -1 ? text.length : end + 2;
      line += (text.slice(i, stop).match(/\n/g) ?? []).length;
      i = stop;
      continue;
    }
    if (c === "#") {
      const eol = text.indexOf("\n", i);
      const directive = text.slice(i, eol === -1 ? text.length : eol).trim();
      const m = /^#(clear|include)\s+(.*?);?\s*$/.exec(directive);
      if (m && lineStart)
        out.push({
          kind: m[1] as "clear" | "include",
          value: (m[2] as string).replace(/^"(.*)"$/, "$1"),
          line,
        });
      i = eol === -1 ? text.length : eol;
      continue;
    }
    lineStart = false;
    if (c === '"') {
      const end = text.indexOf('"', i + 1);
      if (end === -1) {
        errors.push(`${path}:${line}: unterminated string`);
        break;
      }
      const value = text.slice(i + 1, end);
      line += (value.match(/\n/g) ?? []).length;
      out.push({ kind: "string", value, line });
      i = end + 1;
      continue;
    }
    if (c === "{" || c === "}" || c === ";") {
      out.push({ kind: c, value: c, line });
      i++;
      continue;
    }
    let j = i;
    while (j < text.length && !/[\s{};"]/.test(text[j] as string)) j++;
    out.push({ kind: "word", value: text.slice(i, j), line });
    i = j;
  }
  return out;
}

function join(scope: string[], name: string): string {
  return [...scope, name]
    .filter((s) => s !== "")
    .join("::")
    .replace(/::+$/, "");
}

/** Find an existing key case-insensitively (APT's configuration names are case-insensitive). */
function keyFor<T>(map: Map<string, T>, name: string): string {
  const lower = name.toLowerCase();
  for (const k of map.keys()) if (k.toLowerCase() === lower) return k;
  return name;
}

/** Parse one apt.conf file into `config` (later assignments overwrite, lists append). */
export function parseAptConf(text: string, path: string, config: AptConfig): void {
  const toks = tokenize(text, path, config.errors);
  const scope: string[] = [];
  let i = 0;
  while (i < toks.length) {
    const t = toks[i] as Tok;
    if (t.kind === "clear") {
      const name = t.value.replace(/::$/, "");
      const lower = name.toLowerCase();
      for (const map of [config.values, config.lists] as Map<string, unknown>[]) {
        for (const k of [...map.keys()]) {
          const kl = k.toLowerCase();
          if (kl === lower || kl.startsWith(`${lower}::`)) map.delete(k);
        }
      }
      i++;
      continue;
    }
    if (t.kind === "include") {
      config.errors.push(`${path}:${t.line}: #include ${t.value} not followed`);
      i++;
      continue;
    }
    if (t.kind === "}") {
      scope.pop();
      i++;
      if (toks[i]?.kind === ";") i++;
      continue;
    }
    if (t.kind === ";") {
      i++;
      continue;
    }
    if (t.kind === "string") {
      // An unnamed value inside a block: a list element of the enclosing scope.
      const name = keyFor(config.lists, join(scope, ""));
      const list = config.lists.get(name) ?? [];
      list.push({ value: t.value, source: `${path}:${t.line}` });
      config.lists.set(name, list);
      i++;
      continue;
    }
    const next = toks[i + 1];
    if (next?.kind === "{") {
      scope.push(t.value.replace(/::$/, ""));
      i += 2;
      continue;
    }
    if (next?.kind === "string" && t.value.endsWith("::")) {
      // `Name:: "value";` appends to the list Name.
      const name = keyFor(config.lists, join(scope, t.value.replace(/::$/, "")));
      const list = config.lists.get(name) ?? [];
      list.push({ value: next.value, source: `${path}:${next.line}` });
      config.lists.set(name, list);
      i += 2;
      continue;
    }
    if (next?.kind === "string") {
      const full = join(scope, t.value);
      config.values.set(keyFor(config.values, full), {
        value: next.value,
        source: `${path}:${next.line}`,
      });
      i += 2;
      continue;
    }
    config.errors.push(`${path}:${t.line}: unexpected "${t.value}"`);
    i++;
  }
  if (scope.length > 0) config.errors.push(`${path}: missing } at end of file`);
}

/** Whether APT reads a file in apt.conf.d: only `[A-Za-z0-9_.-]` names, no extension or `.conf`. */
export function aptReadsPart(name: string): boolean {
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) return false;
  const dot = name.lastIndexOf(".");
  return dot === -1 || name.slice(dot) === ".conf";
}

/** Read APT's configuration the way apt-config does (parts, then the main file). */
export async function readAptConf(source: FileSource): Promise<AptConfig> {
  const config = emptyAptConfig();
  const dir = "/etc/apt/apt.conf.d";
  const names = ((await source.readDir(dir)) ?? []).filter(aptReadsPart).sort(compareC);
  for (const f of [...names.map((n) => joinPath(dir, n)), "/etc/apt/apt.conf"]) {
    const text = await source.readText(f);
    if (text !== null) parseAptConf(text, f, config);
  }
  return config;
}
