import type { Facts } from "../facts/types.js";
import type { Evidence } from "../report/types.js";
import type { Profile } from "../profiles/types.js";
import type { Control, Finding } from "./types.js";
import { ev, fail, inCidr, isDefaultRoute, list, pass, unitOn, unitState } from "./util.js";

/** The local stub resolver (systemd-resolved, dnsmasq): its upstreams are judged separately. */
function loopback(address: string): boolean {
  return /^127\./.test(address) || address === "::1";
}

/**
 * Does systemd-resolved run, so that its resolved.conf(.d) servers are asked? Only then: on
 * Debian 12 it is a package of its own (systemd-resolved), and without it nothing reads
 * resolved.conf.d — glibc asks the servers of /etc/resolv.conf (nsswitch `dns`). Running means
 * it starts at boot (enabled, or an alias of an enabled unit) or, on a live target, is active.
 */
export function resolvedRuns(facts: Facts): { runs: boolean; why: string } {
  const unit = "systemd-resolved.service";
  const state = unitState(facts, unit);
  const active = facts.services.active.available ? facts.services.active.value[unit] : undefined;
  if (active === "active") return { runs: true, why: `${unit} active` };
  return {
    runs: unitOn(state),
    why: `${unit} ${state}${active === undefined ? "" : `, ${active}`}`,
  };
}

/**
 * Is a resolver reached through the tunnel? A server the gateway pushed, the local stub, or
 * one inside an internal network the tunnel carries (the profile's remote networks or a
 * child's remote_ts, not the default route — under a full tunnel a LAN resolver stays on
 * the LAN). Being private is not enough. Shared with the DNS provisioning resource.
 */
export function tunnelResolver(profile: Profile, facts: Facts): (address: string) => boolean {
  const internal = [
    ...profile.spec.vpn.remoteNetworks,
    ...facts.vpn.swanctl.connections.flatMap((c) => c.children.flatMap((ch) => ch.remoteTs)),
  ]
    .filter((n) => n.includes(".") || n.includes(":"))
    .filter((n) => !isDefaultRoute(n));
  const pushed = new Set(facts.network.resolvConf?.vpnPushed ?? []);
  return (address) =>
    loopback(address) || pushed.has(address) || internal.some((n) => inCidr(address, n));
}

export const vpn07: Control = {
  meta: {
    id: "VPN-07",
    kind: "auto",
    title: { de: "Kein DNS- oder IPv6-Leck", en: "No DNS or IPv6 leak" },
    description: {
      de: "Namensauflösung und IPv6 umgehen den Tunnel nicht: Resolver liegen im internen Netz hinter dem Tunnel, und IPv6 wird durch den Tunnel geführt (::/0) oder ist abgeschaltet.",
      en: "Name resolution and IPv6 do not bypass the tunnel: resolvers sit in the internal network behind the tunnel, and IPv6 is tunnelled (::/0) or disabled.",
    },
    severity: "medium",
    references: ["BSI SYS.3.1.A9", "BSI NET.3.3.A4", "DSGVO Art. 32 Abs. 1 lit. b"],
    sdmGoals: ["vertraulichkeit", "nichtverkettung"],
    art32: ["b"],
    facts: ["vpn", "network", "data", "services"],
    messages: {
      ok: {
        de: "Erwartet kein DNS- oder IPv6-Leck, gefunden Resolver {{resolvers}} und IPv6 {{ipv6}}.",
        en: "Expected no DNS or IPv6 leak, found resolvers {{resolvers}} and IPv6 {{ipv6}}.",
      },
      ipv6: {
        de: "Erwartet ::/0 im Tunnel oder net.ipv6.conf.all.disable_ipv6 = 1, gefunden remote_ts {{remoteTs}} und disable_ipv6 {{disable}}.",
        en: "Expected ::/0 in the tunnel or net.ipv6.conf.all.disable_ipv6 = 1, found remote_ts {{remoteTs}} and disable_ipv6 {{disable}}.",
      },
      publicResolver: {
        de: "Erwartet Resolver, die über den Tunnel erreicht werden (vom Gateway zugewiesen oder im internen Netz), gefunden {{resolver}} ({{source}}).",
        en: "Expected resolvers reached through the tunnel (pushed by the gateway or in the internal network), found {{resolver}} ({{source}}).",
      },
    },
    fix: {
      de: "::/0 in remote_ts aufnehmen oder IPv6 abschalten; DNS über den Tunnel zuweisen.",
      en: "Add ::/0 to remote_ts or disable IPv6; assign DNS through the tunnel.",
    },
  },
  evaluate(profile, facts) {
    const findings: Finding[] = [];
    const remoteTs = facts.vpn.swanctl.connections.flatMap((c) =>
      c.children.flatMap((ch) => ch.remoteTs),
    );
    const tunnelled = remoteTs.includes("::/0");
    const disable = facts.data.sysctl["net.ipv6.conf.all.disable_ipv6"];
    const disabled = disable?.value.trim() === "1";
    if (!tunnelled && !disabled)
      findings.push(
        fail(
          "ipv6",
          { remoteTs: list(remoteTs, "(none)"), disable: disable?.value ?? "(not set)" },
          [
            ev(
              "IPv6",
              "::/0 in remote_ts or disable_ipv6 = 1",
              `remote_ts ${list(remoteTs, "(none)")}; disable_ipv6 ${disable?.value ?? "(not set)"}`,
              disable?.source ?? "/etc/swanctl",
            ),
          ],
        ),
      );
    const resolvers: string[] = [];
    const conf = facts.network.resolvConf;
    if (conf !== null) resolvers.push(...conf.nameservers.map((n) => `${n}|${conf.source}`));
    // FallbackDNS= is queried whenever no link has a server, e.g. while the tunnel is down.
    // Both only when systemd-resolved runs: otherwise no program reads resolved.conf(.d).
    const resolved = resolvedRuns(facts);
    const evidence: Evidence[] = [];
    for (const key of resolved.runs ? ["DNS", "FallbackDNS"] : []) {
      const dns = facts.network.resolved[key];
      if (dns !== undefined)
        resolvers.push(
          ...dns.value
            .split(/\s+/)
            .filter((x) => x !== "")
            .map((n) => `${n}|${dns.source}`),
        );
    }
    if (!resolved.runs) {
      const unread = ["DNS", "FallbackDNS"]
        .map((key) => facts.network.resolved[key])
        .filter((s) => s !== undefined)
        .map((s) => `${s.value} (${s.source})`);
      if (unread.length > 0)
        evidence.push(
          ev(
            "systemd-resolved",
            "its DNS= and FallbackDNS= judged when it runs",
            `not read: ${resolved.why}; ignored ${unread.join(", ")}`,
            "systemctl is-enabled",
          ),
        );
    }
    const through = tunnelResolver(profile, facts);
    for (const entry of resolvers) {
      const [resolver, source] = entry.split("|") as [string, string];
      const address = resolver.split("#")[0] as string;
      if (!through(address))
        findings.push(
          fail("publicResolver", { resolver, source }, [
            ev(
              "DNS resolver",
              "pushed by the gateway or inside an internal network of the tunnel",
              resolver,
              source,
            ),
          ]),
        );
    }
    if (findings.length === 0)
      findings.push(
        pass(
          "ok",
          {
            resolvers: list(resolvers.map((r) => r.split("|")[0] as string)),
            ipv6: tunnelled ? "tunnelled (::/0)" : "disabled",
          },
          evidence,
        ),
      );
    return findings;
  },
};
