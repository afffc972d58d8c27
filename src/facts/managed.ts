/**
 * The files koffer manages on a laptop, and a gatherer that records each one's identity
 * (SHA-256, mode, owner). Parsed settings say whether a control passes; only the bytes say
 * whether a file is exactly what koffer would write, which is what lets `koffer plan` show
 * zero changes on a provisioned laptop. Files koffer edits line by line (fstab, login.defs,
 * display-manager configs) are kept as text too, because the planner needs their lines.
 */
import { createHash } from "node:crypto";
import type { Profile } from "../profiles/types.js";
import type { Target } from "../targets/types.js";
import type { ManagedFile } from "./types.js";
import { mapOrdered } from "./in-flight.js";

/** Every path a resource in src/provision/resources writes; one place, so gatherer and planner agree. */
export const managedPath = {
  usbguardRules: "/etc/usbguard/rules.conf",
  usbguardDaemon: "/etc/usbguard/usbguard-daemon.conf",
  modprobeUsbStorage: "/etc/modprobe.d/koffer-usb-storage.conf",
  sysctl: "/etc/sysctl.d/90-koffer.conf",
  sshdBind: "/etc/sysctl.d/90-koffer-sshd.conf",
  grub: "/etc/default/grub.d/90-koffer.cfg",
  sleep: "/etc/systemd/sleep.conf.d/90-koffer.conf",
  nftables: "/etc/nftables.conf",
  swanctl: "/etc/swanctl/conf.d/koffer.conf",
  vpnCa: "/etc/swanctl/x509ca/koffer-vpn-ca.pem",
  sudoers: "/etc/sudoers.d/koffer",
  dconfProfile: "/etc/dconf/profile/user",
  dconfKeys: "/etc/dconf/db/local.d/00-koffer",
  dconfLocks: "/etc/dconf/db/local.d/locks/00-koffer",
  pwquality: "/etc/security/pwquality.conf.d/90-koffer.conf",
  faillock: "/etc/security/faillock.conf",
  pamAuth: "/etc/pam.d/common-auth",
  pamAccount: "/etc/pam.d/common-account",
  loginDefs: "/etc/login.defs",
  sshd: "/etc/ssh/sshd_config.d/00-koffer.conf",
  fstab: "/etc/fstab",
  cupsd: "/etc/cups/cupsd.conf",
  journald: "/etc/systemd/journald.conf.d/90-koffer.conf",
  audit: "/etc/audit/rules.d/90-koffer.rules",
  coredump: "/etc/systemd/coredump.conf.d/90-koffer.conf",
  limits: "/etc/security/limits.d/90-koffer.conf",
  timesyncd: "/etc/systemd/timesyncd.conf.d/90-koffer.conf",
  autoUpgrades: "/etc/apt/apt.conf.d/20auto-upgrades",
  unattendedOrigins: "/etc/apt/apt.conf.d/52koffer-unattended-upgrades",
  firefoxPolicies: "/etc/firefox/policies/policies.json",
  chromiumPolicies: "/etc/chromium/policies/managed/koffer.json",
  gdmDaemon: "/etc/gdm3/daemon.conf",
  gdmCustom: "/etc/gdm3/custom.conf",
  lightdm: "/etc/lightdm/lightdm.conf",
  aptSourcesList: "/etc/apt/sources.list",
  crypttab: "/etc/crypttab",
  dracutTpm2: "/etc/dracut.conf.d/50-koffer-tpm2.conf",
  tpm2EnrolScript: "/usr/lib/koffer/tpm2-enrol",
  tpm2EnrolUnit: "/etc/systemd/system/koffer-tpm2-enrol.service",
  tpm2EnrolConf: "/etc/koffer/tpm2-enrol.conf",
} as const;

/** Files the planner edits line by line: their text is kept in the facts. */
export const textManagedPaths: ReadonlySet<string> = new Set([
  managedPath.fstab,
  managedPath.loginDefs,
  managedPath.pamAuth,
  managedPath.pamAccount,
  managedPath.gdmDaemon,
  managedPath.gdmCustom,
  managedPath.lightdm,
  managedPath.aptSourcesList,
  managedPath.crypttab,
]);

/** The paths looked at for a profile (today the same for every profile). */
export function managedPaths(_profile: Profile | null): string[] {
  return Object.values(managedPath);
}

/** Identity of each managed file on the target; `null` for a file that does not exist. */
export async function gatherManagedFiles(
  target: Target,
  profile: Profile | null,
): Promise<Record<string, ManagedFile | null>> {
  const out: Record<string, ManagedFile | null> = {};
  const paths = managedPaths(profile);
  const read = await mapOrdered(paths, async (path) => {
    const stat = await target.stat(path);
    return { stat, bytes: stat?.type === "file" ? await target.readFile(path) : null };
  });
  for (const [i, path] of paths.entries()) {
    const { stat, bytes } = read[i] as (typeof read)[number];
    if (stat === null || bytes === null) {
      out[path] = null;
      continue;
    }
    out[path] = {
      sha256: createHash("sha256").update(bytes).digest("hex"),
      mode: stat.mode & 0o7777,
      uid: stat.uid,
      gid: stat.gid,
      ...(textManagedPaths.has(path) ? { text: bytes.toString("utf8") } : {}),
    };
  }
  return out;
}
