import type { Control, Finding } from "./types.js";
import { ev, fail, list, normalizeFingerprint, pass, sameDn, skip } from "./util.js";

export const vpn05: Control = {
  meta: {
    id: "VPN-05",
    kind: "auto",
    title: {
      de: "Nur die kommunale CA ist für den Tunnel vertrauenswürdig; Gateway-Identität festgelegt",
      en: "Only the municipality CA is trusted for the tunnel; gateway identity pinned",
    },
    description: {
      de: "Die VPN-Verbindung vertraut ausschließlich der kommunalen VPN-CA (nicht dem Zertifikatsspeicher des Betriebssystems) und legt die Identität des Gateways fest (remote.id), sodass ein fremdes Gateway mit einem anderen Zertifikat abgewiesen wird.",
      en: "The VPN connection trusts only the municipality's VPN CA (not the operating system's trust store) and pins the gateway identity (remote.id), so a foreign gateway with another certificate is rejected.",
    },
    severity: "high",
    references: [
      "BSI SYS.2.1.A35",
      "BSI NET.3.3.A4",
      "BSI SYS.2.1.A18",
      "DSGVO Art. 32 Abs. 1 lit. b",
    ],
    sdmGoals: ["vertraulichkeit", "integritaet"],
    art32: ["b"],
    facts: ["vpn"],
    messages: {
      ok: {
        de: "Erwartet festgelegte Gateway-Identität und nur die kommunale CA, gefunden {{remoteId}} und {{cas}}.",
        en: "Expected a pinned gateway identity and only the municipality CA, found {{remoteId}} and {{cas}}.",
      },
      noConnection: {
        de: "Erwartet eine IKEv2-Verbindung in swanctl.conf, gefunden keine.",
        en: "Expected an IKEv2 connection in swanctl.conf, found none.",
      },
      remoteId: {
        de: "Erwartet remote.id = {{expected}} in {{connection}}, gefunden {{actual}}.",
        en: "Expected remote.id = {{expected}} in {{connection}}, found {{actual}}.",
      },
      cacerts: {
        de: "Erwartet remote.cacerts mit der kommunalen CA in {{connection}}, gefunden keine Festlegung.",
        en: "Expected remote.cacerts naming the municipality CA in {{connection}}, found none.",
      },
      foreignCa: {
        de: "Erwartet nur die kommunale CA ({{expected}}) in /etc/swanctl/x509ca, gefunden {{subject}} ({{path}}).",
        en: "Expected only the municipality CA ({{expected}}) in /etc/swanctl/x509ca, found {{subject}} ({{path}}).",
      },
      noCa: {
        de: "Erwartet die kommunale CA in /etc/swanctl/x509ca, gefunden keine.",
        en: "Expected the municipality CA in /etc/swanctl/x509ca, found none.",
      },
      caUnchecked: {
        de: "Die Menge der vertrauenswürdigen CAs ist nicht prüfbar: das Profil nennt kein CA-Zertifikat (spec.vpn.caCertificate).",
        en: "The set of trusted CAs cannot be judged: the profile names no CA certificate (spec.vpn.caCertificate).",
      },
    },
    fix: {
      de: "remote.id und remote.cacerts in swanctl.conf schreiben; fremde CAs aus /etc/swanctl/x509ca entfernen.",
      en: "Write remote.id and remote.cacerts to swanctl.conf; remove foreign CAs from /etc/swanctl/x509ca.",
    },
  },
  evaluate(profile, facts, context) {
    const findings: Finding[] = [];
    const connections = facts.vpn.swanctl.connections;
    if (connections.length === 0)
      return [
        fail("noConnection", {}, [
          ev("swanctl.conf", "an IKEv2 connection", "none", "/etc/swanctl"),
        ]),
      ];
    const wantId = profile.spec.vpn.gatewayId;
    const ids: string[] = [];
    for (const c of connections) {
      const remotes = c.remote.length > 0 ? c.remote : [{ auth: null, id: null, cacerts: [] }];
      for (const remote of remotes) {
        const id = remote.id;
        if (id !== null) ids.push(id);
        const ok = id !== null && id !== "%any" && (wantId === undefined || sameDn(id, wantId));
        if (!ok)
          findings.push(
            fail(
              "remoteId",
              {
                expected: wantId ?? "a fixed gateway identity",
                connection: c.name,
                actual: id ?? "(not set)",
              },
              [
                ev(
                  `connection ${c.name} remote`,
                  `id = ${wantId ?? "<gateway identity>"}`,
                  id ?? "(not set)",
                  c.source,
                ),
              ],
            ),
          );
        if (remote.cacerts.length === 0)
          findings.push(
            fail("cacerts", { connection: c.name }, [
              ev(
                `connection ${c.name} remote`,
                "cacerts = <municipality CA>",
                "(not set)",
                c.source,
              ),
            ]),
          );
      }
    }
    const cas = facts.vpn.caCertificates;
    const ca = context.vpnCa;
    if (cas.length === 0)
      findings.push(
        fail("noCa", {}, [
          ev("/etc/swanctl/x509ca", "the municipality CA", "none", "/etc/swanctl/x509ca"),
        ]),
      );
    else if (ca === undefined || ca === null) findings.push(skip("caUnchecked"));
    else
      for (const found of cas)
        if (normalizeFingerprint(found.sha256Fingerprint) !== normalizeFingerprint(ca.sha256))
          findings.push(
            fail("foreignCa", { expected: ca.subject, subject: found.subject, path: found.path }, [
              ev(
                found.path,
                `SHA-256 ${normalizeFingerprint(ca.sha256)}`,
                `${found.subject}, SHA-256 ${normalizeFingerprint(found.sha256Fingerprint)}`,
                found.path,
              ),
            ]),
          );
    if (findings.length === 0)
      findings.push(pass("ok", { remoteId: list(ids), cas: list(cas.map((c) => c.subject)) }));
    return findings;
  },
};
