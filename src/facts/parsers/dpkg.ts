/**
 * dpkg's status database (/var/lib/dpkg/status) and file lists (/var/lib/dpkg/info/*.list).
 */
import type { PackageFact } from "../types.js";

/** Parse RFC 822-style stanzas (blank-line separated, continuation lines start with space/tab). */
export function parseStanzas(text: string): Record<string, string>[] {
  const stanzas: Record<string, string>[] = [];
  let current: Record<string, string> = {};
  let lastKey: string | null = null;
  for (const raw of text.split(/\r?\n/)) {
    if (raw.trim() === "") {
      if (Object.keys(current).length > 0) stanzas.push(current);
      current = {};
      lastKey = null;
      continue;
    }
    if (raw.startsWith("#")) continue;
    if ((raw.startsWith(" ") || raw.startsWith("\t")) && lastKey !== null) {
      current[lastKey] += `\n${raw.trim()}`;
      continue;
    }
    const colon = raw.indexOf(":");
    if (colon <= 0) continue;
    lastKey = raw.slice(0, colon).trim();
    current[lastKey] = raw.slice(colon + 1).trim();
  }
  if (Object.keys(current).length > 0) stanzas.push(current);
  return stanzas;
}

const wantAbbrev: Record<string, string> = {
  unknown: "u",
  install: "i",
  hold: "h",
  deinstall: "r",
  purge: "p",
};
const stateAbbrev: Record<string, string> = {
  "not-installed": "n",
  "config-files": "c",
  "half-installed": "H",
  unpacked: "U",
  "half-configured": "F",
  "triggers-awaited": "W",
  "triggers-pending": "t",
  installed: "i",
};

/**
 * dpkg's `${db:Status-Abbrev}` for a `Status:` value, without the trailing space
 * dpkg prints for "no error": "install ok installed" → "ii", "deinstall ok config-files" → "rc",
 * "install reinstreq half-installed" → "iHR".
 */
export function statusAbbrev(status: string): string {
  const [want = "", error = "", state = ""] = status.trim().split(/\s+/);
  const err = error === "reinstreq" ? "R" : "";
  return `${wantAbbrev[want] ?? "?"}${stateAbbrev[state] ?? "?"}${err}`;
}

/**
 * dpkg's status database grows with the packages installed (a large desktop: ~5 MB), so it
 * gets a larger read cap than the 8 MiB default of other files.
 */
export const dpkgStatusMaxBytes = 64 * 1024 * 1024;

/** Parse /var/lib/dpkg/status: every package, whatever its status. */
export function parseDpkgStatus(text: string): PackageFact[] {
  const out: PackageFact[] = [];
  for (const s of parseStanzas(text)) {
    const name = s["Package"];
    if (!name) continue;
    const fact: PackageFact = {
      name,
      version: s["Version"] ?? "",
      status: statusAbbrev(s["Status"] ?? ""),
    };
    if (s["Architecture"]) fact.arch = s["Architecture"];
    out.push(fact);
  }
  return out;
}

/** Only the packages dpkg considers installed (`ii`). */
export function installedPackages(packages: PackageFact[]): PackageFact[] {
  return packages.filter((p) => p.status === "ii");
}

/**
 * Package name from a file list name: "base-files.list" → "base-files",
 * "libc6:amd64.list" → "libc6".
 */
export function packageOfListFile(fileName: string): string | null {
  if (!fileName.endsWith(".list")) return null;
  const base = fileName.slice(0, -".list".length);
  const colon = base.indexOf(":");
  return colon === -1 ? base : base.slice(0, colon);
}

/** Add a file list's paths to a path → package index (first owner wins, like `dpkg -S` lists). */
export function indexFileList(index: Map<string, string>, pkg: string, listText: string): void {
  for (const line of listText.split("\n")) {
    const path = line.trim();
    if (path !== "" && !index.has(path)) index.set(path, pkg);
  }
}
