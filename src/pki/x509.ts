/**
 * X.509 certificates and CRLs parsed from DER into the structure path validation needs:
 * the signed bytes, raw and normalised names, and every extension with its critical flag.
 * Signatures are checked with node:crypto against the issuer's SubjectPublicKeyInfo.
 */
import {
  createPublicKey,
  createHash,
  verify as cryptoVerify,
  constants,
  type KeyObject,
} from "node:crypto";
import {
  DerError,
  Tag,
  decodeBitString,
  decodeBoolean,
  decodeInteger,
  decodeOid,
  decodeString,
  decodeTime,
  expect,
  isContext,
  isUniversal,
  parseDer,
  type DerNode,
} from "./der.js";

export const OID = {
  // attribute types
  CN: "2.5.4.3",
  // extensions
  subjectKeyIdentifier: "2.5.29.14",
  keyUsage: "2.5.29.15",
  subjectAltName: "2.5.29.17",
  issuerAltName: "2.5.29.18",
  basicConstraints: "2.5.29.19",
  crlNumber: "2.5.29.20",
  reasonCode: "2.5.29.21",
  nameConstraints: "2.5.29.30",
  crlDistributionPoints: "2.5.29.31",
  certificatePolicies: "2.5.29.32",
  policyMappings: "2.5.29.33",
  authorityKeyIdentifier: "2.5.29.35",
  policyConstraints: "2.5.29.36",
  extKeyUsage: "2.5.29.37",
  inhibitAnyPolicy: "2.5.29.54",
  issuingDistributionPoint: "2.5.29.28",
  deltaCrlIndicator: "2.5.29.27",
  authorityInfoAccess: "1.3.6.1.5.5.7.1.1",
  // EKU
  anyExtendedKeyUsage: "2.5.29.37.0",
  serverAuth: "1.3.6.1.5.5.7.3.1",
  clientAuth: "1.3.6.1.5.5.7.3.2",
  emailProtection: "1.3.6.1.5.5.7.3.4",
  documentSigning: "1.3.6.1.5.5.7.3.36",
  // keys
  rsaEncryption: "1.2.840.113549.1.1.1",
  rsaPss: "1.2.840.113549.1.1.10",
  ecPublicKey: "1.2.840.10045.2.1",
  ed25519: "1.3.101.112",
  ed448: "1.3.101.113",
  dsa: "1.2.840.10040.4.1",
  mgf1: "1.2.840.113549.1.1.8",
} as const;

const NAME_ATTRS: Record<string, string> = {
  "2.5.4.3": "CN",
  "2.5.4.4": "SN",
  "2.5.4.5": "serialNumber",
  "2.5.4.6": "C",
  "2.5.4.7": "L",
  "2.5.4.8": "ST",
  "2.5.4.9": "street",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  "2.5.4.12": "title",
  "2.5.4.42": "GN",
  "2.5.4.97": "organizationIdentifier",
  "0.9.2342.19200300.100.1.25": "DC",
  "0.9.2342.19200300.100.1.1": "UID",
  "1.2.840.113549.1.9.1": "emailAddress",
};

export const EKU_NAMES: Record<string, string> = {
  "1.3.6.1.5.5.7.3.1": "serverAuth",
  "1.3.6.1.5.5.7.3.2": "clientAuth",
  "1.3.6.1.5.5.7.3.3": "codeSigning",
  "1.3.6.1.5.5.7.3.4": "emailProtection",
  "1.3.6.1.5.5.7.3.8": "timeStamping",
  "1.3.6.1.5.5.7.3.9": "OCSPSigning",
  "1.3.6.1.5.5.7.3.17": "ipsecIKE",
  "1.3.6.1.5.5.7.3.36": "documentSigning",
  "1.3.6.1.5.5.8.2.2": "iKEIntermediate",
  "2.5.29.37.0": "anyExtendedKeyUsage",
};

/** Signature algorithms: OID → name, hash for node:crypto, and the key type they need. */
const SIG_ALGS: Record<
  string,
  { name: string; hash: string | null; key: "rsa" | "ec" | "ed25519" | "ed448" }
> = {
  "1.2.840.113549.1.1.5": { name: "sha1WithRSAEncryption", hash: "sha1", key: "rsa" },
  "1.2.840.113549.1.1.4": { name: "md5WithRSAEncryption", hash: "md5", key: "rsa" },
  "1.2.840.113549.1.1.14": { name: "sha224WithRSAEncryption", hash: "sha224", key: "rsa" },
  "1.2.840.113549.1.1.11": { name: "sha256WithRSAEncryption", hash: "sha256", key: "rsa" },
  "1.2.840.113549.1.1.12": { name: "sha384WithRSAEncryption", hash: "sha384", key: "rsa" },
  "1.2.840.113549.1.1.13": { name: "sha512WithRSAEncryption", hash: "sha512", key: "rsa" },
  "1.2.840.113549.1.1.10": { name: "rsassaPss", hash: null, key: "rsa" },
  "1.2.840.10045.4.1": { name: "ecdsa-with-SHA1", hash: "sha1", key: "ec" },
  "1.2.840.10045.4.3.1": { name: "ecdsa-with-SHA224", hash: "sha224", key: "ec" },
  "1.2.840.10045.4.3.2": { name: "ecdsa-with-SHA256", hash: "sha256", key: "ec" },
  "1.2.840.10045.4.3.3": { name: "ecdsa-with-SHA384", hash: "sha384", key: "ec" },
  "1.2.840.10045.4.3.4": { name: "ecdsa-with-SHA512", hash: "sha512", key: "ec" },
  "1.3.101.112": { name: "ED25519", hash: null, key: "ed25519" },
  "1.3.101.113": { name: "ED448", hash: null, key: "ed448" },
};

const HASH_OIDS: Record<string, string> = {
  "1.3.14.3.2.26": "sha1",
  "2.16.840.1.101.3.4.2.4": "sha224",
  "2.16.840.1.101.3.4.2.1": "sha256",
  "2.16.840.1.101.3.4.2.2": "sha384",
  "2.16.840.1.101.3.4.2.3": "sha512",
};

export const CURVE_NAMES: Record<string, string> = {
  "1.2.840.10045.3.1.7": "P-256",
  "1.3.132.0.34": "P-384",
  "1.3.132.0.35": "P-521",
  "1.3.132.0.33": "P-224",
  "1.3.132.0.10": "secp256k1",
  "1.3.36.3.3.2.8.1.1.7": "brainpoolP256r1",
  "1.3.36.3.3.2.8.1.1.11": "brainpoolP384r1",
  "1.3.36.3.3.2.8.1.1.13": "brainpoolP512r1",
};

export interface AttributeValue {
  type: string;
  /** Universal tag of the value. */
  tag: number;
  value: string;
}

export interface Name {
  raw: Uint8Array;
  rdns: AttributeValue[][];
}

export interface AlgorithmIdentifier {
  oid: string;
  raw: Uint8Array;
  params: DerNode | undefined;
}

export interface Extension {
  oid: string;
  critical: boolean;
  value: Uint8Array;
}

export type GeneralName =
  | { kind: "dns"; value: string }
  | { kind: "email"; value: string }
  | { kind: "uri"; value: string }
  | { kind: "ip"; bytes: Uint8Array }
  | { kind: "dn"; name: Name }
  | { kind: "other"; tag: number };

export interface Certificate {
  der: Uint8Array;
  tbs: Uint8Array;
  version: number;
  serial: Uint8Array;
  serialValue: bigint;
  signatureAlgorithm: AlgorithmIdentifier;
  tbsSignatureAlgorithm: AlgorithmIdentifier;
  signature: Uint8Array;
  issuer: Name;
  subject: Name;
  notBefore: Date;
  notAfter: Date;
  spki: Uint8Array;
  spkiAlgorithm: AlgorithmIdentifier;
  extensions: Extension[];
  hasUniqueIds: boolean;
  fingerprint: string;
}

function parseAlgorithm(n: DerNode | undefined): AlgorithmIdentifier {
  const s = expect(n, Tag.SEQUENCE, "AlgorithmIdentifier");
  const oid = decodeOid(expect(s.children[0], Tag.OID, "algorithm OID"));
  if (s.children.length > 2) throw new DerError("AlgorithmIdentifier has extra fields");
  return { oid, raw: s.raw, params: s.children[1] };
}

export function parseName(n: DerNode | undefined): Name {
  const s = expect(n, Tag.SEQUENCE, "Name");
  const rdns = s.children.map((set) => {
    const rdn = expect(set, Tag.SET, "RelativeDistinguishedName");
    if (rdn.children.length === 0) throw new DerError("empty RelativeDistinguishedName");
    return rdn.children.map((atv) => {
      const a = expect(atv, Tag.SEQUENCE, "AttributeTypeAndValue");
      const type = decodeOid(expect(a.children[0], Tag.OID, "attribute type"));
      const v = a.children[1];
      if (!v || a.children.length !== 2) throw new DerError("bad AttributeTypeAndValue");
      let value: string;
      try {
        value = decodeString(v);
      } catch {
        throw new DerError("attribute value is not valid text");
      }
      return { type, tag: v.tag, value };
    });
  });
  return { raw: s.raw, rdns };
}

function parseExtensions(n: DerNode): Extension[] {
  const s = expect(n.children[0], Tag.SEQUENCE, "Extensions");
  if (s.children.length === 0) throw new DerError("empty Extensions");
  return s.children.map((e) => {
    const seq = expect(e, Tag.SEQUENCE, "Extension");
    const oid = decodeOid(expect(seq.children[0], Tag.OID, "extension OID"));
    let critical = false;
    let i = 1;
    if (isUniversal(seq.children[1], Tag.BOOLEAN)) {
      critical = decodeBoolean(seq.children[1]);
      // DER: DEFAULT FALSE is never encoded.
      if (!critical) throw new DerError("critical FALSE encoded explicitly (not DER)");
      i = 2;
    }
    const value = expect(seq.children[i], Tag.OCTET_STRING, "extension value").value;
    return { oid, critical, value };
  });
}

/** Parse a DER certificate; throws DerError on anything malformed. */
export function parseCertificate(bytes: Uint8Array): Certificate {
  const root = parseDer(bytes);
  const cert = expect(root, Tag.SEQUENCE, "Certificate");
  if (cert.children.length !== 3) throw new DerError("Certificate must have three fields");
  const tbs = expect(cert.children[0], Tag.SEQUENCE, "TBSCertificate");
  const signatureAlgorithm = parseAlgorithm(cert.children[1]);
  const sig = decodeBitString(expect(cert.children[2], Tag.BIT_STRING, "signature"));
  if (sig.unused !== 0) throw new DerError("signature has unused bits");
  let i = 0;
  let version = 1;
  const f = tbs.children;
  if (isContext(f[0], 0)) {
    const v = decodeInteger(expect(f[0].children[0], Tag.INTEGER, "version"));
    if (v === 0n) throw new DerError("version v1 encoded explicitly (not DER)");
    if (v < 0n || v > 2n) throw new DerError(`unknown certificate version ${v + 1n}`);
    version = Number(v) + 1;
    i++;
  }
  const serialNode = expect(f[i++], Tag.INTEGER, "serialNumber");
  const serialValue = decodeInteger(serialNode);
  const tbsSignatureAlgorithm = parseAlgorithm(f[i++]);
  const issuer = parseName(f[i++]);
  const validity = expect(f[i++], Tag.SEQUENCE, "Validity");
  const notBefore = decodeTime(validity.children[0]!);
  const notAfter = decodeTime(validity.children[1]!);
  const subject = parseName(f[i++]);
  const spkiNode = expect(f[i++], Tag.SEQUENCE, "SubjectPublicKeyInfo");
  const spkiAlgorithm = parseAlgorithm(spkiNode.children[0]);
  let hasUniqueIds = false;
  let extensions: Extension[] = [];
  for (; i < f.length; i++) {
    const n = f[i]!;
    if (isContext(n, 1) || isContext(n, 2)) {
      hasUniqueIds = true;
      if (version < 2) throw new DerError("unique identifiers need version 2 or 3");
    } else if (isContext(n, 3)) {
      if (version !== 3) throw new DerError("extensions need version 3");
      extensions = parseExtensions(n);
    } else {
      throw new DerError("unexpected field in TBSCertificate");
    }
  }
  return {
    der: bytes,
    tbs: tbs.raw,
    version,
    serial: serialNode.value,
    serialValue,
    signatureAlgorithm,
    tbsSignatureAlgorithm,
    signature: sig.bytes,
    issuer,
    subject,
    notBefore,
    notAfter,
    spki: spkiNode.raw,
    spkiAlgorithm,
    extensions,
    hasUniqueIds,
    fingerprint: createHash("sha256").update(bytes).digest("hex"),
  };
}

// ─── names ───────────────────────────────────────────────────────────────────

const STRING_TAGS: ReadonlySet<number> = new Set([
  Tag.UTF8String,
  Tag.PrintableString,
  Tag.BMPString,
  Tag.UniversalString,
  Tag.T61String,
  Tag.IA5String,
]);

/** RFC 5280 §7.1 (RFC 4518 simplified): case-fold, trim, collapse inner whitespace. */
function normaliseValue(a: AttributeValue): string {
  if (!STRING_TAGS.has(a.tag)) return `#${a.tag}:${a.value}`;
  return a.value.normalize("NFKC").toLowerCase().trim().replace(/\s+/g, " ");
}

/** A canonical key for a name: equal keys ⇔ matching names. */
export function nameKey(n: Name): string {
  return JSON.stringify(
    n.rdns.map((rdn) => rdn.map((a) => `${a.type}=${normaliseValue(a)}`).sort()),
  );
}

export function namesMatch(a: Name, b: Name): boolean {
  return nameKey(a) === nameKey(b);
}

function escapeDnValue(v: string): string {
  return v
    .replace(/([,+"\\<>;])/g, "\\$1")
    .replace(/^([ #])/, "\\$1")
    .replace(/ $/, "\\ ");
}

/** "CN=…, O=…, C=DE" in encoding order (as `openssl x509 -subject` prints it). */
export function formatName(n: Name): string {
  return n.rdns
    .map((rdn) =>
      rdn.map((a) => `${NAME_ATTRS[a.type] ?? a.type}=${escapeDnValue(a.value)}`).join(" + "),
    )
    .join(", ");
}

// ─── extensions ──────────────────────────────────────────────────────────────

export function getExtension(c: { extensions: Extension[] }, oid: string): Extension | undefined {
  return c.extensions.find((e) => e.oid === oid);
}

export interface BasicConstraints {
  ca: boolean;
  pathLen: number | null;
}

export function parseBasicConstraints(v: Uint8Array): BasicConstraints {
  const s = expect(parseDer(v), Tag.SEQUENCE, "BasicConstraints");
  let ca = false;
  let pathLen: number | null = null;
  let i = 0;
  if (isUniversal(s.children[i], Tag.BOOLEAN)) {
    ca = decodeBoolean(s.children[i]!);
    if (!ca) throw new DerError("cA FALSE encoded explicitly (not DER)");
    i++;
  }
  if (isUniversal(s.children[i], Tag.INTEGER)) {
    const p = decodeInteger(s.children[i]!);
    if (p < 0n) throw new DerError("negative pathLenConstraint");
    pathLen = p > 1000n ? 1000 : Number(p);
    i++;
  }
  if (i !== s.children.length) throw new DerError("bad BasicConstraints");
  return { ca, pathLen };
}

export const KU = {
  digitalSignature: 0,
  nonRepudiation: 1,
  keyEncipherment: 2,
  dataEncipherment: 3,
  keyAgreement: 4,
  keyCertSign: 5,
  cRLSign: 6,
  encipherOnly: 7,
  decipherOnly: 8,
} as const;

/** Key usage as a set of bit numbers. */
export function parseKeyUsage(v: Uint8Array): Set<number> {
  const { bytes } = decodeBitString(expect(parseDer(v), Tag.BIT_STRING, "KeyUsage"));
  const bits = new Set<number>();
  bytes.forEach((b, i) => {
    for (let k = 0; k < 8; k++) if (b & (0x80 >> k)) bits.add(i * 8 + k);
  });
  return bits;
}

export function parseExtKeyUsage(v: Uint8Array): string[] {
  const s = expect(parseDer(v), Tag.SEQUENCE, "ExtKeyUsage");
  return s.children.map((c) => decodeOid(expect(c, Tag.OID, "KeyPurposeId")));
}

export function parseKeyIdentifier(v: Uint8Array): Uint8Array {
  return expect(parseDer(v), Tag.OCTET_STRING, "SubjectKeyIdentifier").value;
}

export function parseAuthorityKeyId(v: Uint8Array): { keyId: Uint8Array | null } {
  const s = expect(parseDer(v), Tag.SEQUENCE, "AuthorityKeyIdentifier");
  const k = s.children.find((c) => isContext(c, 0));
  return { keyId: k ? k.value : null };
}

export function parseGeneralName(n: DerNode): GeneralName {
  if (n.cls !== 2) throw new DerError("GeneralName must be context-tagged");
  const ascii = () => {
    for (const b of n.value)
      if (b > 0x7e || b < 0x20) throw new DerError("IA5String with non-ASCII");
    return Buffer.from(n.value).toString("latin1");
  };
  switch (n.tag) {
    case 1:
      return { kind: "email", value: ascii() };
    case 2:
      return { kind: "dns", value: ascii() };
    case 6:
      return { kind: "uri", value: ascii() };
    case 7:
      return { kind: "ip", bytes: n.value };
    case 4:
      return { kind: "dn", name: parseName(n.children[0]) };
    default:
      return { kind: "other", tag: n.tag };
  }
}

export function parseGeneralNames(v: Uint8Array): GeneralName[] {
  const s = expect(parseDer(v), Tag.SEQUENCE, "GeneralNames");
  if (s.children.length === 0) throw new DerError("empty GeneralNames");
  return s.children.map(parseGeneralName);
}

export interface NameConstraints {
  permitted: GeneralName[] | null;
  excluded: GeneralName[] | null;
  /** Subtrees for IP: address and mask. */
}

export function parseNameConstraints(v: Uint8Array): NameConstraints {
  const s = expect(parseDer(v), Tag.SEQUENCE, "NameConstraints");
  const subtrees = (n: DerNode | undefined) => {
    if (!n) return null;
    if (n.children.length === 0) throw new DerError("empty GeneralSubtrees");
    return n.children.map((st) => {
      const seq = expect(st, Tag.SEQUENCE, "GeneralSubtree");
      if (seq.children.length !== 1)
        throw new DerError("minimum/maximum must be absent (RFC 5280)");
      return parseGeneralName(seq.children[0]!);
    });
  };
  const permitted = subtrees(s.children.find((c) => isContext(c, 0)));
  const excluded = subtrees(s.children.find((c) => isContext(c, 1)));
  if (!permitted && !excluded) throw new DerError("empty NameConstraints");
  return { permitted, excluded };
}

// ─── keys and signatures ─────────────────────────────────────────────────────

export interface KeyInfo {
  keyType: "rsa" | "ec" | "ed25519" | "ed448" | "dsa" | "unknown";
  keyBits: number;
  curve?: string;
}

export function describeKey(spki: Uint8Array, alg: AlgorithmIdentifier): KeyInfo {
  switch (alg.oid) {
    case OID.rsaEncryption:
    case OID.rsaPss: {
      try {
        const k = createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });
        return { keyType: "rsa", keyBits: k.asymmetricKeyDetails?.modulusLength ?? 0 };
      } catch {
        return { keyType: "unknown", keyBits: 0 };
      }
    }
    case OID.ecPublicKey: {
      const curveOid = isUniversal(alg.params, Tag.OID) ? decodeOid(alg.params) : null;
      const curve = curveOid ? (CURVE_NAMES[curveOid] ?? curveOid) : "explicit";
      const bits: Record<string, number> = {
        "P-256": 256,
        "P-384": 384,
        "P-521": 521,
        "P-224": 224,
        secp256k1: 256,
        brainpoolP256r1: 256,
        brainpoolP384r1: 384,
        brainpoolP512r1: 512,
      };
      return { keyType: "ec", keyBits: bits[curve] ?? 0, curve };
    }
    case OID.ed25519:
      return { keyType: "ed25519", keyBits: 256 };
    case OID.ed448:
      return { keyType: "ed448", keyBits: 456 };
    case OID.dsa:
      return { keyType: "dsa", keyBits: 0 };
    default:
      return { keyType: "unknown", keyBits: 0 };
  }
}

export function signatureAlgorithmName(alg: AlgorithmIdentifier): string {
  const a = SIG_ALGS[alg.oid];
  if (!a) return alg.oid;
  if (alg.oid === OID.rsaPss) {
    try {
      return `rsassaPss-${pssParams(alg).hash.toUpperCase()}`;
    } catch {
      return a.name;
    }
  }
  return a.name;
}

/** Hash name (node:crypto) a signature algorithm uses, or null for EdDSA. */
export function signatureHash(alg: AlgorithmIdentifier): string | null {
  if (alg.oid === OID.rsaPss) return pssParams(alg).hash;
  return SIG_ALGS[alg.oid]?.hash ?? null;
}

function pssParams(alg: AlgorithmIdentifier): { hash: string; saltLength: number } {
  const p = expect(alg.params, Tag.SEQUENCE, "RSASSA-PSS-params");
  let hash = "sha1";
  let mgfHash = "sha1";
  let saltLength = 20;
  for (const c of p.children) {
    const ctx = c.cls === 2 ? c.tag : -1;
    if (ctx === 0) hash = HASH_OIDS[parseAlgorithm(c.children[0]).oid] ?? "unknown";
    else if (ctx === 1) {
      const m = parseAlgorithm(c.children[0]);
      if (m.oid !== OID.mgf1) throw new DerError("PSS mask generation is not MGF1");
      mgfHash = HASH_OIDS[parseAlgorithm(m.params).oid] ?? "unknown";
    } else if (ctx === 2)
      saltLength = Number(decodeInteger(expect(c.children[0], Tag.INTEGER, "salt")));
    else if (ctx === 3) {
      if (decodeInteger(expect(c.children[0], Tag.INTEGER, "trailer")) !== 1n)
        throw new DerError("bad trailer");
    }
  }
  if (hash === "unknown" || hash !== mgfHash)
    throw new DerError("PSS hash and MGF1 hash differ or are unknown");
  return { hash, saltLength };
}

const keyCache = new WeakMap<Uint8Array, KeyObject>();

export function publicKeyOf(spki: Uint8Array): KeyObject {
  let k = keyCache.get(spki);
  if (!k) {
    k = createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });
    keyCache.set(spki, k);
  }
  return k;
}

/**
 * Verify `signature` over `data` with the issuer's SubjectPublicKeyInfo. Returns false on
 * any mismatch, including an algorithm that does not fit the key; never throws.
 */
export function verifySignature(
  data: Uint8Array,
  signature: Uint8Array,
  alg: AlgorithmIdentifier,
  issuerSpki: Uint8Array,
  issuerSpkiAlg: AlgorithmIdentifier,
): boolean {
  const a = SIG_ALGS[alg.oid];
  if (!a) return false;
  const keyAlg = issuerSpkiAlg.oid;
  const keyKind =
    keyAlg === OID.rsaEncryption || keyAlg === OID.rsaPss
      ? "rsa"
      : keyAlg === OID.ecPublicKey
        ? "ec"
        : keyAlg === OID.ed25519
          ? "ed25519"
          : keyAlg === OID.ed448
            ? "ed448"
            : "other";
  if (keyKind !== a.key) return false;
  try {
    const key = publicKeyOf(issuerSpki);
    if (a.key === "rsa" && alg.oid === OID.rsaPss) {
      const { hash, saltLength } = pssParams(alg);
      return cryptoVerify(
        hash,
        data,
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength },
        signature,
      );
    }
    if (a.key === "rsa") {
      // PKCS#1 v1.5 algorithms carry NULL (or absent) parameters.
      if (alg.params && !isUniversal(alg.params, Tag.NULL)) return false;
      return cryptoVerify(a.hash, data, { key, padding: constants.RSA_PKCS1_PADDING }, signature);
    }
    if (a.key === "ec") {
      if (alg.params) return false; // ECDSA algorithm identifiers have absent parameters
      return cryptoVerify(a.hash, data, { key, dsaEncoding: "der" }, signature);
    }
    return cryptoVerify(null, data, key, signature);
  } catch {
    return false;
  }
}

// ─── CRLs ────────────────────────────────────────────────────────────────────

export interface Crl {
  der: Uint8Array;
  tbs: Uint8Array;
  version: number;
  signatureAlgorithm: AlgorithmIdentifier;
  tbsSignatureAlgorithm: AlgorithmIdentifier;
  signature: Uint8Array;
  issuer: Name;
  thisUpdate: Date;
  nextUpdate: Date | null;
  revoked: { serial: Uint8Array; date: Date; extensions: Extension[] }[];
  extensions: Extension[];
}

export function parseCrl(bytes: Uint8Array): Crl {
  const root = expect(parseDer(bytes), Tag.SEQUENCE, "CertificateList");
  if (root.children.length !== 3) throw new DerError("CertificateList must have three fields");
  const tbs = expect(root.children[0], Tag.SEQUENCE, "TBSCertList");
  const signatureAlgorithm = parseAlgorithm(root.children[1]);
  const sig = decodeBitString(expect(root.children[2], Tag.BIT_STRING, "signature"));
  const f = tbs.children;
  let i = 0;
  let version = 1;
  if (isUniversal(f[0], Tag.INTEGER)) {
    version = Number(decodeInteger(f[0])) + 1;
    i++;
  }
  const tbsSignatureAlgorithm = parseAlgorithm(f[i++]);
  const issuer = parseName(f[i++]);
  const thisUpdate = decodeTime(f[i++]!);
  let nextUpdate: Date | null = null;
  if (isUniversal(f[i], Tag.UTCTime) || isUniversal(f[i], Tag.GeneralizedTime))
    nextUpdate = decodeTime(f[i++]!);
  const revoked: Crl["revoked"] = [];
  if (isUniversal(f[i], Tag.SEQUENCE)) {
    for (const r of f[i++]!.children) {
      const s = expect(r, Tag.SEQUENCE, "revoked certificate");
      const serial = expect(s.children[0], Tag.INTEGER, "serial").value;
      const date = decodeTime(s.children[1]!);
      const exts = s.children[2]
        ? parseExtensions({ ...s.children[2], children: [s.children[2]] })
        : [];
      revoked.push({ serial, date, extensions: exts });
    }
  }
  let extensions: Extension[] = [];
  if (isContext(f[i], 0)) extensions = parseExtensions(f[i++]!);
  if (i !== f.length) throw new DerError("unexpected field in TBSCertList");
  return {
    der: bytes,
    tbs: tbs.raw,
    version,
    signatureAlgorithm,
    tbsSignatureAlgorithm,
    signature: sig.bytes,
    issuer,
    thisUpdate,
    nextUpdate,
    revoked,
    extensions,
  };
}
