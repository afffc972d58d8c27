import type { Control, Finding } from "./types.js";
import { ev, fail, pass, skip, vpnClientCertificates } from "./util.js";

/** TR-02102-1 (2026-01): classical signatures alone are recommended until the end of 2035. */
export const classicalSignatureHorizon = new Date("2035-12-31T23:59:59Z");
const dayMs = 86_400_000;

export const vpn04: Control = {
  meta: {
    id: "VPN-04",
    kind: "auto",
    title: {
      de: "VPN-Zertifikat gültig, von der kommunalen CA, rechtzeitig erneuert",
      en: "VPN certificate valid, from the municipality CA, renewed in time",
    },
    description: {
      de: "Das Client-Zertifikat ist zum Prüfzeitpunkt gültig, lässt sich bis zur kommunalen VPN-CA verketten, läuft nicht innerhalb der Erneuerungsfrist des Profils ab und ist nicht über den 31.12.2035 hinaus gültig (Grenze klassischer Signaturen nach TR-02102-1).",
      en: "The client certificate is valid at the time of the run, chains to the municipality's VPN CA, does not expire within the profile's renewal window and is not valid beyond 2035-12-31 (TR-02102-1 horizon for classical signatures).",
    },
    severity: "high",
    references: ["BSI NET.3.3.A5", "BSI TR-02102-1", "DSGVO Art. 32 Abs. 1 lit. b"],
    sdmGoals: ["vertraulichkeit", "integritaet", "verfuegbarkeit"],
    art32: ["b"],
    facts: ["vpn"],
    messages: {
      ok: {
        de: "Erwartet ein gültiges Zertifikat der kommunalen CA, gefunden {{subject}}, gültig bis {{notAfter}}.",
        en: "Expected a valid certificate from the municipality CA, found {{subject}}, valid until {{notAfter}}.",
      },
      noCertificate: {
        de: "Erwartet ein Client-Zertifikat in /etc/swanctl/x509, gefunden keines.",
        en: "Expected a client certificate in /etc/swanctl/x509, found none.",
      },
      notYetValid: {
        de: "Erwartet ein gültiges Zertifikat, gefunden {{subject}} erst gültig ab {{notBefore}}.",
        en: "Expected a valid certificate, found {{subject}} not valid before {{notBefore}}.",
      },
      expired: {
        de: "Erwartet ein gültiges Zertifikat, gefunden {{subject}} abgelaufen am {{notAfter}}.",
        en: "Expected a valid certificate, found {{subject}} expired on {{notAfter}}.",
      },
      renew: {
        de: "Erwartet mehr als {{days|Tag|Tage}} Restlaufzeit, gefunden {{left|Tag|Tage}} für {{subject}} (bis {{notAfter}}).",
        en: "Expected more than {{days|day|days}} left, found {{left|day|days}} for {{subject}} (until {{notAfter}}).",
      },
      horizon: {
        de: "Erwartet ein Ablaufdatum spätestens am 31.12.2035, gefunden {{notAfter}} für {{subject}}.",
        en: "Expected expiry no later than 2035-12-31, found {{notAfter}} for {{subject}}.",
      },
      chain: {
        de: "Erwartet eine Kette bis zur kommunalen CA {{ca}}, gefunden: {{reason}} ({{subject}}, Aussteller {{issuer}}).",
        en: "Expected a chain to the municipality CA {{ca}}, found: {{reason}} ({{subject}}, issuer {{issuer}}).",
      },
      chainUnchecked: {
        de: "Die Kette von {{subject}} ist nicht prüfbar: {{reason}}.",
        en: "The chain of {{subject}} cannot be judged: {{reason}}.",
      },
    },
    fix: {
      de: "Zertifikat erneuern (koffer cert renew).",
      en: "Renew the certificate (koffer cert renew).",
    },
  },
  evaluate(profile, facts, context) {
    const findings: Finding[] = [];
    const now = context.now;
    const renewDays = profile.spec.vpn.certificate.renewBeforeDays;
    const certs = vpnClientCertificates(facts);
    if (certs.length === 0)
      return [
        fail("noCertificate", {}, [
          ev("/etc/swanctl/x509", "a client certificate", "none", "/etc/swanctl/x509"),
        ]),
      ];
    for (const cert of certs) {
      const before = findings.length;
      const notBefore = new Date(cert.notBefore);
      const notAfter = new Date(cert.notAfter);
      const data = { subject: cert.subject, notBefore: cert.notBefore, notAfter: cert.notAfter };
      if (now < notBefore)
        findings.push(
          fail("notYetValid", data, [
            ev(
              cert.path,
              `valid at ${now.toISOString()}`,
              `notBefore ${cert.notBefore}`,
              cert.path,
            ),
          ]),
        );
      else if (now > notAfter)
        findings.push(
          fail("expired", data, [
            ev(cert.path, `valid at ${now.toISOString()}`, `notAfter ${cert.notAfter}`, cert.path),
          ]),
        );
      else {
        const left = Math.floor((notAfter.getTime() - now.getTime()) / dayMs);
        if (left <= renewDays)
          findings.push(
            fail("renew", { ...data, days: renewDays, left }, [
              ev(cert.path, `> ${renewDays} days left`, `${left} days left`, cert.path),
            ]),
          );
      }
      if (notAfter > classicalSignatureHorizon)
        findings.push(
          fail("horizon", data, [ev(cert.path, "notAfter ≤ 2035-12-31", cert.notAfter, cert.path)]),
        );
      if (context.vpnCa === undefined || context.vpnCa === null)
        findings.push(
          skip("chainUnchecked", {
            subject: cert.subject,
            reason: "the profile names no VPN CA certificate (spec.vpn.caCertificate)",
          }),
        );
      else if (context.verifyPath === undefined)
        findings.push(
          skip("chainUnchecked", {
            subject: cert.subject,
            reason: "no certificate path verifier available",
          }),
        );
      else {
        const intermediates = facts.vpn.caCertificates.map((c) => c.pem);
        const verdict = context.verifyPath({
          leaf: cert.pem,
          intermediates,
          trustAnchors: [context.vpnCa.pem],
          at: now,
          purpose: "client",
        });
        if (!verdict.valid)
          findings.push(
            fail(
              "chain",
              {
                ca: context.vpnCa.subject,
                reason: verdict.reason ?? verdict.code ?? "invalid",
                subject: cert.subject,
                issuer: cert.issuer,
              },
              [
                ev(
                  cert.path,
                  `chain to ${context.vpnCa.subject}`,
                  verdict.reason ?? verdict.code ?? "invalid",
                  cert.path,
                ),
              ],
            ),
          );
      }
      if (!findings.slice(before).some((f) => f.status !== "pass"))
        findings.push(
          pass("ok", data, [
            ev(
              cert.path,
              "valid, chains to the municipality CA",
              `valid until ${cert.notAfter}`,
              cert.path,
            ),
          ]),
        );
    }
    return findings;
  },
};
