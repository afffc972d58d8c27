/**
 * Accounts: passwd, shadow (lock state and scheme only), groups, sudoers with includes and
 * aliases, login.defs, pwquality, faillock, PAM module lists, display-manager and getty
 * autologin, and the dconf system database with its locks.
 */
import type { Target } from "../targets/types.js";
import type { AccountsFacts, GatherContext, Setting } from "./types.js";
import { compareC, joinPath } from "./parsers/common.js";
import { readDconf } from "./parsers/dconf.js";
import { parseKeyValue } from "./parsers/keyvalue.js";
import { parseGroup, parsePasswd, parseShadow } from "./parsers/passwd.js";
import { readSudoers } from "./parsers/sudoers.js";
import { parseIni } from "./parsers/systemd-ini.js";

/** PAM service files whose module stacks the controls read. */
export const pamFiles = [
  "common-auth",
  "common-account",
  "common-password",
  "common-session",
  "login",
  "sudo",
  "sshd",
  "gdm-password",
  "lightdm",
  "sddm",
];

export function emptyAccountsFacts(): AccountsFacts {
  return {
    passwd: [],
    shadow: [],
    groups: [],
    sudoRules: [],
    sudoDefaults: [],
    loginDefs: {},
    pwquality: {},
    faillock: {},
    pamModules: {},
    autologin: [],
    dconf: { profileUserHasSystemDb: false, keys: {}, locks: [] },
  };
}

/** Module names of a PAM file in order ("pam_unix.so"); `@include X` is kept as written. */
export function parsePamModules(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/#.*$/, "").trim();
    if (line === "") continue;
    if (line.startsWith("@include")) {
      out.push(line.replace(/\s+/g, " "));
      continue;
    }
    // type [control] module args; the control may be a bracketed list with spaces.
    const m = /^-?\S+\s+(\[[^\]]*\]|\S+)\s+(\S+)/.exec(line);
    if (m) out.push((m[2] as string).replace(/^.*\//, ""));
  }
  return out;
}

/** conf files in the drop-in directories after (and overriding) the main file, in name order. */
async function withDropIns(
  target: Target,
  main: string,
  dirs: string[],
): Promise<{ path: string; text: string }[]> {
  const out: { path: string; text: string }[] = [];
  for (const dir of dirs) {
    for (const name of ((await target.readDir(dir)) ?? [])
      .filter((n) => n.endsWith(".conf"))
      .sort(compareC)) {
      const text = await target.readText(joinPath(dir, name));
      if (text !== null) out.push({ path: joinPath(dir, name), text });
    }
  }
  const text = await target.readText(main);
  if (text !== null) out.push({ path: main, text });
  return out;
}

function iniValue(
  text: string,
  sections: string[],
  key: string,
): { value: string; line: number } | null {
  let found: { value: string; line: number } | null = null;
  for (const e of parseIni(text)) {
    if (sections.includes(e.section) && e.key === key) found = { value: e.value, line: e.line };
  }
  return found;
}

const truthy = (v: string | undefined) => v !== undefined && /^(true|yes|1)$/i.test(v.trim());

async function autologin(target: Target): Promise<AccountsFacts["autologin"]> {
  const out: AccountsFacts["autologin"] = [];
  // GDM (Debian reads daemon.conf; custom.conf is the upstream name).
  for (const path of ["/etc/gdm3/daemon.conf", "/etc/gdm3/custom.conf"]) {
    const text = await target.readText(path);
    if (text === null) continue;
    for (const [enable, user] of [
      ["AutomaticLoginEnable", "AutomaticLogin"],
      ["TimedLoginEnable", "TimedLogin"],
    ] as const) {
      const on = iniValue(text, ["daemon"], enable);
      if (on && truthy(on.value)) {
        out.push({
          kind: "gdm3",
          user: iniValue(text, ["daemon"], user)?.value ?? null,
          source: `${path}:${on.line}`,
        });
      }
    }
  }
  // LightDM: later files override earlier ones; the last autologin-user decides.
  const lightdmFiles: string[] = [];
  for (const dir of ["/usr/share/lightdm/lightdm.conf.d", "/etc/lightdm/lightdm.conf.d"]) {
    for (const n of ((await target.readDir(dir)) ?? [])
      .filter((x) => x.endsWith(".conf"))
      .sort(compareC)) {
      lightdmFiles.push(joinPath(dir, n));
    }
  }
  lightdmFiles.push("/etc/lightdm/lightdm.conf");
  let lightdm: { user: string; source: string } | null = null;
  for (const path of lightdmFiles) {
    const text = await target.readText(path);
    if (text === null) continue;
    const v = iniValue(text, ["Seat:*", "SeatDefaults"], "autologin-user");
    if (v) lightdm = v.value === "" ? null : { user: v.value, source: `${path}:${v.line}` };
  }
  if (lightdm) out.push({ kind: "lightdm", user: lightdm.user, source: lightdm.source });
  // SDDM
  for (const { path, text } of await withDropIns(target, "/etc/sddm.conf", [
    "/usr/lib/sddm/sddm.conf.d",
    "/etc/sddm.conf.d",
  ])) {
    const v = iniValue(text, ["Autologin"], "User");
    if (v && v.value !== "") out.push({ kind: "sddm", user: v.value, source: `${path}:${v.line}` });
  }
  // getty overrides with --autologin / -a
  const unitDir = "/etc/systemd/system";
  for (const d of ((await target.readDir(unitDir)) ?? []).sort(compareC)) {
    if (!/^(serial-)?getty@.*\.service\.d$/.test(d) && !/^(serial-)?getty@.*\.service$/.test(d))
      continue;
    const files = d.endsWith(".d")
      ? ((await target.readDir(joinPath(unitDir, d))) ?? [])
          .filter((n) => n.endsWith(".conf"))
          .sort(compareC)
          .map((n) => joinPath(joinPath(unitDir, d), n))
      : [joinPath(unitDir, d)];
    for (const path of files) {
      const text = await target.readText(path);
      if (text === null) continue;
      for (const e of parseIni(text)) {
        if (e.section !== "Service" || e.key !== "ExecStart") continue;
        const m = /(?:--autologin|\s-a)(?:=|\s+)(\S+)/.exec(e.value);
        if (m) out.push({ kind: "getty", user: m[1] as string, source: `${path}:${e.line}` });
      }
    }
  }
  return out;
}

function mergeSettings(files: { path: string; text: string }[]): Record<string, Setting> {
  const out: Record<string, Setting> = {};
  for (const f of files) Object.assign(out, parseKeyValue(f.text, f.path, { style: "equals" }));
  return out;
}

/** Gather the accounts area from a target. */
export async function gatherAccounts(target: Target, _ctx: GatherContext): Promise<AccountsFacts> {
  const passwd = await target.readText("/etc/passwd");
  const shadow = await target.readText("/etc/shadow");
  const group = await target.readText("/etc/group");
  const sudoers = await readSudoers(target, "/etc/sudoers");
  const loginDefs = await target.readText("/etc/login.defs");
  const pamModules: Record<string, string[]> = {};
  for (const name of pamFiles) {
    const text = await target.readText(`/etc/pam.d/${name}`);
    if (text !== null) pamModules[name] = parsePamModules(text);
  }
  return {
    passwd: passwd === null ? [] : parsePasswd(passwd),
    shadow: shadow === null ? [] : parseShadow(shadow),
    groups: group === null ? [] : parseGroup(group),
    sudoRules: sudoers.rules,
    sudoDefaults: sudoers.defaults,
    loginDefs:
      loginDefs === null ? {} : parseKeyValue(loginDefs, "/etc/login.defs", { style: "space" }),
    // libpwquality reads pwquality.conf.d/*.conf, then the main file.
    pwquality: mergeSettings(
      await withDropIns(target, "/etc/security/pwquality.conf", ["/etc/security/pwquality.conf.d"]),
    ),
    faillock: mergeSettings(await withDropIns(target, "/etc/security/faillock.conf", [])),
    pamModules,
    autologin: await autologin(target),
    dconf: await readDconf(target),
  };
}
