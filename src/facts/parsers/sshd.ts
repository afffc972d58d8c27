/**
 * sshd_config(5) as sshd applies it: keywords are case-insensitive, the first value obtained
 * wins (a few keywords accumulate), `Include` splices files in place (globs, relative to
 * /etc/ssh), and `Match` blocks are conditional, so they are not part of the global settings.
 */
import type { Setting } from "../types.js";
import { expandGlob, IncludeBudget, setting, type FileSource } from "./common.js";

/** Keywords whose values add up instead of the first one winning. */
const accumulating = new Set([
  "port",
  "listenaddress",
  "hostkey",
  "hostcertificate",
  "acceptenv",
  "allowusers",
  "allowgroups",
  "denyusers",
  "denygroups",
  "subsystem",
  "setenv",
  "permitlisten",
  "permitopen",
]);

/** Deprecated keyword spellings sshd still accepts for the same option (servconf.c). */
const aliases: Record<string, string> = {
  challengeresponseauthentication: "kbdinteractiveauthentication",
  pubkeyacceptedkeytypes: "pubkeyacceptedalgorithms",
  hostbasedacceptedkeytypes: "hostbasedacceptedalgorithms",
};

/**
 * OpenSSH 9.2 (Debian 12) compiled-in defaults for the settings koffer judges, used
 * when sshd_config does not set them.
 */
export const sshdDefaults: Record<string, string> = {
  port: "22",
  permitrootlogin: "prohibit-password",
  passwordauthentication: "yes",
  kbdinteractiveauthentication: "yes",
  pubkeyauthentication: "yes",
  permitemptypasswords: "no",
  x11forwarding: "no",
  allowtcpforwarding: "yes",
  usepam: "no",
};

export interface SshdConfig {
  /** Global settings, lower-case keys; first match wins. */
  settings: Record<string, Setting>;
  /** The `Match` criteria found (their settings are conditional and not in `settings`). */
  matchBlocks: { criteria: string; source: string }[];
  /** Every setting inside a `Match` block (lower-case key), with the block's criteria. */
  matchSettings: { criteria: string; key: string; value: string; source: string }[];
  files: string[];
  errors: string[];
}

function splitKeyword(line: string): { key: string; value: string } | null {
  const m = /^(\S+?)(?:\s*=\s*|\s+)(.*)$/.exec(line);
  if (!m) return /^\S+$/.test(line) ? { key: line.toLowerCase(), value: "" } : null;
  const key = (m[1] as string).toLowerCase();
  return { key: aliases[key] ?? key, value: (m[2] as string).trim() };
}

/**
 * Read sshd_config and its includes. `withDefaults` fills unset keys from {@link sshdDefaults}
 * with the source "default".
 */
export async function readSshdConfig(
  source: FileSource,
  path = "/etc/ssh/sshd_config",
  withDefaults = true,
): Promise<SshdConfig | null> {
  const settings: Record<string, Setting> = {};
  const matchBlocks: SshdConfig["matchBlocks"] = [];
  const matchSettings: SshdConfig["matchSettings"] = [];
  const files: string[] = [];
  const errors: string[] = [];

  // sshd itself stops at 16 nested includes (READCONF_MAX_DEPTH).
  const budget = new IncludeBudget(errors, 16, true);
  const visit = (file: string, from: string | null, inMatch: string | null): Promise<void> =>
    budget.visit(file, from, () => read(file, inMatch));
  const read = async (file: string, inMatch: string | null): Promise<void> => {
    const text = await source.readText(file);
    // A glob matching nothing or a missing include is not an error for sshd.
    if (text === null) return;
    files.push(file);
    // A Match started inside an included file ends with that file (servconf.c restores activep).
    let matching = inMatch;
    const lines = text.split(/\r?\n/);
    for (let i = 0; i < lines.length; i++) {
      const line = (lines[i] as string).trim();
      if (line === "" || line.startsWith("#")) continue;
      const kw = splitKeyword(line);
      if (!kw) continue;
      const where = `${file}:${i + 1}`;
      if (kw.key === "match") {
        matching = /^all$/i.test(kw.value) ? null : kw.value;
        if (matching !== null) matchBlocks.push({ criteria: kw.value, source: where });
        continue;
      }
      if (kw.key === "include") {
        for (const pattern of kw.value.split(/\s+/)) {
          const abs = pattern.startsWith("/") ? pattern : `/etc/ssh/${pattern}`;
          for (const f of await expandGlob(source, abs)) await visit(f, where, matching);
        }
        continue;
      }
      const value = kw.value.replace(/^"(.*)"$/, "$1");
      if (matching !== null) {
        matchSettings.push({ criteria: matching, key: kw.key, value, source: where });
        continue;
      }
      const existing = settings[kw.key];
      if (existing === undefined) settings[kw.key] = setting(value, file, i + 1);
      else if (accumulating.has(kw.key)) existing.value = `${existing.value} ${value}`;
    }
  };

  if ((await source.readText(path)) === null) return null;
  await visit(path, null, null);
  if (withDefaults) {
    for (const [key, value] of Object.entries(sshdDefaults)) {
      if (settings[key] === undefined) settings[key] = { value, source: "default" };
    }
  }
  return { settings, matchBlocks, matchSettings, files, errors };
}
