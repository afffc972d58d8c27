/**
 * sysctl.d(5) as systemd-sysctl applies it, and limits.conf(5).
 */
import type { Setting } from "../types.js";
import { compareC, contentLines, joinPath, setting, type FileSource } from "./common.js";

/** systemd-sysctl's directories, highest priority first (a file name here hides the same name below). */
export const sysctlDirs = [
  "/etc/sysctl.d",
  "/run/sysctl.d",
  "/usr/local/lib/sysctl.d",
  "/usr/lib/sysctl.d",
  "/lib/sysctl.d",
];

/** `net/ipv4/ip_forward` and `net.ipv4.ip_forward` are the same key. */
export function normaliseSysctlKey(key: string): string {
  return key.startsWith("/") ? key.slice(1).replace(/\//g, ".") : key.replace(/\//g, ".");
}

/** Parse one sysctl.d file; a leading `-` (ignore errors) is dropped from the key. */
export function parseSysctl(text: string, path: string): { key: string; setting: Setting }[] {
  const out: { key: string; setting: Setting }[] = [];
  for (const { text: line, line: n } of contentLines(text, "#;")) {
    const eq = line.indexOf("=");
    if (eq <= 0) continue;
    const key = normaliseSysctlKey(line.slice(0, eq).trim().replace(/^-/, ""));
    out.push({ key, setting: setting(line.slice(eq + 1).trim(), path, n) });
  }
  return out;
}

/**
 * The files systemd-sysctl reads, in order: `*.conf` from {@link sysctlDirs} sorted by
 * file name. /etc/sysctl.conf comes last (procps `sysctl --system` reads it last; Debian
 * also links it as /etc/sysctl.d/99-sysctl.conf, in which case it is not read twice).
 */
export async function sysctlFiles(source: FileSource): Promise<string[]> {
  const byName = new Map<string, string>();
  for (const dir of sysctlDirs) {
    for (const name of (await source.readDir(dir)) ?? []) {
      if (name.endsWith(".conf") && !byName.has(name)) byName.set(name, joinPath(dir, name));
    }
  }
  const files = [...byName.keys()].sort(compareC).map((n) => byName.get(n) as string);
  if (!byName.has("99-sysctl.conf") && (await source.readText("/etc/sysctl.conf")) !== null) {
    files.push("/etc/sysctl.conf");
  }
  return files;
}

/** Merge sysctl settings; the later assignment of a key wins. */
export async function readSysctl(source: FileSource): Promise<Record<string, Setting>> {
  const out: Record<string, Setting> = {};
  for (const file of await sysctlFiles(source)) {
    const text = await source.readText(file);
    if (text === null) continue;
    for (const { key, setting: s } of parseSysctl(text, file)) out[key] = s;
  }
  return out;
}

export interface LimitEntry {
  domain: string;
  type: string;
  item: string;
  value: string;
  source: string;
}

/** Parse limits.conf(5): `<domain> <type> <item> <value>`. */
export function parseLimits(text: string, path: string): LimitEntry[] {
  const out: LimitEntry[] = [];
  for (const { text: line, line: n } of contentLines(text)) {
    const f = line.replace(/#.*$/, "").trim().split(/\s+/);
    if (f.length < 4) continue;
    out.push({
      domain: f[0] as string,
      type: f[1] as string,
      item: f[2] as string,
      value: f[3] as string,
      source: `${path}:${n}`,
    });
  }
  return out;
}

/** limits.conf then limits.d/*.conf in C-locale order, as pam_limits reads them. */
export async function readLimits(source: FileSource): Promise<LimitEntry[]> {
  const out: LimitEntry[] = [];
  const files = ["/etc/security/limits.conf"];
  const names = (await source.readDir("/etc/security/limits.d")) ?? [];
  for (const n of names.filter((x) => x.endsWith(".conf")).sort(compareC)) {
    files.push(joinPath("/etc/security/limits.d", n));
  }
  for (const f of files) {
    const text = await source.readText(f);
    if (text !== null) out.push(...parseLimits(text, f));
  }
  return out;
}
