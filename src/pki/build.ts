/**
 * Keys, PKCS#10 requests and certificates, built with our DER writer and signed by node:crypto.
 *
 * Why not node-forge here: forge's X.509 and PKCS#10 builders only know RSA keys, and the
 * profile's default is ECDSA P-384; forge's pure-JS RSA key generation is also far slower
 * than OpenSSL's (bench/cert.mjs measures it). The encodings are small and fixed, so we write
 * them directly and check them against `openssl req -verify` / `openssl verify` in the tests.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  randomBytes,
  sign as cryptoSign,
  createHash,
  type KeyObject,
} from "node:crypto";
import { promisify } from "node:util";
import type { VpnKeyType } from "../profiles/types.js";
import {
  DerError,
  der,
  derToPem,
  pemToDer,
  parseDer,
  Tag,
  decodeOid,
  expect,
  isContext,
  type DerNode,
} from "./der.js";
import {
  OID,
  describeKey,
  formatName,
  getExtension,
  parseCertificate,
  parseExtKeyUsage,
  parseKeyIdentifier,
  parseName,
  signatureAlgorithmName,
  signatureHash,
  verifySignature,
  type AlgorithmIdentifier,
  type Certificate,
  type Extension,
  type KeyInfo,
} from "./x509.js";

const generateKeyPairAsync = promisify(generateKeyPair);

/** TR-02102-1: classical signatures are not approved beyond this instant. */
export const TR02102_SIGNATURE_HORIZON = new Date("2035-12-31T23:59:59Z");

/** Generate a key pair of a profile key type with node:crypto (OpenSSL). */
export async function generateKey(
  type: VpnKeyType,
): Promise<{ privateKey: KeyObject; publicKey: KeyObject }> {
  switch (type) {
    case "ecdsa-p256":
      return generateKeyPairAsync("ec", { namedCurve: "prime256v1" });
    case "ecdsa-p384":
      return generateKeyPairAsync("ec", { namedCurve: "secp384r1" });
    case "rsa-3072":
      return generateKeyPairAsync("rsa", { modulusLength: 3072 });
    case "rsa-4096":
      return generateKeyPairAsync("rsa", { modulusLength: 4096 });
  }
}

const ATTR_OIDS: Record<string, { oid: string; printable?: boolean }> = {
  CN: { oid: "2.5.4.3" },
  SN: { oid: "2.5.4.4" },
  SERIALNUMBER: { oid: "2.5.4.5", printable: true },
  C: { oid: "2.5.4.6", printable: true },
  L: { oid: "2.5.4.7" },
  ST: { oid: "2.5.4.8" },
  STREET: { oid: "2.5.4.9" },
  O: { oid: "2.5.4.10" },
  OU: { oid: "2.5.4.11" },
  TITLE: { oid: "2.5.4.12" },
  DC: { oid: "0.9.2342.19200300.100.1.25" },
  UID: { oid: "0.9.2342.19200300.100.1.1" },
};

/** Split on unescaped `sep`. */
function splitUnescaped(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = "";
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === "\\" && i + 1 < s.length) {
      cur += ch + s[i + 1];
      i++;
    } else if (ch === sep) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/**
 * Encode "CN=…, OU=…, O=…, C=DE" as a Name, attributes in the written order
 * (the order `formatName` prints). Throws DerError on an unknown attribute.
 */
export function encodeName(dn: string): Uint8Array {
  const rdns = splitUnescaped(dn, ",")
    .map((r) => r.trim())
    .filter((r) => r !== "")
    .map((rdn) =>
      der.set(
        ...splitUnescaped(rdn, "+").map((atv) => {
          const eq = atv.indexOf("=");
          if (eq <= 0) throw new DerError(`not TYPE=value: ${atv.trim()}`);
          const type = atv.slice(0, eq).trim().toUpperCase();
          const value = atv
            .slice(eq + 1)
            .trim()
            .replace(/\\(.)/g, "$1");
          const a = ATTR_OIDS[type];
          if (!a) throw new DerError(`unknown attribute type ${type}`);
          if (value === "") throw new DerError(`empty value for ${type}`);
          return der.seq(der.oid(a.oid), a.printable ? der.printable(value) : der.utf8(value));
        }),
      ),
    );
  return der.seq(...rdns);
}

/** The signature algorithm this key signs with: SHA-384 for P-384, SHA-512 for P-521, … */
export function signatureAlgorithmFor(key: KeyObject): { der: Uint8Array; hash: string } {
  const t = key.asymmetricKeyType;
  const d = key.asymmetricKeyDetails ?? {};
  if (t === "ec") {
    const hash =
      d.namedCurve === "secp521r1" ? "sha512" : d.namedCurve === "secp384r1" ? "sha384" : "sha256";
    const oid = {
      sha256: "1.2.840.10045.4.3.2",
      sha384: "1.2.840.10045.4.3.3",
      sha512: "1.2.840.10045.4.3.4",
    }[hash]!;
    return { der: der.seq(der.oid(oid)), hash };
  }
  if (t === "rsa") {
    const bits = d.modulusLength ?? 0;
    const hash = bits >= 4096 ? "sha512" : bits > 3072 ? "sha384" : "sha256";
    const oid = {
      sha256: "1.2.840.113549.1.1.11",
      sha384: "1.2.840.113549.1.1.12",
      sha512: "1.2.840.113549.1.1.13",
    }[hash]!;
    return { der: der.seq(der.oid(oid), der.null()), hash };
  }
  throw new DerError(`cannot sign with a ${t ?? "unknown"} key`);
}

function signWith(key: KeyObject, tbs: Uint8Array): { alg: Uint8Array; signature: Uint8Array } {
  const { der: alg, hash } = signatureAlgorithmFor(key);
  const signature = cryptoSign(
    hash,
    tbs,
    key.asymmetricKeyType === "ec" ? { key, dsaEncoding: "der" } : key,
  );
  return { alg, signature: new Uint8Array(signature) };
}

function spkiOf(key: KeyObject): Uint8Array {
  const pub = key.type === "private" ? createPublicKey(key) : key;
  return new Uint8Array(pub.export({ type: "spki", format: "der" }));
}

function ext(oid: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical
    ? der.seq(der.oid(oid), der.bool(true), der.octets(value))
    : der.seq(der.oid(oid), der.octets(value));
}

// ─── PKCS#10 ─────────────────────────────────────────────────────────────────

const EXTENSION_REQUEST = "1.2.840.113549.1.9.14";

/** A PKCS#10 request for `subject`, asking for the clientAuth EKU. */
export function createCsr(privateKey: KeyObject, subject: string): string {
  const exts = der.seq(ext(OID.extKeyUsage, false, der.seq(der.oid(OID.clientAuth))));
  const info = der.seq(
    der.int(0),
    encodeName(subject),
    spkiOf(privateKey),
    der.ctx(0, der.seq(der.oid(EXTENSION_REQUEST), der.set(exts))),
  );
  const { alg, signature } = signWith(privateKey, info);
  return derToPem(der.seq(info, alg, der.bits(signature)), "CERTIFICATE REQUEST");
}

export interface ParsedCsr {
  subject: string;
  subjectDer: Uint8Array;
  spki: Uint8Array;
  key: KeyInfo;
  signatureAlgorithm: string;
  signatureValid: boolean;
  signatureHash: string | null;
  requestedExtensions: Extension[];
}

export function parseCsr(pem: string): ParsedCsr {
  const root = expect(
    parseDer(pemToDer(pem, "CERTIFICATE REQUEST")),
    Tag.SEQUENCE,
    "CertificationRequest",
  );
  const info = expect(root.children[0], Tag.SEQUENCE, "CertificationRequestInfo");
  const algNode = expect(root.children[1], Tag.SEQUENCE, "signatureAlgorithm");
  const alg: AlgorithmIdentifier = {
    oid: decodeOid(expect(algNode.children[0], Tag.OID, "algorithm")),
    raw: algNode.raw,
    params: algNode.children[1],
  };
  const sigNode = expect(root.children[2], Tag.BIT_STRING, "signature");
  const signature = sigNode.value.subarray(1);
  const subjectNode = info.children[1];
  const name = parseName(subjectNode);
  const spkiNode = expect(info.children[2], Tag.SEQUENCE, "SubjectPublicKeyInfo");
  const spkiAlgNode = expect(spkiNode.children[0], Tag.SEQUENCE, "algorithm");
  const spkiAlg: AlgorithmIdentifier = {
    oid: decodeOid(expect(spkiAlgNode.children[0], Tag.OID, "algorithm")),
    raw: spkiAlgNode.raw,
    params: spkiAlgNode.children[1],
  };
  const requestedExtensions: Extension[] = [];
  const attrs: DerNode | undefined = info.children[3];
  if (attrs && isContext(attrs, 0)) {
    for (const a of attrs.children) {
      if (decodeOid(a.children[0]!) !== EXTENSION_REQUEST) continue;
      for (const e of a.children[1]!.children[0]!.children) {
        const crit = e.children.length === 3;
        requestedExtensions.push({
          oid: decodeOid(e.children[0]!),
          critical: crit,
          value: e.children[crit ? 2 : 1]!.value,
        });
      }
    }
  }
  let hash: string | null = null;
  try {
    hash = signatureHash(alg);
  } catch {
    hash = null;
  }
  return {
    subject: formatName(name),
    subjectDer: name.raw,
    spki: spkiNode.raw,
    key: describeKey(spkiNode.raw, spkiAlg),
    signatureAlgorithm: signatureAlgorithmName(alg),
    signatureValid: verifySignature(info.raw, signature, alg, spkiNode.raw, spkiAlg),
    signatureHash: hash,
    requestedExtensions,
  };
}

/** TR-02102-1 problems with a key (empty when acceptable). */
export function keyProblems(key: KeyInfo): string[] {
  if (key.keyType === "rsa")
    return key.keyBits >= 3000 ? [] : [`RSA key of ${key.keyBits} bits (TR-02102: ≥ 3000)`];
  if (key.keyType === "ec") {
    const ok = ["P-256", "P-384", "P-521", "brainpoolP256r1", "brainpoolP384r1", "brainpoolP512r1"];
    return ok.includes(key.curve ?? "")
      ? []
      : [`elliptic curve ${key.curve ?? "unknown"} is not approved by TR-02102`];
  }
  return [`${key.keyType} keys are not approved by TR-02102-1 for VPN certificates`];
}

/** Everything that makes a CSR unacceptable under TR-02102 (empty = acceptable). */
export function csrProblems(csr: ParsedCsr): string[] {
  const out = keyProblems(csr.key);
  if (!csr.signatureValid) out.push("the request's signature does not verify");
  if (!csr.signatureHash || !["sha256", "sha384", "sha512"].includes(csr.signatureHash)) {
    out.push(`request signed with ${csr.signatureAlgorithm} (TR-02102: SHA-2 family only)`);
  }
  if (csr.subject === "") out.push("empty subject");
  return out;
}

// ─── certificates ────────────────────────────────────────────────────────────

function keyId(spki: Uint8Array): Uint8Array {
  // RFC 7093 §2 method 1: leftmost 160 bits of SHA-256 over the subjectPublicKey bits.
  const node = parseDer(spki);
  const bits = node.children[1]!.value.subarray(1);
  return new Uint8Array(createHash("sha256").update(bits).digest().subarray(0, 20));
}

/** 128 random bits from the CSPRNG, top bit cleared so the INTEGER is positive, never zero. */
export function randomSerial(): Uint8Array {
  const s = new Uint8Array(randomBytes(16));
  s[0] = (s[0]! & 0x7f) | 0x01;
  return s;
}

export interface IssueOptions {
  /** DER Name of the subject (from the CSR) or a DN string. */
  subject: Uint8Array | string;
  spki: Uint8Array;
  issuerCert: Certificate | null;
  issuerKey: KeyObject;
  notBefore: Date;
  notAfter: Date;
  /** `document`: a signer of reports (digitalSignature + nonRepudiation, EKU documentSigning). */
  kind: "client" | "ca" | "document";
  pathLen?: number;
}

/** Issue (sign) a certificate. `issuerCert` null = self-signed. */
export function issueCertificate(o: IssueOptions): string {
  const subject = typeof o.subject === "string" ? encodeName(o.subject) : o.subject;
  const issuerName = o.issuerCert ? o.issuerCert.subject.raw : subject;
  const issuerSpki = o.issuerCert ? o.issuerCert.spki : o.spki;
  const exts: Uint8Array[] = [];
  if (o.kind === "ca") {
    exts.push(
      ext(
        OID.basicConstraints,
        true,
        der.seq(der.bool(true), ...(o.pathLen !== undefined ? [der.int(o.pathLen)] : [])),
      ),
    );
    exts.push(ext(OID.keyUsage, true, der.bits(Uint8Array.of(0x06), 1))); // keyCertSign, cRLSign
  } else if (o.kind === "document") {
    exts.push(ext(OID.basicConstraints, true, der.seq()));
    // digitalSignature + nonRepudiation (contentCommitment); RFC 9336 document signing.
    exts.push(ext(OID.keyUsage, true, der.bits(Uint8Array.of(0xc0), 6)));
    exts.push(ext(OID.extKeyUsage, false, der.seq(der.oid(OID.documentSigning))));
  } else {
    exts.push(ext(OID.basicConstraints, true, der.seq()));
    exts.push(ext(OID.keyUsage, true, der.bits(Uint8Array.of(0x80), 7))); // digitalSignature
    exts.push(ext(OID.extKeyUsage, false, der.seq(der.oid(OID.clientAuth))));
  }
  exts.push(ext(OID.subjectKeyIdentifier, false, der.octets(keyId(o.spki))));
  // The AKI must repeat the issuer's own SKI (however the issuer computed it), or path
  // builders that match AKI to SKI will not find the issuer.
  const issuerSki = o.issuerCert ? getExtension(o.issuerCert, OID.subjectKeyIdentifier) : undefined;
  const authorityKeyId = issuerSki ? parseKeyIdentifier(issuerSki.value) : keyId(issuerSpki);
  exts.push(ext(OID.authorityKeyIdentifier, false, der.seq(der.ctxPrim(0, authorityKeyId))));
  const { der: algDer } = signatureAlgorithmFor(o.issuerKey);
  const tbs = der.seq(
    der.ctx(0, der.int(2)),
    der.uint(randomSerial()),
    algDer,
    issuerName,
    der.seq(der.time(o.notBefore), der.time(o.notAfter)),
    subject,
    o.spki,
    der.ctx(3, der.seq(...exts)),
  );
  const { alg, signature } = signWith(o.issuerKey, tbs);
  return derToPem(der.seq(tbs, alg, der.bits(signature)), "CERTIFICATE");
}

/** The validity end for a new certificate: requested days, capped by the CA and TR-02102. */
export function capNotAfter(notBefore: Date, days: number, caNotAfter: Date | null): Date {
  let end = new Date(notBefore.getTime() + days * 86_400_000);
  if (caNotAfter && end > caNotAfter) end = caNotAfter;
  if (end > TR02102_SIGNATURE_HORIZON) end = TR02102_SIGNATURE_HORIZON;
  return end;
}

/** Whether `privateKey` belongs to the certificate's public key. */
export function keyMatchesCertificate(privateKey: KeyObject, cert: Certificate): boolean {
  return Buffer.from(spkiOf(privateKey)).equals(Buffer.from(cert.spki));
}

export function readPrivateKey(pem: string, passphrase?: string): KeyObject {
  return createPrivateKey(passphrase === undefined ? { key: pem } : { key: pem, passphrase });
}

export function certificateFromPem(pem: string): Certificate {
  return parseCertificate(pemToDer(pem, "CERTIFICATE"));
}

/** Whether a certificate carries the clientAuth EKU. */
export function hasClientAuth(cert: Certificate): boolean {
  const e = getExtension(cert, OID.extKeyUsage);
  return e ? parseExtKeyUsage(e.value).includes(OID.clientAuth) : false;
}
