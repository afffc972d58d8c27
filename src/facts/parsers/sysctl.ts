/**
 * sysctl.d(5) as systemd-sysctl applies it, and limits.conf(5).
 */
import type { ChainLink, Setting } from "../types.js";
import { assign, notRead, withNotes } from "../effective.js";
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

/**
 * An integer value as the kernel's proc_dointvec reads what systemd-sysctl writes: strtoul
 * with base 0 (`0x1` is 1, `010` is 8, `00` is 0); NaN for anything else.
 */
export function sysctlInteger(value: string | undefined): number {
  const t = (value ?? "").trim();
  if (/^0x[0-9a-f]+$/i.test(t)) return Number.parseInt(t.slice(2), 16);
  if (/^0[0-7]*$/.test(t)) return Number.parseInt(t, 8);
  return /^[1-9]\d*$/.test(t) ? Number.parseInt(t, 10) : Number.NaN;
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
 * The files systemd-sysctl reads, in order: `*.conf` from {@link sysctlDirs}, a name in a
 * higher directory hiding the same name below, sorted by file name (C order). systemd-sysctl
 * never reads /etc/sysctl.conf itself: on Debian 12 it applies only through the
 * /etc/sysctl.d/99-sysctl.conf link (shipped by procps); without the link its values are
 * not applied at boot, which `notes` records.
 */
export async function sysctlFiles(
  source: FileSource,
): Promise<{ files: string[]; notes: ChainLink[] }> {
  const byName = new Map<string, string>();
  const notes: ChainLink[] = [];
  for (const dir of sysctlDirs) {
    for (const name of ((await source.readDir(dir)) ?? []).sort(compareC)) {
      if (!name.endsWith(".conf")) continue;
      const path = joinPath(dir, name);
      const winner = byName.get(name);
      if (winner === undefined) byName.set(name, path);
      else notes.push(notRead(path, `hidden by ${winner}`));
    }
  }
  const files = [...byName.keys()].sort(compareC).map((n) => byName.get(n) as string);
  if (!byName.has("99-sysctl.conf") && (await source.readText("/etc/sysctl.conf")) !== null) {
    notes.push(
      notRead("/etc/sysctl.conf", "/etc/sysctl.d/99-sysctl.conf (the link to it) is missing"),
    );
  }
  return { files, notes };
}

/**
 * Merge sysctl settings as systemd-sysctl applies them: the later assignment of a key wins;
 * each setting's chain shows what it overrides and which files were not read.
 */
export async function readSysctl(source: FileSource): Promise<Record<string, Setting>> {
  const out: Record<string, Setting> = {};
  const { files, notes } = await sysctlFiles(source);
  for (const file of files) {
    const text = await source.readText(file);
    if (text === null) continue;
    for (const { key, setting: s } of parseSysctl(text, file)) {
      const line = Number(s.source.slice(s.source.lastIndexOf(":") + 1));
      assign(out, key, s.value, file, line);
    }
  }
  withNotes(out, notes);
  return out;
}

/** The files systemd-sysctl does not read (for evidence on keys no file sets). */
export async function sysctlNotRead(source: FileSource): Promise<ChainLink[]> {
  return (await sysctlFiles(source)).notes;
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
