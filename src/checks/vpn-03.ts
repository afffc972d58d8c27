import type { CertificateInfo } from "../facts/types.js";
import type { Control, Finding } from "./types.js";
import { ev, fail, pass, vpnClientCertificates } from "./util.js";

const curves = new Set([
  "P-256",
  "P-384",
  "P-521",
  "brainpoolP256r1",
  "brainpoolP320r1",
  "brainpoolP384r1",
  "brainpoolP512r1",
  "prime256v1",
  "secp256r1",
  "secp384r1",
  "secp521r1",
]);
/**
 * Local authentication methods that prove a certificate's key: swanctl's `pubkey`, `rsa`,
 * `ecdsa` (with optional hash or padding suffixes) and EAP-TLS. Everything else — psk, xauth,
 * and EAP methods that carry passwords (eap-ttls, eap-peap, eap-mschapv2 …) — is not.
 */
const certificateAuth = /^(pubkey|rsa|ecdsa|eap-tls)([-/:]|$)/i;

function keyProblem(cert: CertificateInfo): string | null {
  if (cert.keyType === "ec")
    return cert.curve !== undefined && curves.has(cert.curve)
      ? null
      : `EC curve ${cert.curve ?? "unknown"}`;
  if (cert.keyType === "rsa") return cert.keyBits >= 3000 ? null : `RSA-${cert.keyBits}`;
  return `${cert.keyType}${cert.keyBits > 0 ? `-${cert.keyBits}` : ""}`;
}

function describeKey(cert: CertificateInfo): string {
  return cert.keyType === "ec"
    ? `ECDSA ${cert.curve ?? "?"}`
    : `${cert.keyType.toUpperCase()}-${cert.keyBits}`;
}

export const vpn03: Control = {
  meta: {
    id: "VPN-03",
    kind: "auto",
    title: {
      de: "Client-Authentisierung mit X.509-Zertifikat nach TR-02102-1; Schlüsseldatei nur für root",
      en: "Client authenticates with a TR-02102-1 X.509 certificate; key file root-only",
    },
    description: {
      de: "Der Laptop authentisiert sich mit einem X.509-Zertifikat: ECDSA auf P-256/384/521 oder Brainpool, oder RSA ab 3000 Bit; Signatur mit SHA-2; kein Pre-Shared Key, kein Passwort-EAP. Der private Schlüssel ist nur für root lesbar.",
      en: "The laptop authenticates with an X.509 certificate: ECDSA on P-256/384/521 or Brainpool, or RSA ≥ 3000 bits; SHA-2 signature; no pre-shared key, no password-only EAP. The private key is readable by root only.",
    },
    severity: "critical",
    references: [
      "BSI TR-02102-1",
      "BSI NET.3.3.A12",
      "BSI CON.1.A4",
      "DSGVO Art. 32 Abs. 1 lit. a",
    ],
    sdmGoals: ["vertraulichkeit", "integritaet"],
    art32: ["a", "b"],
    facts: ["vpn"],
    messages: {
      ok: {
        de: "Erwartet ein Zertifikat nach TR-02102-1 mit geschütztem Schlüssel, gefunden {{subject}} ({{key}}, {{signature}}).",
        en: "Expected a TR-02102-1 certificate with a protected key, found {{subject}} ({{key}}, {{signature}}).",
      },
      noCertificate: {
        de: "Erwartet ein Client-Zertifikat in /etc/swanctl/x509, gefunden keines.",
        en: "Expected a client certificate in /etc/swanctl/x509, found none.",
      },
      auth: {
        de: "Erwartet local.auth = pubkey in {{connection}}, gefunden {{auth}}.",
        en: "Expected local.auth = pubkey in {{connection}}, found {{auth}}.",
      },
      key: {
        de: "Erwartet ECDSA P-256/384/521, Brainpool oder RSA ≥ 3000 Bit, gefunden {{key}} in {{subject}}.",
        en: "Expected ECDSA P-256/384/521, Brainpool or RSA ≥ 3000 bits, found {{key}} in {{subject}}.",
      },
      signature: {
        de: "Erwartet eine Signatur mit SHA-256/384/512, gefunden {{signature}} in {{subject}}.",
        en: "Expected a SHA-256/384/512 signature, found {{signature}} in {{subject}}.",
      },
      keyFileMode: {
        de: "Erwartet die Schlüsseldatei {{path}} nur für root lesbar (0600, Eigentümer root), gefunden Modus {{mode}}, Eigentümer {{uid}}.",
        en: "Expected key file {{path}} readable by root only (0600, owner root), found mode {{mode}}, owner {{uid}}.",
      },
      noKey: {
        de: "Erwartet einen privaten Schlüssel in /etc/swanctl/private, ecdsa, rsa oder pkcs8, gefunden keinen.",
        en: "Expected a private key in /etc/swanctl/private, ecdsa, rsa or pkcs8, found none.",
      },
    },
    fix: {
      de: "Schlüssel und Zertifikatsantrag erzeugen, mit der kommunalen CA signieren und mit Modus 0600 installieren.",
      en: "Create a key and CSR, sign it with the municipality CA and install it with mode 0600.",
    },
  },
  evaluate(_profile, facts) {
    const findings: Finding[] = [];
    for (const c of facts.vpn.swanctl.connections)
      for (const local of c.local)
        if (local.auth !== null && !certificateAuth.test(local.auth.trim()))
          findings.push(
            fail("auth", { connection: c.name, auth: local.auth }, [
              ev(`connection ${c.name} local`, "auth = pubkey", `auth = ${local.auth}`, c.source),
            ]),
          );
    const certs = vpnClientCertificates(facts);
    if (certs.length === 0)
      findings.push(
        fail("noCertificate", {}, [
          ev("/etc/swanctl/x509", "a client certificate", "none", "/etc/swanctl/x509"),
        ]),
      );
    for (const cert of certs) {
      const problem = keyProblem(cert);
      if (problem !== null)
        findings.push(
          fail("key", { key: problem, subject: cert.subject }, [
            ev(cert.path, "ECDSA P-256/384/521, Brainpool or RSA ≥ 3000", problem, cert.path),
          ]),
        );
      if (!/sha(2[-_]?)?(256|384|512)|sha3-?(256|384|512)/i.test(cert.signatureAlgorithm))
        findings.push(
          fail("signature", { signature: cert.signatureAlgorithm, subject: cert.subject }, [
            ev(cert.path, "SHA-256/384/512 signature", cert.signatureAlgorithm, cert.path),
          ]),
        );
    }
    if (facts.vpn.privateKeys.length === 0)
      findings.push(
        fail("noKey", {}, [ev("/etc/swanctl/private", "a private key", "none", "/etc/swanctl")]),
      );
    for (const key of facts.vpn.privateKeys)
      if ((key.file.mode & 0o077) !== 0 || key.file.uid !== 0) {
        const mode = `0${(key.file.mode & 0o777).toString(8)}`;
        findings.push(
          fail("keyFileMode", { path: key.path, mode, uid: key.file.uid }, [
            ev(key.path, "mode 0600, owner root", `mode ${mode}, uid ${key.file.uid}`, key.path),
          ]),
        );
      }
    if (findings.length === 0) {
      const cert = certs[0] as CertificateInfo;
      findings.push(
        pass(
          "ok",
          { subject: cert.subject, key: describeKey(cert), signature: cert.signatureAlgorithm },
          [
            ev(
              cert.path,
              "TR-02102-1 key and SHA-2 signature",
              `${describeKey(cert)}, ${cert.signatureAlgorithm}`,
              cert.path,
            ),
          ],
        ),
      );
    }
    return findings;
  },
};
