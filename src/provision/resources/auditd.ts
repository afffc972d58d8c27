/**
 * Audit rules (LOG-01): logons and identity files, sudo and privileged execution, the
 * configuration of USBGuard, firewall and tunnel, clock changes and module loads.
 */
import { auditGaps } from "../../checks/log-01.js";
import { isMasked, unitState } from "../../checks/util.js";
import { managedPath } from "../../facts/managed.js";
import { releaseOf } from "../../platform/releases.js";
import type { Change } from "../types.js";
import { enableUnit, fileChange, header, type PlanContext } from "./common.js";

const watches: [path: string, key: string][] = [
  ["/etc/passwd", "identity"],
  ["/etc/shadow", "identity"],
  ["/etc/group", "identity"],
  ["/etc/gshadow", "identity"],
  ["/etc/sudoers", "sudoers"],
  ["/etc/sudoers.d", "sudoers"],
  ["/etc/usbguard", "usbguard"],
  ["/etc/nftables.conf", "firewall"],
  ["/etc/swanctl", "vpn"],
  ["/var/log/faillog", "logins"],
  ["/var/log/lastlog", "logins"],
  ["/var/run/faillock", "logins"],
  ["/var/log/sudo.log", "sudo-log"],
];

export const auditRules = `${header()}## LOG-01: logons, privilege use, configuration changes, USB decisions
${watches.map(([p, k]) => `-w ${p} -p wa -k ${k}`).join("\n")}
${["b64", "b32"]
  .map(
    (arch) => `-a always,exit -F arch=${arch} -S settimeofday,clock_settime,adjtimex -k time-change
-a always,exit -F arch=${arch} -S init_module,finit_module,delete_module -k modules
-a always,exit -F arch=${arch} -S execve -F euid=0 -F auid>=1000 -F auid!=unset -k privileged`,
  )
  .join("\n")}
-w /etc/localtime -p wa -k time-change
-w /usr/bin/sudo -p x -k privileged
`;

export function planAuditd(ctx: PlanContext): Change[] {
  if (!ctx.profile.spec.logging.auditd) return [];
  const gaps = auditGaps(ctx.facts.logging.auditRules.map((r) => r.rule));
  const satisfied =
    gaps.paths.length === 0 && gaps.syscalls.length === 0 && !gaps.privilege && !gaps.logons;
  return [
    ...fileChange(ctx, {
      resource: "auditd",
      path: managedPath.audit,
      content: auditRules,
      mode: 0o640,
      summary: "audit logons, sudo, identity/USBGuard/firewall/VPN files, clock and modules",
      controls: ["LOG-01"],
      satisfied,
    }),
    ...(satisfied ? [] : silencers(ctx)),
    ...enableUnit(ctx, "auditd.service", "auditd", ["LOG-01"], "auditd"),
    ...rulesUnit(ctx),
  ];
}

/** `-a never,…` / `-a …,never` and exclude-list rules: the first matching rule wins. */
const silencing = /^-[aA]\s+(?:never\b|[a-z]+,never\b|exclude\b|[a-z]+,exclude\b)/;

/**
 * augenrules concatenates rules.d in name order and the first matching rule wins, so a
 * `never` rule of another file silences koffer's rules wherever they sit: while a gap
 * remains, those rules are commented out (backed up, so rollback brings them back).
 */
function silencers(ctx: PlanContext): Change[] {
  const byFile = new Map<string, { line: number; key: string }[]>();
  for (const r of ctx.facts.logging.auditRules) {
    const m = /^(.*):(\d+)$/.exec(r.source);
    if (m === null || m[1] === managedPath.audit || !silencing.test(r.rule.trim())) continue;
    const key = /never/.test(r.rule) ? "never" : "exclude";
    byFile.set(m[1] as string, [
      ...(byFile.get(m[1] as string) ?? []),
      { line: Number(m[2]), key },
    ]);
  }
  return [...byFile].map(([path, lines]) => ({
    kind: "disable-lines" as const,
    resource: "auditd",
    summary: `${path}: comment out ${lines.length} never/exclude rule${lines.length === 1 ? "" : "s"} that silence koffer's audit rules`,
    controls: ["LOG-01"],
    path,
    lines,
    comment: "#" as const,
  }));
}

/** Debian 13's audit-rules.service, unmasked and enabled when a mask keeps auditd down. */
function rulesUnit(ctx: PlanContext): Change[] {
  const unit = releaseOf(ctx.profile.spec.platform).units.auditRules;
  if (unit === null || !isMasked(unitState(ctx.facts, unit))) return [];
  return enableUnit(ctx, unit, "auditd", ["LOG-01"], "auditd");
}
