/**
 * Certificate description for facts and checks (VPN-03/VPN-04, DISK-05): public data only.
 */
import { X509Certificate, createHash } from "node:crypto";
import type { CertificateInfo, FileMeta } from "../facts/types.js";
import { pemToDer } from "./der.js";
import {
  EKU_NAMES,
  OID,
  describeKey,
  formatName,
  getExtension,
  parseBasicConstraints,
  parseCertificate,
  parseExtKeyUsage,
  signatureAlgorithmName,
  type Certificate,
} from "./x509.js";

/** The public summary of one certificate in a chain. */
export interface CertificateInfoLite {
  subject: string;
  issuer: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  keyType: CertificateInfo["keyType"];
  keyBits: number;
  curve?: string;
  signatureAlgorithm: string;
  sha256Fingerprint: string;
  isCa: boolean;
  extendedKeyUsage: string[];
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

/**
 * Split a PEM bundle into its blocks (each ending in a newline), in file order.
 * `label` restricts the result, e.g. "CERTIFICATE" or "X509 CRL".
 */
export function splitPemBundle(text: string, label = "CERTIFICATE"): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(PEM_BLOCK)) if (m[1] === label) out.push(m[0] + "\n");
  return out;
}

function hexSerial(bytes: Uint8Array): string {
  // Drop the sign-padding zero octet so the serial reads as openssl prints it.
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  return Buffer.from(bytes.subarray(i)).toString("hex").toUpperCase();
}

/** Summary of a parsed certificate. */
export function summarise(c: Certificate): CertificateInfoLite {
  const key = describeKey(c.spki, c.spkiAlgorithm);
  let isCa = false;
  let eku: string[] = [];
  try {
    const bc = getExtension(c, OID.basicConstraints);
    isCa = bc ? parseBasicConstraints(bc.value).ca : false;
  } catch {
    isCa = false;
  }
  try {
    const e = getExtension(c, OID.extKeyUsage);
    eku = e ? parseExtKeyUsage(e.value).map((o) => EKU_NAMES[o] ?? o) : [];
  } catch {
    eku = [];
  }
  return {
    subject: formatName(c.subject),
    issuer: formatName(c.issuer),
    serial: hexSerial(c.serial),
    notBefore: c.notBefore.toISOString(),
    notAfter: c.notAfter.toISOString(),
    keyType: key.keyType,
    keyBits: key.keyBits,
    ...(key.curve ? { curve: key.curve } : {}),
    signatureAlgorithm: signatureAlgorithmName(c.signatureAlgorithm),
    sha256Fingerprint: c.fingerprint,
    isCa,
    extendedKeyUsage: eku,
  };
}

/**
 * Describe the first certificate in `pem`. Never throws: a certificate the strict parser
 * rejects is described as far as OpenSSL can read it, and anything unreadable comes back with
 * keyType "unknown" and empty fields, so a check can report it instead of crashing.
 */
export function describeCertificate(pem: string, path: string, file: FileMeta): CertificateInfo {
  try {
    const c = parseCertificate(pemToDer(pem, "CERTIFICATE"));
    return { path, pem, file, ...summarise(c) };
  } catch {
    // fall through to the lenient reader
  }
  try {
    const x = new X509Certificate(pem);
    const key = x.publicKey;
    const d = key.asymmetricKeyDetails;
    const type = key.asymmetricKeyType;
    const keyType: CertificateInfo["keyType"] =
      type === "rsa" || type === "rsa-pss"
        ? "rsa"
        : type === "ec" || type === "ed25519" || type === "ed448" || type === "dsa"
          ? type
          : "unknown";
    return {
      path,
      pem,
      file,
      subject: x.subject.split("\n").join(", "),
      issuer: x.issuer.split("\n").join(", "),
      serial: x.serialNumber.toUpperCase(),
      notBefore: new Date(x.validFrom).toISOString(),
      notAfter: new Date(x.validTo).toISOString(),
      keyType,
      keyBits: d?.modulusLength ?? 0,
      ...(d?.namedCurve ? { curve: d.namedCurve } : {}),
      signatureAlgorithm: "unknown",
      sha256Fingerprint: createHash("sha256").update(x.raw).digest("hex"),
      isCa: x.ca,
      extendedKeyUsage: [],
    };
  } catch {
    return {
      path,
      pem,
      file,
      subject: "",
      issuer: "",
      serial: "",
      notBefore: "",
      notAfter: "",
      keyType: "unknown",
      keyBits: 0,
      signatureAlgorithm: "unknown",
      sha256Fingerprint: "",
      isCa: false,
      extendedKeyUsage: [],
    };
  }
}
