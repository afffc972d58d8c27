/**
 * sudoers(5): user specifications, Defaults, aliases and the include directives
 * (`#include`, `@include`, `#includedir`, `@includedir`), resolved in the order sudo reads them.
 */
import type { SudoRule } from "../types.js";
import { compareC, IncludeBudget, joinPath, type FileSource } from "./common.js";

export type SudoAliasKind = "User_Alias" | "Runas_Alias" | "Host_Alias" | "Cmnd_Alias";

export interface ParsedSudoers {
  rules: SudoRule[];
  defaults: { value: string; source: string }[];
  aliases: Record<SudoAliasKind, Record<string, string[]>>;
  includes: { kind: "file" | "dir"; path: string; source: string }[];
}

function emptyParsed(): ParsedSudoers {
  return {
    rules: [],
    defaults: [],
    aliases: { User_Alias: {}, Runas_Alias: {}, Host_Alias: {}, Cmnd_Alias: {} },
    includes: [],
  };
}

/** Logical lines: backslash-newline joins lines; `#` starts a comment except in include directives. */
function logicalLines(text: string): { text: string; line: number }[] {
  const out: { text: string; line: number }[] = [];
  const raw = text.split(/\r?\n/);
  for (let i = 0; i < raw.length; i++) {
    const start = i + 1;
    let line = raw[i] as string;
    while (line.endsWith("\\") && i + 1 < raw.length) {
      line = `${line.slice(0, -1)} ${raw[++i] as string}`;
    }
    out.push({ text: line.trim(), line: start });
  }
  return out;
}

function stripComment(line: string): string {
  // `#` followed by digits is a uid (`#1000`), not a comment.
  const m = /(^|[^\\])#(?!\d)/.exec(line);
  return (m ? line.slice(0, m.index + (m[1] as string).length) : line).trim();
}

function splitList(list: string): string[] {
  return list
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/** Parse one sudoers file without following its includes. */
export function parseSudoers(text: string, path: string): ParsedSudoers {
  const parsed = emptyParsed();
  for (const { text: rawLine, line } of logicalLines(text)) {
    const source = `${path}:${line}`;
    const include = /^[#@](include|includedir)\s+(.+)$/.exec(rawLine);
    if (include) {
      const target = (include[2] as string).trim().replace(/^"(.*)"$/, "$1");
      parsed.includes.push({
        kind: include[1] === "includedir" ? "dir" : "file",
        path: target,
        source,
      });
      continue;
    }
    const text1 = stripComment(rawLine);
    if (text1 === "") continue;
    if (/^Defaults([:@!>]|\s|$)/.test(text1)) {
      parsed.defaults.push({ value: text1.replace(/\s+/g, " "), source });
      continue;
    }
    const alias = /^(User_Alias|Runas_Alias|Host_Alias|Cmnd_Alias|Cmd_Alias)\s+(.*)$/.exec(text1);
    if (alias) {
      const kind = (alias[1] === "Cmd_Alias" ? "Cmnd_Alias" : alias[1]) as SudoAliasKind;
      // `NAME = a, b : NAME2 = c`
      for (const def of (alias[2] as string).split(":")) {
        const eq = def.indexOf("=");
        if (eq <= 0) continue;
        parsed.aliases[kind][def.slice(0, eq).trim()] = splitList(def.slice(eq + 1));
      }
      continue;
    }
    const eq = text1.indexOf("=");
    if (eq <= 0) continue;
    // "alice, %wheel  ALL" → users "alice,%wheel", host list "ALL".
    const left = text1
      .slice(0, eq)
      .replace(/\s*,\s*/g, ",")
      .trim();
    const parts = left.split(/\s+/);
    if (parts.length < 2) continue;
    const users = splitList(parts[0] as string);
    const spec = `${parts.slice(1).join(" ")}=${text1.slice(eq + 1).trim()}`.replace(/\s+/g, " ");
    for (const who of users) parsed.rules.push({ who, spec, source });
  }
  return parsed;
}

/** Files sudo reads from an `@includedir`: names without `.` and not ending in `~`, sorted. */
export function includedirFiles(names: string[]): string[] {
  return names.filter((n) => !n.includes(".") && !n.endsWith("~")).sort(compareC);
}

function dirOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash <= 0 ? "/" : path.slice(0, slash);
}

/**
 * Read a sudoers file and everything it includes, in order, then expand User_Alias names
 * in rules (nested aliases too) so each rule names a user, `%group` or `ALL`.
 */
export async function readSudoers(
  source: FileSource,
  path = "/etc/sudoers",
): Promise<ParsedSudoers & { files: string[]; errors: string[] }> {
  const merged = emptyParsed();
  const files: string[] = [];
  const errors: string[] = [];
  // sudo itself stops at 128 nested includes.
  const budget = new IncludeBudget(errors, 128, true);
  const visit = (file: string, from: string | null): Promise<void> =>
    budget.visit(file, from, () => read(file, from !== null));
  const read = async (file: string, included: boolean): Promise<void> => {
    const text = await source.readText(file);
    if (text === null) {
      if (included) errors.push(`${file}: included but not found`);
      return;
    }
    files.push(file);
    const parsed = parseSudoers(text, file);
    merged.defaults.push(...parsed.defaults);
    for (const kind of Object.keys(parsed.aliases) as SudoAliasKind[]) {
      Object.assign(merged.aliases[kind], parsed.aliases[kind]);
    }
    merged.includes.push(...parsed.includes);
    // Rules and includes interleave in file order; includes are read where they appear.
    const ordered: (
      { at: number; rule: SudoRule } | { at: number; include: (typeof parsed.includes)[number] }
    )[] = [
      ...parsed.rules.map((rule) => ({ at: lineOf(rule.source), rule })),
      ...parsed.includes.map((include) => ({ at: lineOf(include.source), include })),
    ].sort((a, b) => a.at - b.at);
    for (const item of ordered) {
      if ("rule" in item) {
        merged.rules.push(item.rule);
        continue;
      }
      const target = item.include.path.startsWith("/")
        ? item.include.path
        : joinPath(dirOf(file), item.include.path);
      if (item.include.kind === "file") await visit(target, item.include.source);
      else
        for (const name of includedirFiles((await source.readDir(target)) ?? [])) {
          await visit(joinPath(target, name), item.include.source);
        }
    }
  };
  await visit(path, null);
  merged.rules = expandUserAliases(merged.rules, merged.aliases.User_Alias);
  return { ...merged, files, errors };
}

function lineOf(source: string): number {
  return Number.parseInt(source.slice(source.lastIndexOf(":") + 1), 10);
}

/** Replace rules whose `who` is a User_Alias by one rule per member (recursively). */
export function expandUserAliases(
  rules: SudoRule[],
  aliases: Record<string, string[]>,
): SudoRule[] {
  const expand = (name: string, seen: Set<string>): string[] => {
    const negated = name.startsWith("!");
    const bare = negated ? name.slice(1) : name;
    const members = aliases[bare];
    if (members === undefined || seen.has(bare)) return [name];
    const next = new Set(seen).add(bare);
    const out = members.flatMap((m) => expand(m, next));
    return negated ? out.map((m) => (m.startsWith("!") ? m.slice(1) : `!${m}`)) : out;
  };
  return rules.flatMap((rule) => expand(rule.who, new Set()).map((who) => ({ ...rule, who })));
}
