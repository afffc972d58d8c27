/**
 * systemd-style configuration files (journald.conf, coredump.conf, sleep.conf,
 * timesyncd.conf, resolved.conf) with their drop-in directories, merged the way
 * systemd does (systemd.syntax(7), e.g. journald.conf(5) "CONFIGURATION DIRECTORIES AND PRECEDENCE").
 */
import type { Setting } from "../types.js";
import { compareC, joinPath, setting, type FileSource } from "./common.js";

export interface IniEntry {
  section: string;
  key: string;
  value: string;
  line: number;
}

/** Parse an ini file (`[Section]`, `Key=Value`, `#`/`;` comments, backslash continuation). */
export function parseIni(text: string): IniEntry[] {
  const out: IniEntry[] = [];
  let section = "";
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const start = i + 1;
    let line = (lines[i] as string).trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    while (line.endsWith("\\") && i + 1 < lines.length) {
      line = `${line.slice(0, -1)} ${(lines[++i] as string).trim()}`;
    }
    const sec = /^\[(.+)\]$/.exec(line);
    if (sec) {
      section = (sec[1] as string).trim();
      continue;
    }
    const eq = line.indexOf("=");
    if (eq <= 0) continue;
    out.push({
      section,
      key: line.slice(0, eq).trim(),
      value: line.slice(eq + 1).trim(),
      line: start,
    });
  }
  return out;
}

/** The directories systemd searches for `<name>.conf` and `<name>.conf.d/`, highest priority first. */
export const systemdConfDirs = [
  "/etc/systemd",
  "/run/systemd",
  "/usr/local/lib/systemd",
  "/usr/lib/systemd",
];

/**
 * The files systemd reads for a daemon's config, in application order: the main file
 * (the first found, /etc first), then every `*.conf` drop-in sorted by file name across all
 * directories, where a name in a higher-priority directory hides the same name below it.
 */
export async function systemdConfFiles(source: FileSource, name: string): Promise<string[]> {
  const files: string[] = [];
  for (const dir of systemdConfDirs) {
    const main = joinPath(dir, `${name}.conf`);
    if ((await source.readText(main)) !== null) {
      files.push(main);
      break;
    }
  }
  const dropIns = new Map<string, string>();
  for (const dir of [...systemdConfDirs, "/lib/systemd"]) {
    const d = joinPath(dir, `${name}.conf.d`);
    for (const entry of (await source.readDir(d)) ?? []) {
      if (entry.endsWith(".conf") && !dropIns.has(entry)) dropIns.set(entry, joinPath(d, entry));
    }
  }
  for (const entry of [...dropIns.keys()].sort(compareC)) files.push(dropIns.get(entry) as string);
  return files;
}

/**
 * Merge `[section]` settings from text already read, in order; later assignments win and an
 * empty assignment (`Storage=`) resets the key to its built-in default (the key is removed).
 * Keys in `lists` are lists as the daemon parses them (timesyncd's `NTP=`): each assignment
 * adds its space-separated words to what the files before set, and only an empty one clears.
 */
export function mergeIniSection(
  files: { path: string; text: string }[],
  section: string,
  lists: readonly string[] = [],
): Record<string, Setting> {
  const out: Record<string, Setting> = {};
  for (const { path, text } of files) {
    for (const e of parseIni(text)) {
      if (e.section !== section) continue;
      const before = out[e.key];
      if (e.value === "") delete out[e.key];
      else if (lists.includes(e.key) && before !== undefined)
        out[e.key] = {
          ...setting(`${before.value} ${e.value}`, path, e.line),
          chain: [
            ...(before.chain ?? [
              {
                file: before.source.slice(0, before.source.lastIndexOf(":")),
                line: Number(before.source.slice(before.source.lastIndexOf(":") + 1)),
                value: before.value,
                note: "set",
              },
            ]),
            { file: path, line: e.line, value: e.value, note: "adds to the lines before" },
          ],
        };
      else out[e.key] = setting(e.value, path, e.line);
    }
  }
  return out;
}

/** Read and merge one section of a systemd daemon config (e.g. "journald", "Journal"). */
export async function readSystemdConf(
  source: FileSource,
  name: string,
  section: string,
  lists: readonly string[] = [],
): Promise<Record<string, Setting>> {
  const files: { path: string; text: string }[] = [];
  for (const path of await systemdConfFiles(source, name)) {
    const text = await source.readText(path);
    if (text !== null) files.push({ path, text });
  }
  return mergeIniSection(files, section, lists);
}
