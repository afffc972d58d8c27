import type { Control, Finding } from "./types.js";
import { ev, fail, installed, pass } from "./util.js";

/** sudo Defaults parameters that make admin work traceable. */
const loggingParameters = new Set(["logfile", "log_output", "log_input", "syslog", "log_servers"]);

/**
 * The logging parameters that sudoers' global `Defaults` lines leave switched on, each with
 * the entry that set it last: a later `!syslog` turns an earlier `syslog` off, and
 * `Defaults:user`, `Defaults@host`, `Defaults>runas`, `Defaults!cmnd` apply to some cases only.
 */
export function sudoLogging(
  defaults: readonly { value: string; source: string }[],
): { value: string; source: string }[] {
  const on = new Map<string, { value: string; source: string }>();
  for (const entry of defaults) {
    if (/^Defaults[:@>!]/.test(entry.value)) continue;
    const body = entry.value.replace(/^Defaults(\s+|$)/, "");
    for (const raw of body.split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/)) {
      const param = raw.trim();
      const negated = param.startsWith("!");
      const name = param.replace(/^!+/, "").replace(/\s*[-+]?=.*$/, "");
      if (!loggingParameters.has(name)) continue;
      const emptyValue = /=\s*(""|)\s*$/.test(param);
      if (negated || emptyValue) on.delete(name);
      else on.set(name, entry);
    }
  }
  return [...new Set(on.values())];
}

export const acc05: Control = {
  meta: {
    id: "ACC-05",
    kind: "auto",
    title: {
      de: "root-Anmeldung gesperrt; Administration über sudo mit Protokollierung",
      en: "Root login locked; admin work via sudo with logging",
    },
    description: {
      de: "Eine direkte Anmeldung als root ist gesperrt; administrative Tätigkeiten erfolgen über sudo, das jede Nutzung protokolliert.",
      en: "Direct root login is locked; administrative work goes through sudo, which logs every use.",
    },
    severity: "high",
    references: ["BSI SYS.2.3.A1", "DSGVO Art. 32 Abs. 1 lit. b"],
    sdmGoals: ["vertraulichkeit", "transparenz"],
    art32: ["b"],
    facts: ["accounts", "apps"],
    messages: {
      ok: {
        de: "Erwartet root gesperrt und sudo mit Protokollierung, gefunden {{logging}}.",
        en: "Expected root locked and sudo with logging, found {{logging}}.",
      },
      rootOpen: {
        de: "Erwartet das root-Passwort gesperrt, gefunden {{actual}}.",
        en: "Expected the root password locked, found {{actual}}.",
      },
      noSudo: {
        de: "Erwartet sudo installiert, gefunden nicht installiert.",
        en: "Expected sudo installed, found it not installed.",
      },
      noLogging: {
        de: "Erwartet Defaults logfile=… oder log_output in sudoers, gefunden {{actual}}.",
        en: "Expected Defaults logfile=… or log_output in sudoers, found {{actual}}.",
      },
    },
    fix: {
      de: "root sperren (passwd -l root) und Defaults logfile in /etc/sudoers.d schreiben.",
      en: "Lock root (passwd -l root) and write Defaults logfile to /etc/sudoers.d.",
    },
  },
  evaluate(_profile, facts) {
    const findings: Finding[] = [];
    const root = facts.accounts.shadow.find((s) => s.name === "root");
    if (root === undefined || !root.locked || root.empty) {
      const actual =
        root === undefined ? "no shadow entry" : root.empty ? "empty password" : "password set";
      findings.push(
        fail("rootOpen", { actual }, [ev("shadow root", "locked (! or *)", actual, "/etc/shadow")]),
      );
    }
    if (!installed(facts, "sudo"))
      findings.push(fail("noSudo", {}, [ev("sudo", "installed", "not installed", "dpkg status")]));
    const logging = sudoLogging(facts.accounts.sudoDefaults);
    if (logging.length === 0) {
      const actual = facts.accounts.sudoDefaults.map((d) => d.value).join("; ") || "(no Defaults)";
      findings.push(
        fail("noLogging", { actual }, [
          ev("sudoers Defaults", "logfile | log_output", actual, "/etc/sudoers"),
        ]),
      );
    }
    if (findings.length === 0)
      findings.push(pass("ok", { logging: logging.map((d) => d.value).join("; ") }));
    return findings;
  },
};
