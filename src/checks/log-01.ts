import type { Control, Finding } from "./types.js";
import { ev, fail, installed, notApplicable, pass, unitOn, unitState } from "./util.js";

/** Files and directories whose changes must be recorded. */
const watched = [
  "/etc/passwd",
  "/etc/shadow",
  "/etc/group",
  "/etc/sudoers",
  "/etc/usbguard",
  "/etc/nftables.conf",
  "/etc/swanctl",
];
/** System calls whose use must be recorded. */
const syscalls = ["settimeofday", "clock_settime", "init_module", "finit_module"];

/** A rule that suppresses auditing (`-a never,…`, `-a …,exclude`) records nothing. */
function suppresses(rule: string): boolean {
  return /(^|\s)-[aA]\s+\S*\b(never|exclude)\b/.test(rule);
}

function watches(rule: string, path: string): boolean {
  return new RegExp(
    `(^|\\s)(-w\\s+|-F\\s+(dir|path)=)${path.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}/?(\\s|$)`,
  ).test(rule);
}

function auditsSyscall(rule: string, name: string): boolean {
  return /(^|\s)-S\s/.test(rule) && rule.split(/[\s,]+/).includes(name);
}

/**
 * What the audit rules leave unrecorded (LOG-01): watched paths, system calls, and whether
 * commands run as root are audited. Shared with the auditd provisioning resource, so the fix
 * and the verdict agree.
 */
export function auditGaps(allRules: readonly string[]): {
  paths: string[];
  syscalls: string[];
  privilege: boolean;
} {
  const rules = allRules.filter((r) => !suppresses(r));
  return {
    paths: watched.filter((path) => !rules.some((r) => watches(r, path))),
    syscalls: syscalls.filter((name) => !rules.some((r) => auditsSyscall(r, name))),
    privilege: !rules.some((r) => auditsSyscall(r, "execve") && /euid=0\b/.test(r)),
  };
}

export const log01: Control = {
  meta: {
    id: "LOG-01",
    kind: "auto",
    title: {
      de: "auditd protokolliert Anmeldungen, Rechtenutzung, Konfigurationsänderungen, USB-Entscheidungen",
      en: "auditd records logons, privilege use, config changes, USB decisions",
    },
    description: {
      de: "Sicherheitsrelevante Ereignisse werden protokolliert: Anmeldungen, Nutzung von Administratorrechten, Änderungen an Konten, sudoers, USBGuard-, Firewall- und VPN-Konfiguration, Zeitänderungen und das Laden von Kernelmodulen.",
      en: "Security-relevant events are logged: logons, use of admin rights, changes to accounts, sudoers, USBGuard, firewall and VPN configuration, time changes and kernel module loads.",
    },
    severity: "high",
    references: ["BSI OPS.1.1.5.A3", "BSI SYS.2.1.A45", "DSGVO Art. 32 Abs. 1 lit. d"],
    sdmGoals: ["transparenz", "integritaet", "intervenierbarkeit"],
    art32: ["b", "d"],
    facts: ["logging", "apps", "services"],
    messages: {
      ok: {
        de: "Erwartet auditd mit den Pflichtregeln, gefunden {{count}} Regeln.",
        en: "Expected auditd with the required rules, found {{count}} rules.",
      },
      notRequired: {
        de: "Das Profil verlangt kein auditd (spec.logging.auditd: false).",
        en: "The profile does not require auditd (spec.logging.auditd: false).",
      },
      notInstalled: {
        de: "Erwartet auditd installiert, gefunden nicht installiert.",
        en: "Expected auditd installed, found it not installed.",
      },
      notEnabled: {
        de: "Erwartet auditd.service aktiviert, gefunden {{state}}.",
        en: "Expected auditd.service enabled, found {{state}}.",
      },
      watch: {
        de: "Erwartet eine Überwachungsregel für {{path}}, gefunden keine.",
        en: "Expected a watch rule for {{path}}, found none.",
      },
      syscall: {
        de: "Erwartet eine Regel für den Systemaufruf {{syscall}}, gefunden keine.",
        en: "Expected a rule for system call {{syscall}}, found none.",
      },
      privilege: {
        de: "Erwartet eine Regel für execve mit euid=0 (Rechtenutzung), gefunden keine.",
        en: "Expected an execve rule with euid=0 (privilege use), found none.",
      },
    },
    fix: {
      de: "auditd installieren, Regeln nach /etc/audit/rules.d schreiben, Dienst aktivieren.",
      en: "Install auditd, write rules to /etc/audit/rules.d, enable the service.",
    },
  },
  evaluate(profile, facts) {
    if (!profile.spec.logging.auditd) return [notApplicable("notRequired")];
    const findings: Finding[] = [];
    const rules = facts.logging.auditRules.map((r) => r.rule);
    if (!installed(facts, "auditd"))
      findings.push(
        fail("notInstalled", {}, [ev("auditd", "installed", "not installed", "dpkg status")]),
      );
    const state = unitState(facts, "auditd.service");
    if (!unitOn(state))
      findings.push(
        fail("notEnabled", { state }, [
          ev("auditd.service", "enabled", state, "systemctl is-enabled"),
        ]),
      );
    const gaps = auditGaps(rules);
    for (const path of gaps.paths)
      findings.push(
        fail("watch", { path }, [ev("audit rules", `-w ${path}`, "none", "/etc/audit/rules.d")]),
      );
    for (const name of gaps.syscalls)
      findings.push(
        fail("syscall", { syscall: name }, [
          ev("audit rules", `-S ${name}`, "none", "/etc/audit/rules.d"),
        ]),
      );
    if (gaps.privilege)
      findings.push(
        fail("privilege", {}, [
          ev("audit rules", "-S execve -F euid=0", "none", "/etc/audit/rules.d"),
        ]),
      );
    if (findings.length === 0) findings.push(pass("ok", { count: rules.length }));
    return findings;
  },
};
