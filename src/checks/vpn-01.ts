import type { Facts } from "../facts/types.js";
import type { Profile } from "../profiles/types.js";
import {
  packageFor,
  pluginsForKey,
  proposalNeeds,
  type PluginNeed,
} from "../profiles/strongswan-plugins.js";
import type { Control, Finding } from "./types.js";
import { ev, fail, pass, presentPackage, vpnClientCertificates } from "./util.js";

/** Packages whose presence means another tunnel is at hand. */
export const otherTunnelPackages = [
  "wireguard",
  "wireguard-tools",
  "openvpn",
  "pptp-linux",
  "xl2tpd",
  "network-manager-openvpn",
  "network-manager-pptp",
  "network-manager-l2tp",
];

export const vpn01: Control = {
  meta: {
    id: "VPN-01",
    kind: "auto",
    title: {
      de: "Tunnel mit IPsec IKEv2 (strongSwan); kein WireGuard, IKEv1, PPTP oder L2TP",
      en: "Tunnel is IPsec IKEv2 (strongSwan); no WireGuard, IKEv1, PPTP or L2TP",
    },
    description: {
      de: "Die Verbindung zum Rathaus nutzt IPsec mit IKEv2 (strongSwan), das einzige von BSI TR-02102-3 abgedeckte VPN-Verfahren. IKEv1, PPTP, L2TP, OpenVPN und WireGuard (nicht TR-02102-konforme feste Algorithmen) sind nicht vorhanden.",
      en: "The tunnel to the town hall uses IPsec with IKEv2 (strongSwan), the only VPN covered by BSI TR-02102-3. IKEv1, PPTP, L2TP, OpenVPN and WireGuard (fixed algorithms outside TR-02102) are absent.",
    },
    severity: "critical",
    references: [
      "BSI SYS.3.1.A9",
      "BSI NET.3.3.A4",
      "BSI TR-02102-3",
      "DSGVO Art. 32 Abs. 1 lit. a",
    ],
    sdmGoals: ["vertraulichkeit", "integritaet"],
    art32: ["a", "b"],
    facts: ["vpn", "apps"],
    messages: {
      ok: {
        de: "Erwartet IPsec IKEv2, gefunden Verbindung {{connection}} mit IKEv2.",
        en: "Expected IPsec IKEv2, found connection {{connection}} with IKEv2.",
      },
      noStrongswan: {
        de: "Erwartet strongSwan (Paket strongswan-swanctl/charon-systemd), gefunden nicht installiert.",
        en: "Expected strongSwan (package strongswan-swanctl/charon-systemd), found it not installed.",
      },
      noConnection: {
        de: "Erwartet eine IKEv2-Verbindung in swanctl.conf, gefunden keine.",
        en: "Expected an IKEv2 connection in swanctl.conf, found none.",
      },
      version: {
        de: "Erwartet version = 2 in Verbindung {{connection}}, gefunden {{version}}.",
        en: "Expected version = 2 in connection {{connection}}, found {{version}}.",
      },
      otherTunnel: {
        de: "Erwartet keinen anderen Tunnel, gefunden {{type}} ({{source}}).",
        en: "Expected no other tunnel, found {{type}} ({{source}}).",
      },
      otherPackage: {
        de: "Erwartet kein Paket für andere Tunnel, gefunden {{package}} installiert.",
        en: "Expected no package for other tunnels, found {{package}} installed.",
      },
      pluginMissing: {
        de: "Erwartet ein strongSwan, das {{needs}} beherrscht, gefunden kein geladenes Plugin dafür ({{plugins}}); Paket {{package}} installieren.",
        en: "Expected a strongSwan that can do {{needs}}, found no loaded plugin for it ({{plugins}}); install the package {{package}}.",
      },
      pluginDisabled: {
        de: "Erwartet das strongSwan-Plugin {{plugin}} geladen (für {{needs}}), gefunden abgeschaltet ({{source}}).",
        en: "Expected the strongSwan plugin {{plugin}} loaded (for {{needs}}), found it disabled ({{source}}).",
      },
      legacy: {
        de: "Erwartet kein IKEv1, gefunden keyexchange={{keyexchange}} in {{connection}} ({{source}}).",
        en: "Expected no IKEv1, found keyexchange={{keyexchange}} in {{connection}} ({{source}}).",
      },
    },
    fix: {
      de: "strongSwan mit den Plugins für die Algorithmen des Profils installieren (libstrongswan-standard-plugins: openssl, gcm) und eine IKEv2-Verbindung in /etc/swanctl/conf.d schreiben; andere Tunnel entfernen.",
      en: "Install strongSwan with the plugins for the profile's algorithms (libstrongswan-standard-plugins: openssl, gcm) and write an IKEv2 connection to /etc/swanctl/conf.d; remove other tunnels.",
    },
  },
  evaluate(profile, facts) {
    const findings: Finding[] = [];
    const vpn = facts.vpn;
    if (!vpn.strongswanInstalled)
      findings.push(
        fail("noStrongswan", {}, [ev("strongSwan", "installed", "not installed", "dpkg status")]),
      );
    else findings.push(...pluginFindings(profile, facts));
    const connections = vpn.swanctl.connections;
    if (connections.length === 0)
      findings.push(
        fail("noConnection", {}, [
          ev("swanctl.conf", "an IKEv2 connection", "none", "/etc/swanctl"),
        ]),
      );
    for (const c of connections)
      if (c.version !== "2")
        findings.push(
          fail("version", { connection: c.name, version: c.version ?? "(not set: any)" }, [
            ev(
              `connection ${c.name}`,
              "version = 2",
              c.version ?? "(not set: IKEv1 and IKEv2)",
              c.source,
            ),
          ]),
        );
    for (const t of vpn.otherTunnels)
      findings.push(
        fail("otherTunnel", { type: t.type, source: t.source }, [
          ev("other tunnels", "none", t.type, t.source),
        ]),
      );
    for (const name of otherTunnelPackages) {
      const pkg = presentPackage(facts, name);
      if (pkg !== undefined)
        findings.push(
          fail("otherPackage", { package: name }, [
            ev(`package ${name}`, "not installed", `${pkg.version} (${pkg.status})`, "dpkg status"),
          ]),
        );
    }
    for (const l of vpn.legacyIpsec)
      if (l.keyexchange !== "ikev2")
        findings.push(
          fail("legacy", { keyexchange: l.keyexchange, connection: l.name, source: l.source }, [
            ev(`ipsec.conf ${l.name}`, "keyexchange=ikev2", l.keyexchange, l.source),
          ]),
        );
    if (findings.length === 0)
      findings.push(
        pass("ok", { connection: connections.map((c) => c.name).join(", ") }, [
          ev(
            "swanctl connections",
            "IKEv2",
            connections.map((c) => `${c.name}: version 2`).join(", "),
            connections[0]?.source,
          ),
        ]),
      );
    return findings;
  },
};

/** What the tunnel needs of strongSwan: the proposals in force and wanted, and the key types. */
function needs(profile: Profile, facts: Facts): PluginNeed[] {
  const spec = profile.spec.vpn;
  const proposals = [...spec.proposals.ike, ...spec.proposals.esp];
  for (const c of facts.vpn.swanctl.connections) {
    proposals.push(...c.proposals);
    for (const child of c.children) proposals.push(...child.espProposals);
  }
  // postQuantum: preferred offers ML-KEM first and falls back to the classical proposal, which
  // a strongSwan without ML-KEM negotiates (Debian 13's parses the keywords, src/platform/
  // releases.ts); VPN-02 counts the fallback's days. Only `required` makes ML-KEM a need.
  const optionalMlkem = spec.postQuantum === "preferred";
  const out = proposalNeeds(proposals.filter((p) => p.toLowerCase() !== "default")).filter(
    (need) => !(optionalMlkem && need.anyOf.every((p) => p === "ml")),
  );
  const keys = new Map<string, string[]>([
    [spec.certificate.key, pluginsForKey(spec.certificate.key)],
  ]);
  // The certificates in place: the device's own and the CA that vouches for the gateway.
  for (const cert of [...vpnClientCertificates(facts), ...facts.vpn.caCertificates])
    if (cert.keyType === "ec" || cert.keyType === "rsa") {
      const what = cert.keyType === "ec" ? `ECDSA ${cert.curve ?? ""}`.trim() : "RSA";
      keys.set(`${what} (${cert.path})`, pluginsForKey(cert.keyType));
    }
  for (const [what, anyOf] of keys) out.push({ what, anyOf });
  return out;
}

/** Judge the installed plugins against the needs: one finding per package to install. */
function pluginFindings(profile: Profile, facts: Facts): Finding[] {
  const installed = facts.vpn.strongswanPlugins;
  if (installed === null || installed === undefined) return [];
  const byName = new Map(installed.plugins.map((p) => [p.name, p]));
  const packages = installed.packages.map((p) => `${p.name} ${p.version}`).join(", ");
  const missing = new Map<string, PluginNeed[]>();
  const disabled = new Map<string, { needs: string[]; source: string }>();
  for (const need of needs(profile, facts)) {
    if (need.anyOf.some((p) => byName.get(p)?.loaded === true)) continue;
    const off = need.anyOf.map((p) => byName.get(p)).find((p) => p !== undefined);
    if (off !== undefined) {
      const entry = disabled.get(off.name) ?? { needs: [], source: off.source };
      entry.needs.push(need.what);
      disabled.set(off.name, entry);
      continue;
    }
    const pkg = packageFor(need);
    missing.set(pkg, [...(missing.get(pkg) ?? []), need]);
  }
  const out: Finding[] = [];
  for (const [pkg, list] of missing) {
    const plugins = [...new Set(list.flatMap((n) => n.anyOf))].join(" or ");
    const what = list.map((n) => n.what).join(", ");
    out.push(
      fail("pluginMissing", { needs: what, plugins, package: pkg }, [
        ev(
          "strongSwan plugins",
          `${plugins} for ${what}`,
          `not installed (${packages})`,
          "dpkg status, /usr/lib/ipsec/plugins",
        ),
      ]),
    );
  }
  for (const [plugin, entry] of disabled)
    out.push(
      fail("pluginDisabled", { plugin, needs: entry.needs.join(", "), source: entry.source }, [
        ev(`strongSwan plugin ${plugin}`, "loaded", "load = no", entry.source),
      ]),
    );
  return out;
}
