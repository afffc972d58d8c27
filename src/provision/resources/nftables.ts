/**
 * Host firewall (NET-01) and the VPN kill switch (VPN-06): /etc/nftables.conf from
 * templates/nftables.conf, nftables.service enabled. With the kill switch, only IKE/NAT-T
 * and ESP to the gateway, DHCP, neighbour discovery and traffic the IPsec policy protects
 * leave the laptop.
 */
import { isIP } from "node:net";
import { managedPath } from "../../facts/managed.js";
import { hostsAddresses, type HostsEntry } from "../../facts/parsers/hosts.js";
import type { Profile } from "../../profiles/types.js";
import type { Change } from "../types.js";
import { enableUnit, fileChange, renderTemplate, type PlanContext } from "./common.js";

/**
 * nft's address matches for the gateway: its address, or — when it is a name — the addresses
 * /etc/hosts gives it (with the kill switch no DNS leaves before the tunnel is up, so a
 * kill-switched laptop can only resolve the name there); none when it resolves nowhere locally.
 */
function gatewayMatches(gateway: string | undefined, hosts: readonly HostsEntry[]): string[] {
  if (gateway === undefined) return [];
  const addresses = isIP(gateway) === 0 ? hostsAddresses(hosts, gateway) : [gateway];
  // One match per address (no set): VPN-06 reads each rule on its own.
  return addresses.map((a) => `${isIP(a) === 6 ? "ip6" : "ip"} daddr ${a}`);
}

/** Inbound beyond replies, loopback and neighbour discovery: SSH, only through the tunnel (NET-03). */
function inputRules(profile: Profile): string {
  return profile.spec.network.ssh
    ? "\n\t\t# SSH for administration, only through the IPsec tunnel (NET-03)\n\t\tmeta ipsec exists tcp dport 22 accept"
    : "";
}

/**
 * /etc/nftables.conf for `profile`; `hosts` (the target's /etc/hosts) pins IKE and ESP to the
 * gateway's addresses when the profile names the gateway by host name.
 */
export function nftablesConf(profile: Profile, hosts: readonly HostsEntry[] = []): string {
  const vpn = profile.spec.vpn;
  if (!vpn.killSwitch)
    return renderTemplate("nftables.conf", {
      inputRules: inputRules(profile),
      outputNote: "allowed (the profile sets no kill switch).",
      outputPolicy: "accept",
      outputRules: "",
    });
  const to = gatewayMatches(vpn.gateway, hosts);
  const rules = ['oif "lo" accept'];
  if (to.length > 0) {
    const via = isIP(vpn.gateway ?? "") === 0 ? ` (/etc/hosts)` : "";
    rules.push(`# IKE and NAT-T, and ESP, to the gateway ${vpn.gateway}${via} only`);
    for (const match of to)
      rules.push(`${match} udp dport { 500, 4500 } accept`, `${match} meta l4proto esp accept`);
  } else {
    // The gateway is a name that /etc/hosts does not resolve: its address is unknown until
    // resolved, so IKE may go to any address. No DNS leaves outside the tunnel (VPN-06): under
    // the 0.0.0.0/0 trap policy a query would be caught by the tunnel it is meant to open
    // anyway, so the name must resolve locally (/etc/hosts) on the laptop — and once it does,
    // provisioning pins these rules to its addresses.
    rules.push(`# IKE and NAT-T, and ESP (gateway ${vpn.gateway ?? "not named"} is a name)`);
    rules.push("udp dport { 500, 4500 } accept", "meta l4proto esp accept");
  }
  rules.push("# DHCP for the uplink");
  rules.push("udp sport 68 udp dport 67 accept", "udp sport 546 udp dport 547 accept");
  rules.push("icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit } accept");
  if (profile.spec.network.ssh) {
    // New SSH sessions come in only through the tunnel (input chain). One already open when
    // the firewall starts - the technician's, provisioning this laptop over its LAN - must
    // not lose its replies, or the run dies at this very step and leaves the rest undone.
    // Stateless on purpose: conntrack picks such a session up mid-stream, and its first
    // packet seen is "new". Only to a client's unprivileged port, so no DNS (53, 853) or
    // other service can be reached from port 22.
    rules.push("# replies of SSH sessions (NET-03)");
    rules.push("tcp sport 22 tcp dport 1024-65535 accept");
  }
  rules.push("# everything else only through the tunnel");
  // `rt ipsec exists`: the route has an IPsec transform. `meta ipsec` (the packet came in
  // through IPsec) is invalid in output; the kernel would reject the whole ruleset.
  rules.push("rt ipsec exists accept");
  return renderTemplate("nftables.conf", {
    inputRules: inputRules(profile),
    outputNote: "kill switch — nothing leaves outside the IPsec tunnel.",
    outputPolicy: "drop",
    outputRules: rules.map((r) => `\t\t${r}`).join("\n"),
  });
}

/** Loads /etc/nftables.conf on a running machine whose nftables.service is active. */
export const nftablesActivate = [
  "/bin/sh",
  "-c",
  'systemctl -q is-active nftables.service || exit 0; exec nft -f "$1"',
  "sh",
  managedPath.nftables,
];

function satisfied(ctx: PlanContext): boolean {
  const nft = ctx.facts.network.nftables;
  if (nft.parseErrors.length > 0) return false;
  const inputs = nft.chains.filter((c) => c.hook === "input" && c.policy === "drop");
  const families = new Set(inputs.map((c) => c.family));
  const inbound = families.has("inet") || (families.has("ip") && families.has("ip6"));
  if (!inbound) return false;
  if (!ctx.profile.spec.vpn.killSwitch) return true;
  return nft.chains.some(
    (c) => c.hook === "output" && c.policy === "drop" && c.rules.some((r) => /\bipsec\b/.test(r)),
  );
}

export function planNftables(ctx: PlanContext): Change[] {
  const controls = ctx.profile.spec.vpn.killSwitch ? ["NET-01", "VPN-06"] : ["NET-01"];
  return [
    ...fileChange(ctx, {
      resource: "nftables",
      path: managedPath.nftables,
      content: nftablesConf(ctx.profile, ctx.facts.network.hosts ?? []),
      mode: 0o755,
      summary: ctx.profile.spec.vpn.killSwitch
        ? "firewall: inbound deny, outbound only through the tunnel (kill switch)"
        : "firewall: inbound deny",
      controls,
      satisfied: satisfied(ctx),
      // On a running laptop the kernel's ruleset is what filters (and what NET-01 and VPN-06
      // judge): load the new file at once, atomically, when the firewall service runs; when
      // it does not, enabling it below loads the file. With network.ssh the ruleset lets the
      // run's own connection through the tunnel on.
      activate: nftablesActivate,
    }),
    ...enableUnit(ctx, "nftables.service", "nftables", ["NET-01"], "nftables"),
  ];
}
