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
 * The value each key has for the profile's user, as dconf's engine reads it
 * (engine/dconf-engine.c, dconf_engine_read): the LAST database in the profile that locks the
 * key sets the level, and the value is the first one found from that database on; without a
 * lock, the first database that has the key (the user's own database, which comes first in
 * the profile, is not read here: the lock check says whether it can differ).
 */
export function effectiveKeys(
  dbs: { keys: Record<string, Setting>; locks: ReadonlySet<string> }[],
): Record<string, Setting> {
  const out: Record<string, Setting> = {};
  const all = new Set(dbs.flatMap((d) => Object.keys(d.keys)));
  for (const key of all) {
    let level = 0;
    for (let i = dbs.length - 1; i >= 0; i--)
      if (dbs[i]?.locks.has(key)) {
        level = i;
        break;
      }
    const from = dbs.slice(level).find((d) => d.keys[key] !== undefined);
    if (from !== undefined) out[key] = from.keys[key] as Setting;
  }
  return out;
}

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
  const locks: string[] = [];
  const databases: DconfDatabase[] = [];
  const perDb: { keys: Record<string, Setting>; locks: Set<string> }[] = [];
  const mtime = async (path: string) => (await source.stat?.(path))?.mtimeMs ?? null;
  for (const db of [...dbs].reverse()) {
    const dir = `/etc/dconf/db/${db}.d`;
    const sources: string[] = [];
    const dbKeys: Record<string, Setting> = {};
    const dbLocks = new Set<string>();
    perDb.unshift({ keys: dbKeys, locks: dbLocks });
    const names = ((await source.readDir(dir)) ?? []).filter((n) => n !== "locks").sort(compareC);
    for (const n of names) {
      const text = await source.readText(joinPath(dir, n));
      if (text === null) continue;
      sources.push(joinPath(dir, n));
      Object.assign(dbKeys, parseDconfKeyfile(text, joinPath(dir, n)));
    }
    const lockDir = joinPath(dir, "locks");
    for (const n of ((await source.readDir(lockDir)) ?? []).sort(compareC)) {
      const text = await source.readText(joinPath(lockDir, n));
      if (text === null) continue;
      sources.push(joinPath(lockDir, n));
      for (const l of parseDconfLocks(text)) {
        dbLocks.add(l);
        if (!locks.includes(l)) locks.push(l);
      }
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
    keys: effectiveKeys(perDb),
    locks,
    ...(source.stat === undefined ? {} : { databases }),
  };
}
