import type { Control, Finding } from "./types.js";
import {
  acceptsEverything,
  allowedInboundAccept,
  ev,
  fail,
  list,
  pass,
  reachableRules,
  unitOn,
  unitState,
} from "./util.js";

export const net01: Control = {
  meta: {
    id: "NET-01",
    kind: "auto",
    title: {
      de: "Host-Firewall aktiv, eingehend standardmäßig gesperrt",
      en: "Host firewall active, inbound default deny",
    },
    description: {
      de: "Eine Host-Firewall (nftables) ist beim Start aktiv und verwirft eingehenden Verkehr standardmäßig; zugelassen sind nur bestehende Verbindungen, Loopback und ICMPv6-Nachbarerkennung.",
      en: "A host firewall (nftables) is active at boot and drops inbound traffic by default; only established connections, loopback and ICMPv6 neighbour discovery are admitted.",
    },
    severity: "critical",
    references: ["BSI SYS.3.1.A3", "BSI SYS.2.1.A31", "DSGVO Art. 32 Abs. 1 lit. b"],
    sdmGoals: ["vertraulichkeit", "integritaet"],
    art32: ["b"],
    facts: ["network", "services"],
    messages: {
      ok: {
        de: "Erwartet aktive Firewall mit eingehend drop, gefunden nftables {{state}} und {{chain}} policy drop.",
        en: "Expected an active firewall with inbound drop, found nftables {{state}} and {{chain}} policy drop.",
      },
      notEnabled: {
        de: "Erwartet nftables.service aktiviert, gefunden {{state}}.",
        en: "Expected nftables.service enabled, found {{state}}.",
      },
      parseErrors: {
        de: "Erwartet einen ladbaren Regelsatz, gefunden Fehler: {{errors}}.",
        en: "Expected a ruleset that loads, found errors: {{errors}}.",
      },
      inboundAccept: {
        de: "Erwartet eingehend nur Antworten, Loopback und IPv6-Nachbarerkennung, gefunden {{rule}} in {{chain}}.",
        en: "Expected inbound accepts only for replies, loopback and IPv6 neighbour discovery, found {{rule}} in {{chain}}.",
      },
      noDefaultDeny: {
        de: "Erwartet eine Kette am Hook input mit policy drop (inet oder ip und ip6), gefunden {{actual}}.",
        en: "Expected a chain on the input hook with policy drop (inet, or ip and ip6), found {{actual}}.",
      },
    },
    fix: {
      de: "nftables.conf mit eingehend drop schreiben und nftables.service aktivieren.",
      en: "Write nftables.conf with inbound drop and enable nftables.service.",
    },
  },
  evaluate(profile, facts) {
    const findings: Finding[] = [];
    const state = unitState(facts, "nftables.service");
    if (!unitOn(state))
      findings.push(
        fail("notEnabled", { state }, [
          ev("nftables.service", "enabled", state, "systemctl is-enabled"),
        ]),
      );
    const nft = facts.network.nftables;
    if (nft.parseErrors.length > 0)
      findings.push(
        fail("parseErrors", { errors: nft.parseErrors.join("; ") }, [
          ev(nft.source, "a valid ruleset", nft.parseErrors.join("; "), nft.source),
        ]),
      );
    const inputs = nft.chains.filter((c) => c.hook === "input");
    // Base chains on one hook all see a packet; an accept in one is not final, a drop is.
    // So what the dropping chains (and the chains they jump to) accept is what gets in.
    const ssh = profile.spec.network.ssh;
    const dropping = inputs.filter((c) => c.policy === "drop" && !c.rules.some(acceptsEverything));
    for (const chain of dropping)
      for (const { rule, chain: where } of reachableRules(chain, nft.chains))
        if (!allowedInboundAccept(rule, { ssh }))
          findings.push(
            fail("inboundAccept", { rule, chain: where }, [
              ev(
                `nftables ${where}`,
                "inbound accepts only for replies, loopback, IPv6 neighbour discovery",
                rule,
                nft.source,
              ),
            ]),
          );
    const families = new Set(dropping.map((c) => c.family));
    const covered = families.has("inet") || (families.has("ip") && families.has("ip6"));
    if (!covered) {
      const actual =
        inputs.length === 0
          ? "no input chain"
          : list(
              inputs.map(
                (c) =>
                  `${c.family} ${c.table} ${c.name} policy ${c.policy ?? "accept"}` +
                  (c.rules.some(acceptsEverything) ? " with a rule accepting everything" : ""),
              ),
            );
      findings.push(
        fail("noDefaultDeny", { actual }, [
          ev("nftables input chain", "policy drop", actual, nft.source),
        ]),
      );
    }
    if (findings.length === 0)
      findings.push(
        pass("ok", { state, chain: list(dropping.map((c) => `${c.family} ${c.table} ${c.name}`)) }),
      );
    return findings;
  },
};
