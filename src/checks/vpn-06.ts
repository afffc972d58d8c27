import { isIP } from "node:net";
import type { Facts } from "../facts/types.js";
import { hostsAddresses } from "../facts/parsers/hosts.js";
import type { Profile } from "../profiles/types.js";
import type { Control, Finding } from "./types.js";
import {
  acceptsEverything,
  allowedOutboundAccept,
  carriesIke,
  ev,
  fail,
  leaksDns,
  list,
  pass,
  pinnedTo,
  reachableRules,
  unitOn,
  unitState,
} from "./util.js";

/**
 * The gateway's addresses as the laptop knows them without DNS: the profile's address, or what
 * /etc/hosts gives its name (a kill-switched laptop resolves it nowhere else before the
 * tunnel is up). Empty when unknown: then IKE may have to go to any address.
 */
export function gatewayAddresses(
  profile: Profile,
  facts: Facts,
): { addresses: string[]; source: string } {
  const gateway = profile.spec.vpn.gateway;
  if (gateway === undefined) return { addresses: [], source: "" };
  if (isIP(gateway) !== 0) return { addresses: [gateway], source: "profile spec.vpn.gateway" };
  const hosts = facts.network.hosts ?? [];
  const addresses = hostsAddresses(hosts, gateway);
  const sources = hosts.filter((h) => addresses.includes(h.address)).map((h) => h.source);
  return { addresses, source: [...new Set(sources)].join(", ") };
}

export const vpn06: Control = {
  meta: {
    id: "VPN-06",
    kind: "auto",
    title: {
      de: "Ständig aktiver Volltunnel mit Sperre: nichts verlässt das Gerät außerhalb des Tunnels",
      en: "Always-on full tunnel with kill switch: nothing leaves outside the tunnel",
    },
    description: {
      de: "Der Tunnel ist immer aktiv und umfasst den gesamten Verkehr (0.0.0.0/0); eine Firewall-Regel für ausgehenden Verkehr verwirft alles außer IKE/NAT-T und ESP zum Gateway (sobald seine Adresse bekannt ist), DHCP und IPsec-geschütztem Verkehr – auch wenn der Tunnel nicht besteht.",
      en: "The tunnel is always on and carries all traffic (0.0.0.0/0); an outbound firewall chain drops everything but IKE/NAT-T and ESP to the gateway (once its address is known), DHCP and IPsec-protected traffic, also while the tunnel is down.",
    },
    severity: "critical",
    references: ["BSI SYS.3.1.A9", "BSI NET.3.3.A4", "DSGVO Art. 32 Abs. 1 lit. b"],
    sdmGoals: ["vertraulichkeit"],
    art32: ["b"],
    facts: ["vpn", "network", "services"],
    messages: {
      ok: {
        de: "Erwartet Volltunnel mit Sperre, gefunden remote_ts {{remoteTs}}, start_action {{startAction}}, Ausgangskette mit policy drop.",
        en: "Expected a full tunnel with kill switch, found remote_ts {{remoteTs}}, start_action {{startAction}}, output chain with policy drop.",
      },
      noConnection: {
        de: "Erwartet eine IKEv2-Verbindung in swanctl.conf, gefunden keine.",
        en: "Expected an IKEv2 connection in swanctl.conf, found none.",
      },
      splitTunnel: {
        de: "Erwartet remote_ts = 0.0.0.0/0 in {{child}}, gefunden {{remoteTs}}.",
        en: "Expected remote_ts = 0.0.0.0/0 in {{child}}, found {{remoteTs}}.",
      },
      startAction: {
        de: "Erwartet start_action = trap oder start in {{child}}, gefunden {{startAction}}.",
        en: "Expected start_action = trap or start in {{child}}, found {{startAction}}.",
      },
      noKillSwitch: {
        de: "Erwartet eine nftables-Kette am Hook output mit policy drop, gefunden {{actual}}.",
        en: "Expected an nftables chain on the output hook with policy drop, found {{actual}}.",
      },
      notLoaded: {
        de: "Erwartet einen Regelsatz, den nftables beim Start lädt, gefunden {{actual}}.",
        en: "Expected a ruleset nftables loads at boot, found {{actual}}.",
      },
      outsideTunnel: {
        de: "Erwartet außerhalb des Tunnels nur IKE, ESP, DHCP und Nachbarerkennung, gefunden {{rule}} in {{chain}}.",
        en: "Expected only IKE, ESP, DHCP and neighbour discovery outside the tunnel, found {{rule}} in {{chain}}.",
      },
      dnsLeak: {
        de: "Erwartet keinen DNS-Verkehr außerhalb des Tunnels, gefunden {{rule}} in {{chain}}.",
        en: "Expected no DNS traffic outside the tunnel, found {{rule}} in {{chain}}.",
      },
      unpinnedIke: {
        de: "Erwartet IKE/NAT-T und ESP nur zum Gateway {{gateway}} ({{addresses}}), gefunden {{rule}} in {{chain}} ({{site}}).",
        en: "Expected IKE/NAT-T and ESP only to the gateway {{gateway}} ({{addresses}}), found {{rule}} in {{chain}} ({{site}}).",
      },
      noIpsecRule: {
        de: "Erwartet eine Regel, die IPsec-geschützten Verkehr zulässt (meta ipsec / rt ipsec), gefunden keine in {{chain}}.",
        en: "Expected a rule admitting IPsec-protected traffic (meta ipsec / rt ipsec), found none in {{chain}}.",
      },
    },
    fix: {
      de: "remote_ts = 0.0.0.0/0,::/0 und start_action = trap in swanctl.conf sowie eine Ausgangskette mit policy drop in nftables.conf schreiben.",
      en: "Write remote_ts = 0.0.0.0/0,::/0 and start_action = trap to swanctl.conf and an output chain with policy drop to nftables.conf.",
    },
  },
  evaluate(profile, facts) {
    const findings: Finding[] = [];
    const connections = facts.vpn.swanctl.connections;
    if (connections.length === 0)
      findings.push(
        fail("noConnection", {}, [
          ev("swanctl.conf", "an IKEv2 connection", "none", "/etc/swanctl"),
        ]),
      );
    const remoteTs: string[] = [];
    const actions: string[] = [];
    for (const c of connections) {
      // Without a CHILD_SA the connection carries no traffic: nothing is tunnelled.
      if (c.children.length === 0)
        findings.push(
          fail("splitTunnel", { child: `${c.name} (no children)`, remoteTs: "(no CHILD_SA)" }, [
            ev(
              `connection ${c.name}`,
              "a child with remote_ts = 0.0.0.0/0",
              "no children",
              c.source,
            ),
          ]),
        );
      for (const child of c.children) {
        const name = `${c.name}.${child.name}`;
        remoteTs.push(...child.remoteTs);
        if (!child.remoteTs.includes("0.0.0.0/0"))
          findings.push(
            fail("splitTunnel", { child: name, remoteTs: list(child.remoteTs, "(not set)") }, [
              ev(
                `child ${name}`,
                "remote_ts = 0.0.0.0/0",
                list(child.remoteTs, "(not set)"),
                c.source,
              ),
            ]),
          );
        if (profile.spec.vpn.alwaysOn) {
          actions.push(child.startAction ?? "none");
          if (
            child.startAction === null ||
            !["trap", "start", "trap|start", "start|trap"].includes(child.startAction)
          )
            findings.push(
              fail("startAction", { child: name, startAction: child.startAction ?? "(not set)" }, [
                ev(
                  `child ${name}`,
                  "start_action = trap|start",
                  child.startAction ?? "(not set)",
                  c.source,
                ),
              ]),
            );
        }
      }
    }
    if (profile.spec.vpn.killSwitch) {
      const nft = facts.network.nftables;
      // nft loads a file atomically: one error and no rule of it applies; a disabled
      // nftables.service loads nothing at boot.
      const state = unitState(facts, "nftables.service");
      if (nft.parseErrors.length > 0 || !unitOn(state)) {
        const actual =
          nft.parseErrors.length > 0 ? nft.parseErrors.join("; ") : `nftables.service ${state}`;
        findings.push(
          fail("notLoaded", { actual }, [
            ev("nftables ruleset", "loaded at boot", actual, nft.source || "systemctl is-enabled"),
          ]),
        );
      }
      const outputs = nft.chains.filter((ch) => ch.hook === "output");
      const dropping = outputs.filter(
        (ch) => ch.policy === "drop" && !ch.rules.some(acceptsEverything),
      );
      // IPv4 and IPv6 must both be stopped: an inet chain covers both, ip and ip6 one each.
      const covers = (family: string) =>
        dropping.some((ch) => ch.family === "inet" || ch.family === family);
      const uncovered = ["ip", "ip6"].filter((family) => !covers(family));
      if (uncovered.length > 0) {
        const described = outputs
          .map(
            (ch) =>
              `${ch.family} ${ch.table} ${ch.name} policy ${ch.policy ?? "accept"}` +
              (ch.rules.some(acceptsEverything) ? " with a rule accepting everything" : ""),
          )
          .join("; ");
        const actual =
          outputs.length === 0
            ? "no output chain"
            : dropping.length === 0
              ? described
              : `${described} (${uncovered.map((f) => (f === "ip" ? "IPv4" : "IPv6")).join(" and ")} not covered)`;
        findings.push(
          fail("noKillSwitch", { actual }, [
            ev("nftables output chain", "policy drop for IPv4 and IPv6", actual, nft.source),
          ]),
        );
      }
      // IKE/NAT-T and ESP go to the gateway: once its address is known, an accept to any
      // address lets anything on UDP 500/4500 (or ESP to any peer) leave outside the tunnel.
      const gateway = gatewayAddresses(profile, facts);
      // Any DNS query that may leave outside the tunnel, to whichever address, defeats it.
      for (const chain of dropping)
        for (const { rule, chain: where, site } of reachableRules(chain, nft.chains)) {
          const source = site ?? nft.source;
          if (leaksDns(rule))
            findings.push(
              fail("dnsLeak", { rule, chain: where }, [
                ev(`nftables ${where}`, "no DNS outside the tunnel", rule, source),
              ]),
            );
          else if (!allowedOutboundAccept(rule, profile.spec.network.ssh))
            findings.push(
              fail("outsideTunnel", { rule, chain: where }, [
                ev(
                  `nftables ${where}`,
                  "outside the tunnel only IKE, ESP, DHCP, loopback, replies, neighbour discovery",
                  rule,
                  source,
                ),
              ]),
            );
          else if (
            gateway.addresses.length > 0 &&
            carriesIke(rule) &&
            !pinnedTo(rule, gateway.addresses)
          ) {
            const addresses = list(gateway.addresses);
            findings.push(
              fail(
                "unpinnedIke",
                {
                  gateway: profile.spec.vpn.gateway ?? "",
                  addresses,
                  rule,
                  chain: where,
                  site: source,
                },
                [
                  ev(
                    `nftables ${where}`,
                    `IKE/NAT-T and ESP only to ${addresses} (${gateway.source})`,
                    rule,
                    source,
                  ),
                ],
              ),
            );
          }
        }
      if (
        uncovered.length === 0 &&
        !dropping.some((ch) => ch.rules.some((r) => /\bipsec\b/.test(r)))
      ) {
        const chain = dropping.map((ch) => `${ch.family} ${ch.table} ${ch.name}`).join(", ");
        findings.push(
          fail("noIpsecRule", { chain }, [
            ev(`nftables ${chain}`, "a rule matching ipsec", "none", nft.source),
          ]),
        );
      }
    }
    if (findings.length === 0)
      findings.push(
        pass("ok", {
          remoteTs: list([...new Set(remoteTs)]),
          startAction: list([...new Set(actions)]),
        }),
      );
    return findings;
  },
};
