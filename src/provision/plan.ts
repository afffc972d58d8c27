/**
 * Planning: every resource turns the difference between profile and facts into changes
 * (STYLE.md §10). Pure apart from reading templates/: no command runs, nothing is written.
 * Planning on the facts of a freshly provisioned laptop returns no change.
 */
import { installed } from "../checks/util.js";
import type { Facts } from "../facts/types.js";
import type { Profile } from "../profiles/types.js";
import { planAccounts } from "./resources/accounts.js";
import { planAptSources } from "./resources/apt-sources.js";
import { planAuditd } from "./resources/auditd.js";
import { planBrowser } from "./resources/browser.js";
import type { PlanContext, PlanOptions } from "./resources/common.js";
import { planCoredump } from "./resources/coredump.js";
import { planDesktop } from "./resources/desktop.js";
import { planDns } from "./resources/dns.js";
import { planCups } from "./resources/cups.js";
import { planDconf } from "./resources/dconf.js";
import { planDisk } from "./resources/disk.js";
import { planInitrd } from "./resources/initrd.js";
import { planJournald } from "./resources/journald.js";
import { planModprobe } from "./resources/modprobe.js";
import { planNftables } from "./resources/nftables.js";
import { planPackages } from "./resources/packages.js";
import { planPassword } from "./resources/password.js";
import { planApparmor, planBluetooth, planDeviceServices } from "./resources/services.js";
import { planSleep } from "./resources/sleep.js";
import { planSsh } from "./resources/ssh.js";
import { planStrongswan } from "./resources/strongswan.js";
import { planSysctl } from "./resources/sysctl.js";
import { planTimesync } from "./resources/timesync.js";
import { planTmp } from "./resources/tmp.js";
import { planUpdates } from "./resources/updates.js";
import { planUsbguard } from "./resources/usbguard.js";
import type { Change, ChangeKind } from "./types.js";

export type { PlanOptions } from "./resources/common.js";

/** The resources, in the order their changes are listed within one phase. */
export const resources: readonly { name: string; plan: (ctx: PlanContext) => Change[] }[] = [
  { name: "packages", plan: planPackages },
  { name: "apt-sources", plan: planAptSources },
  { name: "desktop", plan: planDesktop },
  { name: "usbguard", plan: planUsbguard },
  { name: "modprobe", plan: planModprobe },
  { name: "sysctl", plan: planSysctl },
  { name: "sleep", plan: planSleep },
  { name: "nftables", plan: planNftables },
  { name: "strongswan", plan: planStrongswan },
  { name: "dns", plan: planDns },
  { name: "accounts", plan: planAccounts },
  { name: "dconf", plan: planDconf },
  { name: "password", plan: planPassword },
  { name: "ssh", plan: planSsh },
  { name: "bluetooth", plan: planBluetooth },
  { name: "apparmor", plan: planApparmor },
  { name: "devices", plan: planDeviceServices },
  { name: "tmp", plan: planTmp },
  { name: "cups", plan: planCups },
  { name: "journald", plan: planJournald },
  { name: "auditd", plan: planAuditd },
  { name: "coredump", plan: planCoredump },
  { name: "timesync", plan: planTimesync },
  { name: "updates", plan: planUpdates },
  { name: "browser", plan: planBrowser },
  { name: "initrd", plan: planInitrd },
  { name: "disk", plan: planDisk },
];

/**
 * Phases: packages first (files and units need them), then files, then units, then accounts,
 * then disk and certificate (they need the passphrase or the CA, and are the slowest).
 */
const phase: Record<ChangeKind, number> = {
  "purge-packages": 0,
  "install-packages": 1,
  "write-file": 2,
  "remove-file": 2,
  "disable-lines": 2,
  // After the keyfiles it compiles (same phase, stable order keeps it behind them).
  "compile-dconf": 2,
  "unmask-unit": 3,
  "enable-unit": 3,
  "disable-unit": 3,
  "mask-unit": 3,
  "set-group-members": 4,
  "lock-account": 4,
  // Disk changes keep the disk resource's order: a re-encryption before the keyslot changes.
  "luks-reencrypt": 5,
  "luks-convert-keyslot": 5,
  "luks-add-recovery-key": 5,
  // After the crypttab it copies in (phase 2); before the enrolment, in resource order.
  "initrd-tpm2": 5,
  "tpm2-enrol": 5,
  "luks-remove-keyslot": 5,
  "vpn-certificate": 6,
};

/**
 * The changes that bring the target described by `facts` to what `profile` asks, in a stable
 * order. Writes nothing; `koffer plan` prints the result and `koffer provision` applies it.
 */
export function planProvision(profile: Profile, facts: Facts, options: PlanOptions): Change[] {
  let installing = new Set<string>();
  const ctx: PlanContext = {
    ...options,
    profile,
    facts,
    willHave: (pkg) => installed(facts, pkg) || installing.has(pkg),
  };
  // Packages first: units of packages about to be installed can then be enabled in the same plan.
  const packages = planPackages(ctx);
  installing = new Set(packages.flatMap((c) => (c.kind === "install-packages" ? c.packages : [])));
  const all = [
    ...packages,
    ...resources.filter((r) => r.plan !== planPackages).flatMap((r) => r.plan(ctx)),
  ];
  // A stable sort keeps each resource's own order within a phase.
  return all
    .map((change, index) => ({ change, index }))
    .sort((a, b) => phase[a.change.kind] - phase[b.change.kind] || a.index - b.index)
    .map(({ change }) => change);
}
