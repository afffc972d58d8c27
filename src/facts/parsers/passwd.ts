/**
 * /etc/passwd, /etc/shadow, /etc/group. Shadow yields only lock state, emptiness and hash
 * scheme: the hash itself never leaves this module.
 */
import type { PasswdEntry, ShadowEntry } from "../types.js";

function fields(text: string): string[][] {
  return text
    .split(/\r?\n/)
    .filter((l) => l.trim() !== "" && !l.startsWith("#"))
    .map((l) => l.split(":"));
}

/** Parse passwd(5); NIS `+`/`-` lines are skipped. */
export function parsePasswd(text: string): PasswdEntry[] {
  return fields(text)
    .filter((f) => f.length >= 7 && !/^[+-]/.test(f[0] ?? ""))
    .map((f) => ({
      name: f[0] as string,
      uid: Number.parseInt(f[2] as string, 10),
      gid: Number.parseInt(f[3] as string, 10),
      home: f[5] as string,
      shell: f[6] as string,
    }));
}

const schemes: Record<string, string> = {
  y: "yescrypt",
  gy: "gost-yescrypt",
  "7": "scrypt",
  "6": "sha512",
  "5": "sha256",
  "2a": "bcrypt",
  "2b": "bcrypt",
  "2y": "bcrypt",
  "1": "md5",
  sha1: "sha1",
};

/** The crypt(5) scheme of a hash ("$y$…" → "yescrypt"), "des" for 13-char legacy hashes. */
export function hashScheme(hash: string): string | null {
  const m = /^\$([^$]+)\$/.exec(hash);
  if (m) return schemes[m[1] as string] ?? m[1] ?? null;
  if (/^[./0-9A-Za-z]{13}$/.test(hash)) return "des";
  return null;
}

/** Is an account expired at `now`, as pam_unix counts it (today's day number ≥ the expire day)? */
export function accountExpired(expireDay: number | undefined, now: Date): boolean {
  return expireDay !== undefined && Math.floor(now.getTime() / 86_400_000) >= expireDay;
}

/** Parse shadow(5) into lock state, emptiness, scheme and account expiry. */
export function parseShadow(text: string): ShadowEntry[] {
  return fields(text)
    .filter((f) => f.length >= 2)
    .map((f) => {
      const pw = f[1] as string;
      const locked = pw.startsWith("!") || pw.startsWith("*");
      const hash = pw.replace(/^!+/, "");
      // Field 8: the day (since 1970-01-01) the account expires; empty = never.
      const expire = /^\d+$/.test(f[7] ?? "") ? Number(f[7]) : null;
      return {
        name: f[0] as string,
        locked,
        empty: pw === "",
        scheme: hash === "" || hash.startsWith("*") ? null : hashScheme(hash),
        ...(expire === null ? {} : { expireDay: expire }),
      };
    });
}

/** Parse group(5). */
export function parseGroup(text: string): { name: string; gid: number; members: string[] }[] {
  return fields(text)
    .filter((f) => f.length >= 4)
    .map((f) => ({
      name: f[0] as string,
      gid: Number.parseInt(f[2] as string, 10),
      members: (f[3] as string)
        .split(",")
        .filter((m) => m.trim() !== "")
        .map((m) => m.trim()),
    }));
}
