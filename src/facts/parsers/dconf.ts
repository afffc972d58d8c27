/**
 * dconf system databases as `dconf compile` builds them: /etc/dconf/profile/user names the
 * databases; keyfiles in /etc/dconf/db/NAME.d/ (name order, later wins) and lock files in
 * /etc/dconf/db/NAME.d/locks/.
 */
import type { DconfDatabase, Setting } from "../types.js";
import { compareC, contentLines, joinPath, setting, type FileSource } from "./common.js";
import { parseIni } from "./systemd-ini.js";

/** Parse a dconf profile: `user-db:NAME`, `system-db:NAME`. */
export function parseDconfProfile(text: string): { userDbs: string[]; systemDbs: string[] } {
  const userDbs: string[] = [];
  const systemDbs: string[] = [];
  for (const { text: line } of contentLines(text)) {
    const m = /^(user-db|system-db|service-db|file-db):(\S+)/.exec(line);
    if (m?.[1] === "user-db") userDbs.push(m[2] as string);
    if (m?.[1] === "system-db") systemDbs.push(m[2] as string);
  }
  return { userDbs, systemDbs };
}

/** Keys of a dconf keyfile as `section/key` paths ("org/gnome/desktop/session/idle-delay"). */
export function parseDconfKeyfile(text: string, path: string): Record<string, Setting> {
  const out: Record<string, Setting> = {};
  for (const e of parseIni(text)) {
    if (e.section === "") continue;
    const section = e.section.replace(/^\/+|\/+$/g, "");
    out[`${section}/${e.key}`] = setting(e.value, path, e.line);
  }
  return out;
}

/** Lock file lines: key paths, written with a leading `/` which is dropped here. */
export function parseDconfLocks(text: string): string[] {
  return contentLines(text).map((l) => l.text.replace(/^\/+/, ""));
}

export interface DconfFacts {
  profileUserHasSystemDb: boolean;
  keys: Record<string, Setting>;
  locks: string[];
  databases?: DconfDatabase[];
}

/** A file source that can also tell modification times (a Target). */
type StatSource = FileSource & { stat?(path: string): Promise<{ mtimeMs: number } | null> };

/**
 * Read the system databases the user profile names. Without a profile, every
 * /etc/dconf/db/*.d is read so the evidence still shows what is there.
 */
export async function readDconf(source: StatSource): Promise<DconfFacts> {
  const profileText = await source.readText("/etc/dconf/profile/user");
  const profile = profileText === null ? null : parseDconfProfile(profileText);
  let dbs = profile?.systemDbs ?? [];
  if (profile === null) {
    dbs = ((await source.readDir("/etc/dconf/db")) ?? [])
      .filter((n) => n.endsWith(".d"))
      .map((n) => n.slice(0, -2))
      .sort(compareC);
  }
  const keys: Record<string, Setting> = {};
  const locks: string[] = [];
  const databases: DconfDatabase[] = [];
  const mtime = async (path: string) => (await source.stat?.(path))?.mtimeMs ?? null;
  // The first system-db in the profile has the highest priority, so merge from the last.
  for (const db of [...dbs].reverse()) {
    const dir = `/etc/dconf/db/${db}.d`;
    const sources: string[] = [];
    const names = ((await source.readDir(dir)) ?? []).filter((n) => n !== "locks").sort(compareC);
    for (const n of names) {
      const text = await source.readText(joinPath(dir, n));
      if (text === null) continue;
      sources.push(joinPath(dir, n));
      Object.assign(keys, parseDconfKeyfile(text, joinPath(dir, n)));
    }
    const lockDir = joinPath(dir, "locks");
    for (const n of ((await source.readDir(lockDir)) ?? []).sort(compareC)) {
      const text = await source.readText(joinPath(lockDir, n));
      if (text === null) continue;
      sources.push(joinPath(lockDir, n));
      for (const l of parseDconfLocks(text)) if (!locks.includes(l)) locks.push(l);
    }
    if (source.stat === undefined) continue;
    let newestSource: string | null = null;
    let newestSourceMs: number | null = null;
    for (const path of sources) {
      const ms = await mtime(path);
      if (ms !== null && (newestSourceMs === null || ms > newestSourceMs)) {
        newestSource = path;
        newestSourceMs = ms;
      }
    }
    const path = `/etc/dconf/db/${db}`;
    databases.unshift({
      name: db,
      path,
      compiledMs: await mtime(path),
      newestSource,
      newestSourceMs,
    });
  }
  return {
    profileUserHasSystemDb: (profile?.systemDbs.length ?? 0) > 0,
    keys,
    locks,
    ...(source.stat === undefined ? {} : { databases }),
  };
}
