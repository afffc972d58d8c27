/**
 * Packages (APP-02, NET-02, VPN-01 and what other resources need): install what the profile's
 * controls and devices need; purge denied packages, remote-access servers and non-IPsec
 * tunnels that are installed (`ii`). Purges come first so an install never pulls them back.
 */
import { remotePackages } from "../../checks/net-02.js";
import { presentPackage } from "../../checks/util.js";
import { otherTunnelPackages } from "../../checks/vpn-01.js";
import { requiredPluginPackages } from "../../profiles/strongswan-plugins.js";
import { releaseOf } from "../../platform/releases.js";
import type { Profile } from "../../profiles/types.js";
import type { Change } from "../types.js";
import { installed, type PlanContext } from "./common.js";
import type { Facts } from "../../facts/types.js";

/** Every package the profile needs, in a stable order. */
export function requiredPackages(profile: Profile, facts: Facts): string[] {
  const spec = profile.spec;
  const release = releaseOf(spec.platform);
  const out = ["sudo", "nftables", "apparmor", "usbguard", ...release.packages.strongswan];
  // The plugins for the profile's key type and proposals (ECDSA, ECP, AES-GCM: openssl, gcm).
  out.push(...requiredPluginPackages(spec.vpn.proposals, spec.vpn.certificate.key));
  const pq = spec.vpn.postQuantum;
  if (pq !== undefined && pq !== "off") out.push(...release.packages.strongswanPostQuantum);
  // The unlocker that reads tpm2-device= in crypttab (its own package from Debian 13 on).
  if (spec.disk.unlock === "tpm2+pin") out.push(release.packages.systemdCryptsetup);
  if (spec.logging.auditd) out.push("auditd");
  if (spec.updates.unattended) out.push("unattended-upgrades");
  // chrony, when it is already the time service, serves TIME-01 as well.
  if (spec.logging.timeSync && !installed(facts, "chrony")) out.push("systemd-timesyncd");
  if (spec.data.browser !== undefined) out.push(spec.data.browser.name);
  // NET-03 judges a hardened server where the profile allows SSH: install it.
  if (spec.network.ssh) out.push("openssh-server");
  for (const device of spec.devices.allow) out.push(...(device.packages ?? []));
  return [...new Set(out)];
}

export function unwantedPackages(profile: Profile): string[] {
  const spec = profile.spec;
  const out = [...spec.apps.deny, ...remotePackages, ...otherTunnelPackages];
  if (!spec.network.ssh) out.push("openssh-server");
  return [...new Set(out)];
}

export function planPackages(ctx: PlanContext): Change[] {
  const required = requiredPackages(ctx.profile, ctx.facts);
  // Purged in whatever state its files are on disk (held, half-configured …), exactly as
  // APP-02, NET-02 and VPN-01 count them present.
  const purge = unwantedPackages(ctx.profile).filter(
    (name) => presentPackage(ctx.facts, name) !== undefined && !required.includes(name),
  );
  const install = required.filter((name) => !installed(ctx.facts, name));
  const changes: Change[] = [];
  if (purge.length > 0)
    changes.push({
      kind: "purge-packages",
      packages: purge,
      resource: "packages",
      controls: ["APP-02", "NET-02", "VPN-01"],
      summary: `purge ${purge.join(", ")}`,
    });
  if (install.length > 0)
    changes.push({
      kind: "install-packages",
      packages: install,
      resource: "packages",
      controls: ["USB-01", "VPN-01", "NET-01", "APP-01", "LOG-01", "UPD-01", "ACC-05"],
      summary: `install ${install.join(", ")}`,
    });
  return changes;
}
