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

/** Natural ("version") order, as augenrules' `ls -1v` sorts rules files. */
export function compareVersion(a: string, b: string): number {
  return a.localeCompare(b, "en", { numeric: true });
}

/**
 * Audit rules as auditd loads them: /etc/audit/rules.d/*.rules in augenrules order, or,
 * when that directory holds none, /etc/audit/audit.rules. Every non-comment line is kept.
 */
export async function readAuditRules(
  source: FileSource,
): Promise<{ rule: string; source: string }[]> {
  const dir = "/etc/audit/rules.d";
  const names = ((await source.readDir(dir)) ?? [])
    .filter((n) => n.endsWith(".rules"))
    .sort(compareVersion);
  const files = names.length > 0 ? names.map((n) => joinPath(dir, n)) : ["/etc/audit/audit.rules"];
  const out: { rule: string; source: string }[] = [];
  for (const f of files) {
    const text = await source.readText(f);
    if (text === null) continue;
    for (const { text: line, line: n } of contentLines(text)) {
      out.push({ rule: line.replace(/\s+/g, " "), source: `${f}:${n}` });
    }
  }
  return out;
}
