/**
 * RFC 5280 certification path building and validation (§6), pure: no fs, no exec.
 *
 * Library choice: our own strict DER reader (./der.ts) for structure, node:crypto (OpenSSL)
 * only for the signature arithmetic. node-forge's verify() has no EC keys and checks little
 * beyond signatures; node:crypto's X509Certificate.checkIssued() compares names only and
 * accepts a same-named CA with a different key. @peculiar/x509 or pkijs would give us parsing
 * but no RFC 5280 algorithm, so the algorithm is ours either way; keeping the parser ours too
 * means every DER rule (duplicate extensions, explicit defaults, fractional times) is visible.
 *
 * Profile: RFC 5280 with the strict readings OpenSSL applies under `-x509_strict` and the
 * CA/Browser Forum adds (AKI/SKI present, critical basicConstraints on CAs, serial 1..20
 * octets, critical name constraints only in CA certificates).
 */
import { type CertificateInfoLite, summarise, splitPemBundle } from "./certificate.js";
import { DerError, pemToDer } from "./der.js";
import {
  KU,
  OID,
  nameKey,
  parseAuthorityKeyId,
  parseBasicConstraints,
  parseCertificate,
  parseCrl,
  parseExtKeyUsage,
  parseGeneralNames,
  parseKeyIdentifier,
  parseKeyUsage,
  parseNameConstraints,
  describeKey,
  signatureAlgorithmName,
  signatureHash,
  verifySignature,
  type BasicConstraints,
  type Certificate,
  type Crl,
  type GeneralName,
  type Name,
  type NameConstraints,
} from "./x509.js";

export type { CertificateInfoLite } from "./certificate.js";

/**
 * What the end-entity key is trusted for: TLS/IKE client or server authentication, signing a
 * document (a CMS signature over a result file), or anything the certificate allows.
 */
export type PathPurpose = "client" | "server" | "document" | "any";

export interface PathInput {
  /** The end-entity certificate (PEM). */
  leaf: string;
  /** Untrusted certificates that may help build the path (PEM, bundles allowed). */
  intermediates?: string[];
  /** Trusted certificates (PEM, bundles allowed). */
  trustAnchors: string[];
  /** CRLs (PEM); a certificate whose issuer has a CRL here is checked against it. */
  crls?: string[];
  /** Validation time. */
  at: Date;
  purpose: PathPurpose;
  /** Most logical intermediates allowed (self-issued re-keys do not count); default 8. */
  maxIntermediates?: number;
}

export interface PathResult {
  valid: boolean;
  reason: string | null;
  code: string | null;
  /** The path found (leaf first, trust anchor last), or the closest attempt. */
  chain: CertificateInfoLite[];
}

/** Extension OIDs this validator processes; any other critical extension is rejected. */
const KNOWN_CRITICAL: ReadonlySet<string> = new Set([
  OID.basicConstraints,
  OID.keyUsage,
  OID.extKeyUsage,
  OID.subjectAltName,
  OID.nameConstraints,
  // Policies are not enforced (no initial-policy-set in the profile), so a critical policy
  // extension asks nothing of a validator that accepts any policy.
  OID.certificatePolicies,
  OID.policyConstraints,
  OID.policyMappings,
  OID.inhibitAnyPolicy,
]);

const KNOWN_CRL_EXTENSIONS: ReadonlySet<string> = new Set([
  OID.crlNumber,
  OID.authorityKeyIdentifier,
  OID.issuerAltName,
]);

class Fail extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface Node {
  cert: Certificate;
  label: string;
  subjectKey: string;
  issuerKey: string;
  selfIssued: boolean;
  bc: BasicConstraints | null;
  bcCritical: boolean;
  ku: Set<number> | null;
  eku: string[] | null;
  ski: Uint8Array | null;
  akiKeyId: Uint8Array | null;
  hasAki: boolean;
  san: GeneralName[] | null;
  nc: NameConstraints | null;
  ncCritical: boolean;
  /** A structural problem found while reading extensions (reported if this cert is used). */
  problem: Fail | null;
}

function read(pem: string, label: string): Node {
  const cert = parseCertificate(pemToDer(pem, "CERTIFICATE"));
  const node: Node = {
    cert,
    label,
    subjectKey: nameKey(cert.subject),
    issuerKey: nameKey(cert.issuer),
    selfIssued: false,
    bc: null,
    bcCritical: false,
    ku: null,
    eku: null,
    ski: null,
    akiKeyId: null,
    hasAki: false,
    san: null,
    nc: null,
    ncCritical: false,
    problem: null,
  };
  node.selfIssued = node.subjectKey === node.issuerKey;
  const seen = new Set<string>();
  try {
    for (const e of cert.extensions) {
      if (seen.has(e.oid))
        throw new Fail("E_EXTENSION_DUPLICATE", `extension ${e.oid} appears twice`);
      seen.add(e.oid);
      switch (e.oid) {
        case OID.basicConstraints:
          node.bc = parseBasicConstraints(e.value);
          node.bcCritical = e.critical;
          break;
        case OID.keyUsage:
          node.ku = parseKeyUsage(e.value);
          break;
        case OID.extKeyUsage:
          node.eku = parseExtKeyUsage(e.value);
          if (node.eku.length === 0) throw new Fail("E_EKU_EMPTY", "extended key usage is empty");
          break;
        case OID.subjectKeyIdentifier:
          if (e.critical)
            throw new Fail("E_SKI_CRITICAL", "subject key identifier must not be critical");
          node.ski = parseKeyIdentifier(e.value);
          break;
        case OID.authorityKeyIdentifier:
          if (e.critical)
            throw new Fail("E_AKI_CRITICAL", "authority key identifier must not be critical");
          node.hasAki = true;
          node.akiKeyId = parseAuthorityKeyId(e.value).keyId;
          break;
        case OID.subjectAltName:
          node.san = parseGeneralNames(e.value);
          break;
        case OID.nameConstraints:
          node.nc = parseNameConstraints(e.value);
          node.ncCritical = e.critical;
          break;
        default:
          if (e.critical && !KNOWN_CRITICAL.has(e.oid)) {
            throw new Fail("E_UNKNOWN_CRITICAL_EXTENSION", `unknown critical extension ${e.oid}`);
          }
      }
    }
  } catch (err) {
    node.problem =
      err instanceof Fail
        ? err
        : new Fail("E_MALFORMED_EXTENSION", `malformed extension: ${(err as Error).message}`);
  }
  return node;
}

function readAll(pems: string[], label: string): Node[] {
  const out: Node[] = [];
  for (const p of pems.flatMap((x) => splitPemBundle(x))) {
    try {
      out.push(read(p, label));
    } catch {
      // An unreadable untrusted or trusted certificate simply cannot be part of a path.
    }
  }
  return out;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

/** Identity of a logical CA: subject and key (a re-issued certificate is the same CA). */
function caIdentity(n: Node): string {
  return `${n.subjectKey}|${Buffer.from(n.cert.spki).toString("base64")}`;
}

// ─── per-certificate profile checks ──────────────────────────────────────────

/** Curves BSI TR-02102-1 approves for signatures (all of at least 250 bits). */
const approvedCurves = new Set([
  "P-256",
  "P-384",
  "P-521",
  "brainpoolP256r1",
  "brainpoolP384r1",
  "brainpoolP512r1",
]);

/**
 * Algorithm minimums of BSI TR-02102-1 for every certificate of a path: RSA of at least
 * 3000 bits, EC on an approved curve of at least 250 bits, no signature made with MD5 or
 * SHA-1 (a trust anchor's self-signature proves nothing, so only its key is judged).
 */
function checkAlgorithms(n: Node, anchor: boolean): void {
  const c = n.cert;
  const key = describeKey(c.spki, c.spkiAlgorithm);
  const weakKey =
    key.keyType === "rsa"
      ? key.keyBits < 3000
        ? `RSA-${key.keyBits} key (at least 3000 bits required)`
        : null
      : key.keyType === "ec"
        ? approvedCurves.has(key.curve ?? "")
          ? null
          : `EC key on ${key.curve ?? "an unknown curve"} (P-256/384/521 or brainpool required)`
        : `${key.keyType} key (RSA or EC required)`;
  if (weakKey) throw new Fail("E_WEAK_KEY", `${n.label}: ${weakKey}, per BSI TR-02102-1`);
  if (anchor) return;
  let hash: string | null;
  try {
    hash = signatureHash(c.signatureAlgorithm);
  } catch {
    hash = null; // unreadable PSS parameters: not a hash koffer can approve
  }
  if (hash === null || hash === "md5" || hash === "sha1")
    throw new Fail(
      "E_WEAK_SIGNATURE",
      `${n.label}: signed with ${signatureAlgorithmName(c.signatureAlgorithm)} (SHA-256 or stronger required), per BSI TR-02102-1`,
    );
}

function checkCommon(n: Node, at: number, anchor = false): void {
  const c = n.cert;
  const who = n.label;
  if (n.problem) throw new Fail(n.problem.code, `${who}: ${n.problem.message}`);
  checkAlgorithms(n, anchor);
  if (c.version !== 3)
    throw new Fail("E_VERSION", `${who}: version ${c.version} certificate (v3 required)`);
  if (c.serialValue <= 0n) throw new Fail("E_SERIAL", `${who}: serial number is not positive`);
  if (c.serial.length > 20)
    throw new Fail("E_SERIAL", `${who}: serial number longer than 20 octets`);
  if (!bytesEqual(c.signatureAlgorithm.raw, c.tbsSignatureAlgorithm.raw)) {
    throw new Fail(
      "E_SIGNATURE_ALGORITHM_MISMATCH",
      `${who}: signature algorithm differs from the signed one`,
    );
  }
  if (c.issuer.rdns.length === 0) throw new Fail("E_EMPTY_ISSUER", `${who}: empty issuer name`);
  // RFC 5280 times have one-second granularity: compare against the floored time.
  if (at < c.notBefore.getTime()) {
    throw new Fail("E_NOT_YET_VALID", `${who}: not valid before ${c.notBefore.toISOString()}`);
  }
  if (at > c.notAfter.getTime())
    throw new Fail("E_EXPIRED", `${who}: expired ${c.notAfter.toISOString()}`);
  if (n.ku && n.ku.has(KU.keyCertSign) && !n.bc?.ca) {
    throw new Fail("E_KEY_USAGE", `${who}: keyCertSign asserted without cA`);
  }
  if (n.nc && !n.bc?.ca)
    throw new Fail("E_NAME_CONSTRAINTS", `${who}: name constraints in a non-CA certificate`);
  if (n.nc && !n.ncCritical)
    throw new Fail("E_NAME_CONSTRAINTS", `${who}: name constraints not marked critical`);
  const selfSigned = n.selfIssued && (!n.akiKeyId || !n.ski || bytesEqual(n.akiKeyId, n.ski));
  // A trust anchor has no issuer to identify, so it needs no AKI.
  if (!n.hasAki && !selfSigned && !anchor)
    throw new Fail("E_AKI_MISSING", `${who}: authority key identifier missing`);
  if (n.san) {
    for (const g of n.san) {
      const bad = invalidGeneralName(g);
      if (bad) throw new Fail("E_SAN_INVALID", `${who}: ${bad}`);
    }
  }
}

function checkCa(n: Node): void {
  const who = n.label;
  if (!n.bc) throw new Fail("E_NOT_CA", `${who}: no basicConstraints, cannot issue certificates`);
  if (!n.bc.ca) throw new Fail("E_NOT_CA", `${who}: basicConstraints cA is false`);
  if (!n.bcCritical)
    throw new Fail("E_NOT_CA", `${who}: basicConstraints not marked critical in a CA`);
  if (n.ku && !n.ku.has(KU.keyCertSign))
    throw new Fail("E_KEY_USAGE", `${who}: key usage lacks keyCertSign`);
  if (!n.ski) throw new Fail("E_SKI_MISSING", `${who}: subject key identifier missing in a CA`);
  if (n.cert.subject.rdns.length === 0)
    throw new Fail("E_EMPTY_SUBJECT", `${who}: CA with an empty subject`);
}

/** The extended key usages that allow a purpose (anyExtendedKeyUsage always does). */
const PURPOSE_OIDS: Record<PathPurpose, readonly string[] | null> = {
  client: [OID.clientAuth],
  server: [OID.serverAuth],
  // RFC 9336 document signing; S/MIME's emailProtection is what CMS signers commonly carry.
  document: [OID.documentSigning, OID.emailProtection],
  any: null,
};

const PURPOSE_TEXT: Record<PathPurpose, string> = {
  client: "client authentication",
  server: "server authentication",
  document: "signing documents",
  any: "any use",
};

/** RFC 5280 §4.2.1.12: a certificate with an EKU may only be used for the purposes it lists. */
function ekuAllows(eku: string[] | null, purpose: PathPurpose): boolean {
  const want = PURPOSE_OIDS[purpose];
  if (!want || !eku) return true;
  return eku.includes(OID.anyExtendedKeyUsage) || want.some((o) => eku.includes(o));
}

function checkLeaf(n: Node, purpose: PathPurpose): void {
  if (!ekuAllows(n.eku, purpose)) {
    throw new Fail(
      "E_EKU",
      `${n.label}: extended key usage does not allow ${PURPOSE_TEXT[purpose]}`,
    );
  }
  if (purpose === "client" && n.ku && !n.ku.has(KU.digitalSignature)) {
    throw new Fail(
      "E_KEY_USAGE",
      `${n.label}: key usage lacks digitalSignature for client authentication`,
    );
  }
  // RFC 5280 §4.2.1.3: a signature on anything but a certificate or CRL needs
  // digitalSignature (or nonRepudiation, "contentCommitment") when key usage is present.
  if (
    purpose === "document" &&
    n.ku &&
    !n.ku.has(KU.digitalSignature) &&
    !n.ku.has(KU.nonRepudiation)
  ) {
    throw new Fail(
      "E_KEY_USAGE",
      `${n.label}: key usage lacks digitalSignature and nonRepudiation for signing documents`,
    );
  }
}

// ─── names ───────────────────────────────────────────────────────────────────

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

function validDns(name: string, allowWildcard: boolean): boolean {
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split(".");
  return labels.every((l, i) => (allowWildcard && i === 0 && l === "*") || LABEL.test(l));
}

function validEmail(addr: string): boolean {
  const at = addr.lastIndexOf("@");
  if (at <= 0) return false;
  const local = addr.slice(0, at);
  return /^[!#-'*+\-/-9=?A-Z^-~.]+$/.test(local) && validDns(addr.slice(at + 1), false);
}

function invalidGeneralName(g: GeneralName): string | null {
  if (g.kind === "dns" && !validDns(g.value, true))
    return `invalid DNS name in subjectAltName: ${g.value}`;
  if (g.kind === "email" && !validEmail(g.value))
    return `invalid email address in subjectAltName: ${g.value}`;
  if (g.kind === "ip" && g.bytes.length !== 4 && g.bytes.length !== 16)
    return "invalid IP address in subjectAltName";
  return null;
}

function invalidConstraint(g: GeneralName): string | null {
  switch (g.kind) {
    case "dns":
      return g.value === "" || validDns(g.value, false)
        ? null
        : `invalid DNS name constraint: ${g.value}`;
    case "email": {
      const v = g.value;
      if (v.includes("@")) return validEmail(v) ? null : `invalid email constraint: ${v}`;
      const host = v.startsWith(".") ? v.slice(1) : v;
      return validDns(host, false) ? null : `invalid email constraint: ${v}`;
    }
    case "ip": {
      if (g.bytes.length !== 8 && g.bytes.length !== 32)
        return "invalid IP address constraint (length)";
      const mask = g.bytes.subarray(g.bytes.length / 2);
      let bits = "";
      for (const b of mask) bits += b.toString(2).padStart(8, "0");
      return /^1*0*$/.test(bits) ? null : "invalid IP address constraint (non-contiguous mask)";
    }
    default:
      return null;
  }
}

function dnsWithin(name: string, constraint: string): boolean {
  const n = name.toLowerCase();
  const c = constraint.toLowerCase();
  return c === "" || n === c || n.endsWith("." + c);
}

function dnsPermitted(name: string, c: string): boolean {
  if (name.startsWith("*.")) return dnsWithin(name.slice(2), c);
  return dnsWithin(name, c);
}

function dnsExcluded(name: string, c: string): boolean {
  if (name.startsWith("*.")) {
    const base = name.slice(2).toLowerCase();
    const cc = c.toLowerCase();
    // Some expansion of the wildcard lies inside the excluded subtree.
    return (
      dnsWithin(base, cc) ||
      (cc.endsWith("." + base) && !cc.slice(0, -base.length - 1).includes("."))
    );
  }
  return dnsWithin(name, c);
}

function emailMatches(addr: string, c: string): boolean {
  const at = addr.lastIndexOf("@");
  const local = addr.slice(0, at);
  const host = addr.slice(at + 1).toLowerCase();
  if (c.includes("@")) {
    const cat = c.lastIndexOf("@");
    return local === c.slice(0, cat) && host === c.slice(cat + 1).toLowerCase();
  }
  if (c.startsWith(".")) return host.endsWith(c.toLowerCase());
  return host === c.toLowerCase();
}

function ipMatches(addr: Uint8Array, c: Uint8Array): boolean {
  if (c.length !== addr.length * 2) return false;
  const mask = c.subarray(addr.length);
  return addr.every((b, i) => (b & mask[i]!) === (c[i]! & mask[i]!));
}

function dnWithin(name: Name, c: Name): boolean {
  if (c.rdns.length > name.rdns.length) return false;
  const prefix: Name = { raw: name.raw, rdns: name.rdns.slice(0, c.rdns.length) };
  return nameKey(prefix) === nameKey(c);
}

function matches(name: GeneralName, c: GeneralName, mode: "permit" | "exclude"): boolean {
  if (name.kind === "dns" && c.kind === "dns") {
    return mode === "permit" ? dnsPermitted(name.value, c.value) : dnsExcluded(name.value, c.value);
  }
  if (name.kind === "email" && c.kind === "email") return emailMatches(name.value, c.value);
  if (name.kind === "ip" && c.kind === "ip") return ipMatches(name.bytes, c.bytes);
  if (name.kind === "dn" && c.kind === "dn") return dnWithin(name.name, c.name);
  if (name.kind === "uri" && c.kind === "uri") {
    const host = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/]*@)?([^:/?#]+)/i.exec(name.value)?.[1] ?? "";
    return c.value.startsWith(".")
      ? host.toLowerCase().endsWith(c.value.toLowerCase())
      : dnsWithin(host, c.value);
  }
  return false;
}

function namesOf(n: Node): GeneralName[] {
  const out: GeneralName[] = [];
  if (n.cert.subject.rdns.length > 0) out.push({ kind: "dn", name: n.cert.subject });
  if (n.san) out.push(...n.san);
  else {
    // RFC 5280 §4.2.1.10: without a SAN, emailAddress in the subject is constrained as rfc822Name.
    for (const rdn of n.cert.subject.rdns)
      for (const a of rdn)
        if (a.type === "1.2.840.113549.1.9.1") out.push({ kind: "email", value: a.value });
  }
  return out;
}

/** Names × constraints beyond which we refuse (OpenSSL's bound against quadratic blow-up). */
const NC_WORK_LIMIT = 1 << 20;

function checkNameConstraints(ca: Node, subject: Node): void {
  const nc = ca.nc!;
  const work = namesOf(subject).length * ((nc.permitted?.length ?? 0) + (nc.excluded?.length ?? 0));
  if (work > NC_WORK_LIMIT) {
    throw new Fail(
      "E_NAME_CONSTRAINTS",
      `${subject.label}: too many names and constraints to check (${work})`,
    );
  }
  for (const list of [nc.permitted, nc.excluded]) {
    for (const c of list ?? []) {
      const bad = invalidConstraint(c);
      if (bad) throw new Fail("E_NAME_CONSTRAINTS", `${ca.label}: ${bad}`);
    }
  }
  for (const name of namesOf(subject)) {
    const kind = name.kind === "other" ? `other:${name.tag}` : name.kind;
    const kindOf = (g: GeneralName) => (g.kind === "other" ? `other:${g.tag}` : g.kind);
    const permitted = (nc.permitted ?? []).filter((c) => kindOf(c) === kind);
    const excluded = (nc.excluded ?? []).filter((c) => kindOf(c) === kind);
    if (name.kind === "other" && (permitted.length > 0 || excluded.length > 0)) {
      throw new Fail(
        "E_NAME_CONSTRAINTS",
        `${subject.label}: name of a form the constraints of ${ca.label} cannot evaluate (otherName)`,
      );
    }
    if (permitted.length > 0 && !permitted.some((c) => matches(name, c, "permit"))) {
      throw new Fail(
        "E_NAME_CONSTRAINTS",
        `${subject.label}: ${describe(name)} not permitted by ${ca.label}`,
      );
    }
    const hit = excluded.find((c) => matches(name, c, "exclude"));
    if (hit)
      throw new Fail(
        "E_NAME_CONSTRAINTS",
        `${subject.label}: ${describe(name)} excluded by ${ca.label}`,
      );
  }
}

function describe(g: GeneralName): string {
  switch (g.kind) {
    case "dns":
      return `DNS name ${g.value}`;
    case "email":
      return `email ${g.value}`;
    case "uri":
      return `URI ${g.value}`;
    case "ip":
      return `IP address ${Buffer.from(g.bytes).toString("hex")}`;
    case "dn":
      return "subject name";
    default:
      return "name";
  }
}

// ─── CRLs ────────────────────────────────────────────────────────────────────

function checkRevocation(subject: Node, issuer: Node, crls: Crl[], at: number): void {
  for (const crl of crls) {
    if (nameKey(crl.issuer) !== subject.issuerKey) continue;
    if (
      !verifySignature(
        crl.tbs,
        crl.signature,
        crl.signatureAlgorithm,
        issuer.cert.spki,
        issuer.cert.spkiAlgorithm,
      )
    ) {
      continue; // another CA's CRL with the same name
    }
    const who = `CRL of ${issuer.label}`;
    if (issuer.ku && !issuer.ku.has(KU.cRLSign))
      throw new Fail("E_CRL", `${who}: issuer key usage lacks cRLSign`);
    if (!bytesEqual(crl.signatureAlgorithm.raw, crl.tbsSignatureAlgorithm.raw)) {
      throw new Fail("E_CRL", `${who}: signature algorithm differs from the signed one`);
    }
    const seen = new Set<string>();
    for (const e of crl.extensions) {
      if (seen.has(e.oid)) throw new Fail("E_CRL", `${who}: duplicate extension ${e.oid}`);
      seen.add(e.oid);
      if (e.oid === OID.crlNumber && e.critical)
        throw new Fail("E_CRL", `${who}: CRL number marked critical`);
      if (e.critical && !KNOWN_CRL_EXTENSIONS.has(e.oid)) {
        throw new Fail("E_CRL", `${who}: unsupported critical extension ${e.oid}`);
      }
    }
    if (crl.version !== 2 || !seen.has(OID.crlNumber))
      throw new Fail("E_CRL", `${who}: not a v2 CRL with a CRL number`);
    if (crl.thisUpdate.getTime() > at) throw new Fail("E_CRL", `${who}: issued in the future`);
    if (crl.nextUpdate && crl.nextUpdate.getTime() < at)
      throw new Fail("E_CRL", `${who}: out of date`);
    for (const r of crl.revoked) {
      if (bytesEqual(r.serial, subject.cert.serial)) {
        throw new Fail("E_REVOKED", `${subject.label}: revoked on ${r.date.toISOString()}`);
      }
    }
  }
}

// ─── path ────────────────────────────────────────────────────────────────────

function validatePath(path: Node[], input: PathInput, crls: Crl[], at: number): void {
  const last = path.length - 1;
  const maxI = input.maxIntermediates ?? 8;
  path.forEach((n, i) => {
    checkCommon(n, at, i === last);
    if (i > 0) checkCa(n);
  });
  checkLeaf(path[0]!, input.purpose);
  // Path length: non-self-issued intermediates below each CA (the leaf does not count).
  for (let j = 1; j <= last; j++) {
    const pl = path[j]!.bc?.pathLen;
    if (pl === null || pl === undefined) continue;
    let below = 0;
    for (let k = 1; k < j; k++) if (!path[k]!.selfIssued) below++;
    if (below > pl)
      throw new Fail("E_PATH_LENGTH", `${path[j]!.label}: path length constraint ${pl} exceeded`);
  }
  const logical = path.slice(1, last).filter((n) => !n.selfIssued).length;
  if (logical > maxI) throw new Fail("E_PATH_LENGTH", `more than ${maxI} intermediate CAs`);
  // EKU on CAs constrains the purposes below them (the de-facto rule all validators apply).
  for (let j = 1; j <= last; j++) {
    if (!ekuAllows(path[j]!.eku, input.purpose)) {
      throw new Fail(
        "E_EKU",
        `${path[j]!.label}: extended key usage does not allow ${PURPOSE_TEXT[input.purpose]}`,
      );
    }
  }
  for (let j = 1; j <= last; j++) {
    if (!path[j]!.nc) continue;
    for (let k = 0; k < j; k++) {
      // Self-issued intermediates are exempt (RFC 5280 §6.1.3 (b)); the leaf never is.
      if (k > 0 && path[k]!.selfIssued) continue;
      checkNameConstraints(path[j]!, path[k]!);
    }
  }
  for (let i = 0; i < last; i++) checkRevocation(path[i]!, path[i + 1]!, crls, at);
}

const SIGNATURE_BUDGET = 2000;

/** Validate a certificate path; see {@link PathInput}. Never throws. */
export function verifyCertificatePath(input: PathInput): PathResult {
  // A validation time that is not a time compares false with every bound: fail closed.
  if (!(input.at instanceof Date) || Number.isNaN(input.at.getTime()))
    return { valid: false, reason: "the validation time is not a time", code: "E_TIME", chain: [] };
  let leaf: Node;
  try {
    const pem = splitPemBundle(input.leaf)[0] ?? input.leaf;
    leaf = read(pem, "end-entity certificate");
  } catch (err) {
    const msg = err instanceof DerError ? err.message : String((err as Error).message);
    return {
      valid: false,
      reason: `certificate cannot be read: ${msg}`,
      code: "E_PARSE",
      chain: [],
    };
  }
  const anchors = readAll(input.trustAnchors, "trust anchor");
  const intermediates = readAll(input.intermediates ?? [], "intermediate CA");
  const crls: Crl[] = [];
  for (const p of (input.crls ?? []).flatMap((c) => splitPemBundle(c, "X509 CRL"))) {
    try {
      crls.push(parseCrl(pemToDer(p, "X509 CRL")));
    } catch (err) {
      return {
        valid: false,
        reason: `CRL cannot be read: ${(err as Error).message}`,
        code: "E_CRL",
        chain: [],
      };
    }
  }
  const at = Math.floor(input.at.getTime() / 1000) * 1000;
  const maxLen = (input.maxIntermediates ?? 8) + 8;

  let budget = SIGNATURE_BUDGET;
  const sigCache = new Map<string, boolean>();
  const signedBy = (child: Node, parent: Node): boolean => {
    const k = `${child.cert.fingerprint}|${parent.cert.fingerprint}`;
    let ok = sigCache.get(k);
    if (ok === undefined) {
      if (budget-- <= 0)
        throw new Fail("E_PATH_BUDGET", "path building gave up: too many candidate issuers");
      ok = verifySignature(
        child.cert.tbs,
        child.cert.signature,
        child.cert.signatureAlgorithm,
        parent.cert.spki,
        parent.cert.spkiAlgorithm,
      );
      sigCache.set(k, ok);
    }
    return ok;
  };
  const couldIssue = (child: Node, parent: Node) =>
    child.issuerKey === parent.subjectKey &&
    !(child.akiKeyId && parent.ski && !bytesEqual(child.akiKeyId, parent.ski));

  let firstFailure: { fail: Fail; path: Node[] } | null = null;
  let found: Node[] | null = null;
  let sawCandidate = false;

  const attempt = (path: Node[]): boolean => {
    try {
      validatePath(path, input, crls, at);
      found = path;
      return true;
    } catch (err) {
      if (!(err instanceof Fail)) throw err;
      if (!firstFailure) firstFailure = { fail: err, path };
      return false;
    }
  };

  const search = (path: Node[], used: Set<string>): boolean => {
    const cur = path[path.length - 1]!;
    for (const a of anchors) {
      if (!couldIssue(cur, a) || used.has(caIdentity(a))) continue;
      sawCandidate = true;
      if (!signedBy(cur, a)) continue;
      if (attempt([...path, a])) return true;
    }
    if (path.length >= maxLen) return false;
    for (const m of intermediates) {
      if (!couldIssue(cur, m) || used.has(caIdentity(m)) || used.has(m.cert.fingerprint)) continue;
      sawCandidate = true;
      if (!signedBy(cur, m)) continue;
      const next = new Set(used);
      next.add(caIdentity(m));
      next.add(m.cert.fingerprint);
      if (search([...path, m], next)) return true;
    }
    return false;
  };

  try {
    // A leaf that is itself trusted needs no path.
    const direct = anchors.find((a) => a.cert.fingerprint === leaf.cert.fingerprint);
    if (direct) {
      checkCommon(direct, at);
      checkLeaf(direct, input.purpose);
      return { valid: true, reason: null, code: null, chain: [summarise(leaf.cert)] };
    }
    search([leaf], new Set([caIdentity(leaf), leaf.cert.fingerprint]));
  } catch (err) {
    if (!(err instanceof Fail)) throw err;
    return { valid: false, reason: err.message, code: err.code, chain: [summarise(leaf.cert)] };
  }
  if (found)
    return {
      valid: true,
      reason: null,
      code: null,
      chain: (found as Node[]).map((n) => summarise(n.cert)),
    };
  const ff = firstFailure as { fail: Fail; path: Node[] } | null;
  if (ff)
    return {
      valid: false,
      reason: ff.fail.message,
      code: ff.fail.code,
      chain: ff.path.map((n) => summarise(n.cert)),
    };
  // No signed path: say whether the issuer was unknown or its key did not match.
  const reason = sawCandidate
    ? "no issuer's key verifies the signature (a certificate with the issuer's name but a different key)"
    : `issuer not found among the trusted and intermediate certificates: ${leaf.cert.issuer.rdns.length ? summarise(leaf.cert).issuer : "(empty)"}`;
  return {
    valid: false,
    reason: leaf.problem ? `${leaf.label}: ${leaf.problem.message}` : reason,
    code: leaf.problem ? leaf.problem.code : sawCandidate ? "E_SIGNATURE" : "E_NO_PATH",
    chain: [summarise(leaf.cert)],
  };
}
