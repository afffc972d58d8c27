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
import { unitDirs } from "./services.js";

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
  out.push(...(await gettyAutologin(target)));
  return out;
}

/** The consoles logind starts gettys on (NAutoVTs=6; tty1 through getty.target). */
const consoleGettys = [1, 2, 3, 4, 5, 6].map((n) => `getty@tty${n}.service`);

const autologinOption = /(?:^|\s)(?:--autologin(?:=|\s+)|-a\s+)(\S+)/;

/**
 * Console and serial gettys that log in without authentication, as systemd loads them:
 * the instance's unit file (or its template's), then every drop-in `*.conf` of the instance
 * and of the template in every unit directory (a name in a higher directory hides it below;
 * a link to /dev/null masks), in name order. `ExecStart=` empty clears the list; a second
 * command in a service that is not Type=oneshot makes systemd refuse to load it (no getty
 * runs). A masked unit runs nothing.
 */
async function gettyAutologin(target: Target): Promise<AccountsFacts["autologin"]> {
  const listings = new Map<string, string[]>();
  const list = async (dir: string) => {
    let names = listings.get(dir);
    if (names === undefined) listings.set(dir, (names = (await target.readDir(dir)) ?? []));
    return names;
  };
  const units = new Set(consoleGettys);
  for (const dir of unitDirs)
    for (const name of await list(dir)) {
      const m = /^((?:serial-)?getty@[^.]+\.service)(\.d)?$/.exec(name);
      if (m !== null) units.add(m[1] as string);
    }
  const masked = async (path: string) => (await target.readLink?.(path)) === "/dev/null";
  const out: AccountsFacts["autologin"] = [];
  for (const unit of [...units].sort(compareC)) {
    const template = unit.replace(/@[^.]+\./, "@.");
    let unitFile: string | null = null;
    for (const name of [unit, template]) {
      for (const dir of unitDirs)
        if ((await list(dir)).includes(name)) {
          unitFile = joinPath(dir, name);
          break;
        }
      if (unitFile !== null) break;
    }
    if (unitFile !== null && (await masked(unitFile))) continue;
    const dropIns = new Map<string, string>();
    for (const dir of unitDirs)
      for (const name of [unit, template]) {
        const d = joinPath(dir, `${name}.d`);
        if (!(await list(dir)).includes(`${name}.d`)) continue;
        for (const f of (await target.readDir(d)) ?? [])
          if (f.endsWith(".conf") && !dropIns.has(f)) dropIns.set(f, joinPath(d, f));
      }
    const files = [
      ...(unitFile === null ? [] : [unitFile]),
      ...[...dropIns.keys()].sort(compareC).map((f) => dropIns.get(f) as string),
    ];
    let exec: { value: string; source: string }[] = [];
    let oneshot = false;
    for (const path of files) {
      if (await masked(path)) continue;
      const text = await target.readText(path);
      if (text === null) continue;
      for (const e of parseIni(text)) {
        if (e.section !== "Service") continue;
        if (e.key === "Type") oneshot = e.value === "oneshot";
        if (e.key !== "ExecStart") continue;
        if (e.value === "") exec = [];
        else exec.push({ value: e.value, source: `${path}:${e.line}` });
      }
    }
    if (exec.length > 1 && !oneshot) continue;
    for (const e of exec) {
      const m = autologinOption.exec(e.value);
      if (m) out.push({ kind: "getty", user: m[1] as string, source: e.source });
    }
  }
  // The same drop-in read for several instances is one finding.
  return out.filter((a, i) => out.findIndex((b) => b.source === a.source) === i);
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
