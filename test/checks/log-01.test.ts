import { log01 } from "../../src/checks/log-01.js";
import { hardenedFacts, withPackages } from "../helpers/facts.js";
import { makeProfile } from "../helpers/profile.js";
import { testControl } from "./control-tester.js";

const f = hardenedFacts();
const rules = f.logging.auditRules;
const trixie = makeProfile({ spec: { platform: "debian-13" } });
const rulesUnit = (state: string) =>
  hardenedFacts({
    services: { unitFiles: { ...f.services.unitFiles, "audit-rules.service": state } },
  } as Parameters<typeof hardenedFacts>[0]);
/** The hardened facts with one more audit rule after the provisioned ones. */
function withRule(rule: string, source: string) {
  return { ...f, logging: { ...f.logging, auditRules: [...rules, { rule, source }] } };
}

testControl(log01, import.meta.url, [
  { name: "all required rules", status: "pass", messages: ["ok"], exact: true },
  {
    name: "Debian 13: audit-rules.service enabled (it loads the rules)",
    profile: trixie,
    facts: rulesUnit("enabled"),
    status: "pass",
    messages: ["ok"],
    exact: true,
  },
  {
    name: "Debian 13: audit-rules.service disabled still runs (auditd.service Requires= it)",
    profile: trixie,
    facts: rulesUnit("disabled"),
    status: "pass",
    messages: ["ok"],
    exact: true,
  },
  {
    name: "Debian 13: audit-rules.service masked keeps auditd from starting",
    profile: trixie,
    facts: rulesUnit("masked"),
    status: "fail",
    messages: ["rulesUnit"],
    data: { unit: "audit-rules.service", state: "masked", release: "Debian 13 (trixie)" },
    exact: true,
  },
  {
    name: "Debian 13: audit-rules.service missing",
    profile: trixie,
    facts: hardenedFacts(),
    status: "fail",
    messages: ["rulesUnit"],
    data: { state: "not-found" },
  },
  {
    name: "Debian 12: no separate rules unit (auditd.service loads the rules itself)",
    facts: rulesUnit("masked"),
    status: "pass",
    messages: ["ok"],
    exact: true,
  },
  {
    name: "auditd absent",
    facts: withPackages(
      hardenedFacts({ services: { unitFiles: { "auditd.service": "not-found" } } }),
      [],
      ["auditd"],
    ),
    status: "fail",
    messages: ["notInstalled", "notEnabled"],
    exact: true,
  },
  {
    name: "no usbguard watch",
    facts: {
      ...f,
      logging: { ...f.logging, auditRules: rules.filter((r) => !r.rule.includes("usbguard")) },
    },
    status: "fail",
    messages: ["watch"],
    data: { path: "/etc/usbguard" },
  },
  {
    name: "no time and module rules",
    facts: {
      ...f,
      logging: { ...f.logging, auditRules: rules.filter((r) => !r.rule.includes("-S")) },
    },
    status: "fail",
    messages: ["syscall", "privilege"],
  },
  {
    name: "a rule that suppresses auditing (-a never) records nothing",
    facts: {
      ...f,
      logging: {
        ...f.logging,
        auditRules: [
          ...rules.filter((r) => !r.rule.includes("clock_settime")),
          {
            rule: "-a always,exit -F arch=b64 -S settimeofday -k time-change",
            source: "/etc/audit/rules.d/x.rules:1",
          },
          {
            rule: "-a never,exit -F arch=b64 -S clock_settime",
            source: "/etc/audit/rules.d/x.rules:1",
          },
        ],
      },
    },
    status: "fail",
    messages: ["syscall"],
    data: { syscall: "clock_settime" },
  },
  // issue 11: audit rules as the kernel applies them (first match, -p, argument filters).
  {
    name: "an early -a never,exit -S execve in an earlier rules.d file silences the privilege rule",
    facts: {
      ...f,
      logging: {
        ...f.logging,
        auditRules: [
          {
            rule: "-a never,exit -F arch=b64 -S execve",
            source: "/etc/audit/rules.d/10-quiet.rules:1",
          },
          ...rules,
        ],
      },
    },
    status: "fail",
    messages: ["privilege"],
    exact: true,
  },
  {
    name: "a watch with -p w misses attribute changes",
    facts: {
      ...f,
      logging: {
        ...f.logging,
        auditRules: rules.map((r) =>
          r.rule.startsWith("-w /etc/shadow")
            ? { ...r, rule: "-w /etc/shadow -p w -k identity" }
            : r,
        ),
      },
    },
    status: "fail",
    messages: ["watch"],
    data: { path: "/etc/shadow" },
    exact: true,
  },
  {
    name: "a syscall rule with an argument filter (-F a0=…) does not record the general case",
    facts: {
      ...f,
      logging: {
        ...f.logging,
        auditRules: rules.map((r) =>
          r.rule.includes("finit_module")
            ? {
                ...r,
                rule: "-a always,exit -F arch=b64 -S init_module,finit_module -F a0=3 -k modules",
              }
            : r,
        ),
      },
    },
    status: "fail",
    messages: ["syscall"],
  },
  {
    name: "an exclude rule dropping SYSCALL records silences everything",
    facts: withRule("-a always,exclude -F msgtype=SYSCALL", "/etc/audit/rules.d/99-x.rules:1"),
    status: "fail",
    messages: ["watch", "syscall", "privilege"],
  },
  {
    name: "-a never,user -F auid=1000 silences logon messages",
    facts: withRule("-a never,user -F auid=1000", "/etc/audit/rules.d/99-x.rules:1"),
    status: "fail",
    messages: ["logons"],
    exact: true,
  },
  {
    name: "-a never,exclude -F msgtype=SYSCALL drops the records like always,exclude",
    facts: withRule("-a never,exclude -F msgtype=SYSCALL", "/etc/audit/rules.d/99-x.rules:1"),
    status: "fail",
    messages: ["watch", "syscall", "privilege"],
  },
  // kernel/auditfilter.c, audit_filter(): a rule of the user or exclude list matches only when
  // one of its fields matched; without fields it matches nothing (measured on the laptop VM:
  // the logon messages were recorded after augenrules loaded "-a never,user").
  {
    name: "-a never,user without fields matches nothing",
    facts: withRule("-a never,user", "/etc/audit/rules.d/99-x.rules:1"),
    status: "pass",
    messages: ["ok"],
  },
  {
    name: "USB decisions written to a file only (AuditBackend=FileAudit) are not in the audit trail",
    facts: {
      ...f,
      usb: {
        ...f.usb,
        daemonConf: {
          ...f.usb.daemonConf,
          AuditBackend: { value: "FileAudit", source: "/etc/usbguard/usbguard-daemon.conf:9" },
        },
      },
    },
    status: "fail",
    messages: ["usbAudit"],
    exact: true,
  },
  // kernel/audit.c audit_enable(): audit=0 or audit=off anywhere on the command line leaves
  // the audit subsystem uninitialised until reboot (a later audit=1 does not undo it).
  ...[["quiet", "audit=0"], ["audit=OFF"], ["audit=0", "quiet", "audit=1"]].map((value) => ({
    name: `auditing off on the kernel command line: ${value.join(" ")}`,
    facts: { ...f, boot: { ...f.boot, kernelCmdline: { value, source: "/proc/cmdline" } } },
    status: "fail" as const,
    messages: ["kernelOff"],
    data: { param: value.find((v) => /^audit=(0|off)$/i.test(v)) as string },
    exact: true,
  })),
  {
    name: "audit=1 or an unknown audit= value leaves auditing on",
    facts: {
      ...f,
      boot: {
        ...f.boot,
        kernelCmdline: { value: ["audit=1", "audit=no"], source: "/proc/cmdline" },
      },
    },
    status: "pass",
    messages: ["ok"],
    exact: true,
  },
  // kernel/auditsc.c audit_filter_task(): at fork the first matching task-list rule decides;
  // one without fields matches every task, and `never` gives it no audit context, so no
  // syscall or watch rule is ever evaluated for it (RHEL's old default `-a task,never`).
  {
    name: "-a task,never turns syscall auditing off for every new process",
    facts: withRule("-a task,never", "/etc/audit/rules.d/99-x.rules:1"),
    status: "fail",
    messages: ["watch", "syscall", "privilege"],
    exact: true,
  },
  {
    name: "-a never,task after a field-less task,always matches nothing more",
    facts: {
      ...f,
      logging: {
        ...f.logging,
        auditRules: [
          { rule: "-a always,task", source: "/etc/audit/rules.d/01-x.rules:1" },
          ...rules,
          { rule: "-a never,task", source: "/etc/audit/rules.d/99-x.rules:1" },
        ],
      },
    },
    status: "pass",
    messages: ["ok"],
    exact: true,
  },
  {
    name: "not required",
    profile: makeProfile({ spec: { logging: { auditd: false } } }),
    status: "not-applicable",
    messages: ["notRequired"],
  },
]);
