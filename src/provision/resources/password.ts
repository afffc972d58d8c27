/**
 * Password policy (ACC-04): pwquality minimum length, lockout after the profile's failed
 * attempts with pam_faillock in the auth stack, and yescrypt for new hashes.
 */
import { setting } from "../../checks/util.js";
import { managedPath } from "../../facts/managed.js";
import type { Change } from "../types.js";
import { disableOverrides, fileChange, header, managedText, type PlanContext } from "./common.js";

const resource = "password";
const defaultMinLength = 12;
const defaultLockout = 5;
const strong = ["yescrypt", "sha512"];

/**
 * common-auth with pam_faillock around pam_unix (the pam_faillock(8) recipe): preauth before,
 * authfail after, and pam_unix's success jump widened by one so it still skips pam_deny.
 */
export function withFaillock(text: string): string {
  if (/pam_faillock\.so/.test(text)) return text;
  const lines = text.split("\n");
  const index = lines.findIndex((l) => /^\s*auth\s+.*pam_unix\.so/.test(l));
  if (index < 0) return text;
  const unix = (lines[index] as string).replace(
    /success=(\d+)/,
    (_, n: string) => `success=${Number(n) + 1}`,
  );
  lines.splice(
    index,
    1,
    // PAM has no trailing comments (a "#" would become a module argument): own lines.
    "# koffer: lockout after failed logins (ACC-04)",
    "auth\trequired\t\t\tpam_faillock.so preauth",
    unix,
    "auth\t[default=die]\t\t\tpam_faillock.so authfail",
  );
  return lines.join("\n");
}

export function withFaillockAccount(text: string): string {
  if (/pam_faillock\.so/.test(text)) return text;
  const body = text.endsWith("\n") ? text : `${text}\n`;
  return `${body}# koffer: reset the failure count after a good login (ACC-04)\naccount\trequired\t\t\tpam_faillock.so\n`;
}

export function withYescrypt(text: string): string {
  const lines = text.split("\n");
  let found = false;
  const next = lines.map((l) => {
    if (!/^\s*ENCRYPT_METHOD\s/.test(l)) return l;
    found = true;
    return "ENCRYPT_METHOD YESCRYPT";
  });
  if (!found)
    next.splice(next.length - (text.endsWith("\n") ? 1 : 0), 0, "ENCRYPT_METHOD YESCRYPT");
  return next.join("\n");
}

/** A line-level edit of a file koffer does not own outright, keeping its mode and owner. */
function edit(
  ctx: PlanContext,
  path: string,
  change: (text: string) => string,
  summary: string,
  satisfied: boolean,
): Change[] {
  const text = managedText(ctx.facts, path);
  if (text === null || satisfied) return [];
  const next = change(text);
  if (next === text) return [];
  const known = ctx.facts.managedFiles?.[path];
  return fileChange(ctx, {
    resource,
    path,
    content: next,
    mode: known?.mode,
    uid: known?.uid,
    gid: known?.gid,
    summary,
    controls: ["ACC-04"],
    satisfied: false,
  });
}

export function planPassword(ctx: PlanContext): Change[] {
  const acc = ctx.facts.accounts;
  const minLength = ctx.profile.spec.accounts.password?.minLength ?? defaultMinLength;
  const lockout = ctx.profile.spec.accounts.password?.lockoutAttempts ?? defaultLockout;
  const minlen = Number(setting(acc.pwquality, "minlen")?.value);
  const deny = Number(setting(acc.faillock, "deny")?.value ?? "3");
  const pamFaillock = Object.values(acc.pamModules).some((m) => m.includes("pam_faillock.so"));
  const method = setting(acc.loginDefs, "ENCRYPT_METHOD")?.value.toLowerCase();
  return [
    ...fileChange(ctx, {
      resource,
      path: managedPath.pwquality,
      content: `${header()}minlen = ${minLength}\n`,
      summary: `passwords at least ${minLength} characters`,
      controls: ["ACC-04"],
      satisfied: minlen >= minLength,
    }),
    ...disableOverrides(ctx, {
      resource,
      controls: ["ACC-04"],
      own: managedPath.pwquality,
      settings: acc.pwquality,
      wanted: { minlen: (v) => Number(v) >= minLength },
    }),
    ...fileChange(ctx, {
      resource,
      path: managedPath.faillock,
      content: `${header()}deny = ${lockout}\nunlock_time = 900\naudit\n`,
      summary: `lock an account for 15 min after ${lockout} failed logins`,
      controls: ["ACC-04"],
      satisfied: deny >= 1 && deny <= lockout,
    }),
    ...edit(ctx, managedPath.pamAuth, withFaillock, "pam_faillock in common-auth", pamFaillock),
    ...edit(
      ctx,
      managedPath.pamAccount,
      withFaillockAccount,
      "pam_faillock in common-account",
      pamFaillock,
    ),
    ...edit(
      ctx,
      managedPath.loginDefs,
      withYescrypt,
      "new password hashes with yescrypt",
      method !== undefined && strong.includes(method),
    ),
  ];
}
