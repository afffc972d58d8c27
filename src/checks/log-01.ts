import {
  parseAuditRule,
  recorded,
  type AuditEventClass,
  type AuditField,
  type AuditVerdict,
} from "../facts/parsers/audit.js";
import type { Control, Finding } from "./types.js";
import { explain } from "../facts/effective.js";
import { releaseOf } from "../platform/releases.js";
import {
  ev,
  fail,
  installed,
  isMasked,
  notApplicable,
  pass,
  setting,
  unitOn,
  unitState,
  cmdlineSource,
} from "./util.js";

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

/** A logged-in person (auid set, a regular user): privilege use by people, not daemons. */
function personFilter(f: AuditField): boolean {
  if (f.name !== "auid") return false;
  if (f.op === "!=") return ["unset", "-1", "4294967295"].includes(f.value);
  if (f.op === ">=") return /^\d+$/.test(f.value) && Number(f.value) <= 1000;
  return false;
}

/** The event classes LOG-01 needs recorded, each with its name in messages. */
export function auditClasses(): {
  kind: "path" | "syscall" | "privilege" | "logon";
  name: string;
  cls: AuditEventClass;
}[] {
  const out: ReturnType<typeof auditClasses> = [];
  for (const path of watched)
    for (const perm of ["w", "a"] as const)
      out.push({
        kind: "path",
        name: path,
        cls: { list: "exit", syscalls: [], path, perm, own: [], msgtypes: ["SYSCALL", "PATH"] },
      });
  for (const name of syscalls)
    out.push({
      kind: "syscall",
      name,
      cls: { list: "exit", syscalls: [name], own: [], msgtypes: ["SYSCALL"] },
    });
  out.push({
    kind: "privilege",
    name: "execve euid=0",
    cls: {
      list: "exit",
      syscalls: ["execve"],
      own: [{ name: "euid", op: "=", value: "0" }],
      msgtypes: ["SYSCALL", "EXECVE"],
      tolerated: personFilter,
    },
  });
  out.push({
    kind: "logon",
    name: "logons",
    cls: {
      list: "user",
      syscalls: [],
      own: [],
      msgtypes: ["USER_LOGIN", "USER_AUTH", "USER_START"],
    },
  });
  return out;
}

export interface AuditGap {
  kind: "path" | "syscall" | "privilege" | "logon";
  name: string;
  verdict: AuditVerdict;
}

/**
 * What the audit rules leave unrecorded (LOG-01), judged as the kernel applies them (first
 * match, watch permissions, argument filters, exclude rules, `-e 0`). Shared with the auditd
 * provisioning resource, so the fix and the verdict agree.
 */
export function auditGapList(rules: readonly { rule: string; source: string }[]): AuditGap[] {
  const parsed = rules.map((r) => parseAuditRule(r.rule, r.source));
  const gaps: AuditGap[] = [];
  for (const { kind, name, cls } of auditClasses()) {
    const verdict = recorded(parsed, cls);
    if (!verdict.recorded && !gaps.some((g) => g.kind === kind && g.name === name))
      gaps.push({ kind, name, verdict });
  }
  return gaps;
}

/** The gaps in the older summary shape (paths, system calls, privilege). */
export function auditGaps(allRules: readonly string[]): {
  paths: string[];
  syscalls: string[];
  privilege: boolean;
  logons: boolean;
} {
  const gaps = auditGapList(allRules.map((rule, i) => ({ rule, source: `rule ${i + 1}` })));
  return {
    paths: gaps.filter((g) => g.kind === "path").map((g) => g.name),
    syscalls: gaps.filter((g) => g.kind === "syscall").map((g) => g.name),
    privilege: gaps.some((g) => g.kind === "privilege"),
    logons: gaps.some((g) => g.kind === "logon"),
  };
}

/** "-w /etc/passwd -p wa (/etc/audit/rules.d/x.rules:3): a never rule … silences it". */
function verdictText(v: AuditVerdict): string {
  return v.rule === undefined ? v.why : `${v.why}: ${v.rule.text}`;
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
    facts: ["logging", "apps", "services", "usb", "boot"],
    messages: {
      ok: {
        de: "Erwartet auditd mit den Pflichtregeln, gefunden {{count|Regel|Regeln}}.",
        en: "Expected auditd with the required rules, found {{count|rule|rules}}.",
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
      kernelOff: {
        de: "Erwartet die Audit-Funktion des Kernels an, gefunden {{param}} in der Kernel-Befehlszeile (bis zum Neustart aus, keine Regel wird geladen).",
        en: "Expected the kernel's audit subsystem on, found {{param}} on the kernel command line (off until reboot, no rule is loaded).",
      },
      rulesUnit: {
        de: "Erwartet {{unit}} vorhanden und nicht maskiert ({{release}}: es lädt die Auditregeln, auditd.service setzt es voraus), gefunden {{state}}.",
        en: "Expected {{unit}} present and not masked ({{release}}: it loads the audit rules and auditd.service requires it), found {{state}}.",
      },
      watch: {
        de: "Erwartet, dass Schreib- und Attributänderungen an {{path}} protokolliert werden, gefunden: {{actual}}.",
        en: "Expected writes and attribute changes of {{path}} recorded, found: {{actual}}.",
      },
      syscall: {
        de: "Erwartet, dass der Systemaufruf {{syscall}} protokolliert wird, gefunden: {{actual}}.",
        en: "Expected system call {{syscall}} recorded, found: {{actual}}.",
      },
      privilege: {
        de: "Erwartet, dass execve mit euid=0 (Rechtenutzung) protokolliert wird, gefunden: {{actual}}.",
        en: "Expected execve with euid=0 (privilege use) recorded, found: {{actual}}.",
      },
      logons: {
        de: "Erwartet, dass Anmeldungen protokolliert werden, gefunden: {{actual}}.",
        en: "Expected logons recorded, found: {{actual}}.",
      },
      usbAudit: {
        de: "Erwartet AuditBackend=LinuxAudit in usbguard-daemon.conf (USB-Entscheidungen im Audit-Protokoll), gefunden {{actual}}.",
        en: "Expected AuditBackend=LinuxAudit in usbguard-daemon.conf (USB decisions in the audit trail), found {{actual}}.",
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
    // kernel/audit.c audit_enable(): audit=0|off (any case) marks the subsystem disabled until
    // reboot, and a later audit=1 does not undo that; auditd then cannot load a single rule.
    const cmdline = facts.boot.kernelCmdline;
    const auditOff = cmdline?.value.find((a) => /^audit=(0|off)$/i.test(a));
    if (auditOff !== undefined)
      findings.push(
        fail("kernelOff", { param: auditOff }, [
          ev("kernel command line", "audit=1", auditOff, cmdlineSource(cmdline)),
        ]),
      );
    // Debian 13: without its rules unit auditd does not start (Requires=), whatever its state.
    const release = releaseOf(profile.spec.platform);
    const rulesUnit = release.units.auditRules;
    if (rulesUnit !== null && installed(facts, "auditd")) {
      const rulesState = unitState(facts, rulesUnit);
      if (isMasked(rulesState) || rulesState === "not-found")
        findings.push(
          fail("rulesUnit", { unit: rulesUnit, state: rulesState, release: release.name }, [
            ev(rulesUnit, "present, not masked", rulesState, "systemctl is-enabled"),
          ]),
        );
    }
    for (const gap of auditGapList(facts.logging.auditRules)) {
      const actual = verdictText(gap.verdict);
      const source = gap.verdict.rule?.source ?? "/etc/audit/rules.d";
      if (gap.kind === "path")
        findings.push(
          fail("watch", { path: gap.name, actual }, [
            ev("audit rules", `-w ${gap.name} -p wa`, actual, source),
          ]),
        );
      else if (gap.kind === "syscall")
        findings.push(
          fail("syscall", { syscall: gap.name, actual }, [
            ev("audit rules", `-S ${gap.name}`, actual, source),
          ]),
        );
      else if (gap.kind === "privilege")
        findings.push(
          fail("privilege", { actual }, [ev("audit rules", "-S execve -F euid=0", actual, source)]),
        );
      else
        findings.push(
          fail("logons", { actual }, [
            ev("audit rules", "logon messages recorded", actual, source),
          ]),
        );
    }
    if (facts.usb.usbguardInstalled) {
      // USB decisions reach the audit trail only through USBGuard's LinuxAudit backend
      // (without USBGuard there are no decisions to record: USB-01 fails instead).
      const backend = setting(facts.usb.daemonConf, "AuditBackend");
      if (backend?.value !== "LinuxAudit")
        findings.push(
          fail("usbAudit", { actual: backend?.value ?? "(not set)" }, [
            ev(
              "usbguard-daemon.conf AuditBackend",
              "LinuxAudit",
              backend === undefined ? "(not set)" : explain(backend),
              backend?.source ?? "/etc/usbguard/usbguard-daemon.conf",
            ),
          ]),
        );
    }
    if (findings.length === 0) findings.push(pass("ok", { count: rules.length }));
    return findings;
  },
};
