/**
 * cupsd.conf, chrony.conf and audit rules.
 */
import type { Setting } from "../types.js";
import { compareC, contentLines, joinPath, setting, type FileSource } from "./common.js";

export interface CupsdConf {
  /** Top-level directives (outside `<Location>`/`<Policy>` sections); the last one wins. */
  directives: Record<string, Setting>;
  /** Every `Listen` address and `Port` (as `*:PORT`), in order. */
  listen: string[];
}

/** Parse cupsd.conf(5). */
export function parseCupsdConf(text: string, path: string): CupsdConf {
  const directives: Record<string, Setting> = {};
  const listen: string[] = [];
  let depth = 0;
  for (const { text: line, line: n } of contentLines(text)) {
    if (/^<\//.test(line)) {
      depth = Math.max(0, depth - 1);
      continue;
    }
    if (line.startsWith("<")) {
      depth++;
      continue;
    }
    if (depth > 0) continue;
    const m = /^(\S+)\s*(.*)$/.exec(line);
    if (!m) continue;
    const key = m[1] as string;
    const value = (m[2] as string).trim();
    if (/^listen$/i.test(key)) listen.push(value);
    else if (/^port$/i.test(key)) listen.push(`*:${value}`);
    // cupsd compares directive names case-insensitively; keep the spelling of the documentation.
    directives[canonicalCupsd(key)] = setting(value, path, n);
  }
  return { directives, listen };
}

const cupsdNames = [
  "Listen",
  "Port",
  "Browsing",
  "BrowseLocalProtocols",
  "PreserveJobFiles",
  "PreserveJobHistory",
  "MaxJobs",
  "LogLevel",
  "WebInterface",
  "DefaultShared",
  "ServerAlias",
];
function canonicalCupsd(key: string): string {
  return cupsdNames.find((n) => n.toLowerCase() === key.toLowerCase()) ?? key;
}

/**
 * Read chrony.conf and the directories its `confdir` (*.conf) and `sourcedir` (*.sources)
 * directives name; returns each `server`/`pool`/`peer` line's arguments ("host iburst nts").
 */
export async function readChrony(
  source: FileSource,
  path = "/etc/chrony/chrony.conf",
): Promise<{ servers: string[]; files: string[] } | null> {
  const main = await source.readText(path);
  if (main === null) return null;
  const servers: string[] = [];
  const files: string[] = [path];
  const scan = (text: string): { confdirs: string[]; sourcedirs: string[] } => {
    const confdirs: string[] = [];
    const sourcedirs: string[] = [];
    for (const { text: line } of contentLines(text, "#!;%")) {
      const m = /^(\S+)\s+(.*)$/.exec(line);
      if (!m) continue;
      const [, directive, rest] = m as unknown as [string, string, string];
      if (["server", "pool", "peer"].includes(directive)) servers.push(rest.trim());
      else if (directive === "confdir") confdirs.push(...rest.trim().split(/\s+/));
      else if (directive === "sourcedir") sourcedirs.push(...rest.trim().split(/\s+/));
    }
    return { confdirs, sourcedirs };
  };
  const { confdirs, sourcedirs } = scan(main);
  const fromDirs = async (dirs: string[], ext: string) => {
    for (const dir of dirs) {
      const names = ((await source.readDir(dir)) ?? [])
        .filter((n) => n.endsWith(ext))
        .sort(compareC);
      for (const n of names) {
        const f = joinPath(dir, n);
        const text = await source.readText(f);
        if (text === null) continue;
        files.push(f);
        scan(text);
      }
    }
  };
  await fromDirs(confdirs, ".conf");
  await fromDirs(sourcedirs, ".sources");
  return { servers, files };
}

const isDigit = (c: string | undefined) => c !== undefined && c >= "0" && c <= "9";
const isAlpha = (c: string | undefined) => c !== undefined && /^[A-Za-z]$/.test(c);

/** gnulib filevercmp's order of one byte: end < digits < letters < other bytes; `~` first of all. */
function verOrder(s: string, pos: number): number {
  if (pos === s.length) return -1;
  const c = s[pos] as string;
  if (isDigit(c)) return 0;
  if (isAlpha(c)) return c.charCodeAt(0);
  if (c === "~") return -2;
  return c.charCodeAt(0) + 256;
}

/** Debian's version comparison on two strings (gnulib verrevcmp). */
function verrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !isDigit(a[i])) || (j < b.length && !isDigit(b[j]))) {
      const d = verOrder(a, i) - verOrder(b, j);
      if (d !== 0) return d;
      i++;
      j++;
    }
    while (a[i] === "0") i++;
    while (b[j] === "0") j++;
    while (isDigit(a[i]) && isDigit(b[j])) {
      if (firstDiff === 0) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (isDigit(a[i])) return 1;
    if (isDigit(b[j])) return -1;
    if (firstDiff !== 0) return firstDiff;
  }
  return 0;
}

/** The name without its suffix `(\.[A-Za-z~][A-Za-z0-9~]*)*$` (gnulib file_prefixlen). */
function filePrefix(s: string): string {
  const m = /(\.[A-Za-z~][A-Za-z0-9~]*)*$/.exec(s.slice(1));
  return m === null ? s : s.slice(0, 1 + m.index);
}

/**
 * GNU `ls -v` order, as augenrules' `ls -1v` sorts rules files: gnulib filevercmp (byte
 * classes, not the locale: "50-Local" before "50-koffer", "50" before "50-x"), ties broken
 * by strcmp as ls does.
 */
export function compareVersion(a: string, b: string): number {
  let r: number;
  if (a.startsWith(".") !== b.startsWith(".")) r = a.startsWith(".") ? -1 : 1;
  else {
    const pa = filePrefix(a);
    const pb = filePrefix(b);
    r = verrevcmp(pa, pb);
    if (r === 0 && !(pa === a && pb === b)) r = verrevcmp(a, b);
  }
  return r !== 0 ? r : compareC(a, b);
}

/**
 * Audit rules as augenrules loads them (Debian 12: auditd.service, 13: audit-rules.service):
 * the files `ls -1v /etc/audit/rules.d | grep '\.rules$'` lists — no dot files — in that
 * order. When rules.d exists but holds no rules file, augenrules still writes a new
 * audit.rules (its header line keeps the file non-empty) and loads it: no rules. Only
 * without a rules.d directory does the old /etc/audit/audit.rules stay loaded.
 * Every non-comment line is kept.
 */
export async function readAuditRules(
  source: FileSource,
): Promise<{ rule: string; source: string }[]> {
  const dir = "/etc/audit/rules.d";
  const listing = await source.readDir(dir);
  const names = (listing ?? [])
    .filter((n) => n.endsWith(".rules") && !n.startsWith("."))
    .sort(compareVersion);
  const files = listing !== null ? names.map((n) => joinPath(dir, n)) : ["/etc/audit/audit.rules"];
  const out: { rule: string; source: string }[] = [];
  for (const f of files) {
    const text = await source.readText(f);
    if (text === null) continue;
    for (const { text: line, line: n } of contentLines(text)) {
      out.push({ rule: line.replace(/\s+/g, " "), source: `${f}:${n}` });
    }
  }
  return listing !== null ? augenrulesOrder(out) : out;
}

/**
 * augenrules' awk pass over the concatenated files: the last plain `-D` first, then the last
 * `-b` and `-f`, the other lines in order, the last `-e` at the end (so a `-D` in a later
 * file deletes nothing loaded from rules.d, while `-D -k KEY` stays in place).
 */
function augenrulesOrder<T extends { rule: string }>(lines: readonly T[]): T[] {
  const last = (test: (rule: string) => boolean) => lines.filter((l) => test(l.rule)).slice(-1);
  const isD = (r: string) => r === "-D";
  const special = [isD, (r: string) => r.startsWith("-b"), (r: string) => r.startsWith("-f")];
  const isE = (r: string) => r.startsWith("-e");
  return [
    ...special.flatMap(last),
    ...lines.filter((l) => !special.some((t) => t(l.rule)) && !isE(l.rule)),
    ...last(isE),
  ];
}
