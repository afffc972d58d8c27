/**
 * Detached CMS (PKCS#7) signatures over the exact bytes of a result file (RFC 5652).
 *
 * Why not `forge.pkcs7.createSignedData`: node-forge signs with RSA keys only, and the
 * municipality CAs issue ECDSA P-256/P-384 keys (TR-02102-1). So the SignedData structure is
 * built here with node-forge's ASN.1 codec, and node:crypto (OpenSSL) does the signature
 * arithmetic for RSA and ECDSA alike. Chain validation is src/pki/path.ts (RFC 5280).
 */
import {
  X509Certificate,
  createHash,
  createPrivateKey,
  sign,
  verify,
  type KeyObject,
} from "node:crypto";
import forge from "node-forge";
import { InputError, VerificationError } from "../errors.js";
import { splitPemBundle } from "../pki/certificate.js";
import { verifyCertificatePath } from "../pki/path.js";

const { asn1 } = forge;
type Asn1 = forge.asn1.Asn1;

const OIDS = {
  data: "1.2.840.113549.1.7.1",
  signedData: "1.2.840.113549.1.7.2",
  contentType: "1.2.840.113549.1.9.3",
  messageDigest: "1.2.840.113549.1.9.4",
  signingTime: "1.2.840.113549.1.9.5",
  sha256: "2.16.840.1.101.3.4.2.1",
  rsaEncryption: "1.2.840.113549.1.1.1",
  sha256WithRSA: "1.2.840.113549.1.1.11",
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
} as const;

const C = asn1.Class;
const T = asn1.Type;

function seq(...value: Asn1[]): Asn1 {
  return asn1.create(C.UNIVERSAL, T.SEQUENCE, true, value);
}
function set(...value: Asn1[]): Asn1 {
  return asn1.create(C.UNIVERSAL, T.SET, true, value);
}
function oid(id: string): Asn1 {
  return asn1.create(C.UNIVERSAL, T.OID, false, asn1.oidToDer(id).getBytes());
}
function int(n: number): Asn1 {
  return asn1.create(C.UNIVERSAL, T.INTEGER, false, asn1.integerToDer(n).getBytes());
}
function octets(bytes: Buffer): Asn1 {
  return asn1.create(C.UNIVERSAL, T.OCTETSTRING, false, bytes.toString("binary"));
}
function algorithm(id: string, nullParams: boolean): Asn1 {
  return nullParams ? seq(oid(id), asn1.create(C.UNIVERSAL, T.NULL, false, "")) : seq(oid(id));
}
function toDer(node: Asn1): Buffer {
  return Buffer.from(asn1.toDer(node).getBytes(), "binary");
}
function fromDer(bytes: Buffer | Uint8Array, what: string): Asn1 {
  try {
    // The options object is what node-forge accepts at run time; its typings know only a boolean.
    const options = { strict: true, parseAllBytes: true, decodeBitStrings: false };
    return asn1.fromDer(
      forge.util.createBuffer(Buffer.from(bytes).toString("binary")),
      options as unknown as boolean,
    );
  } catch (error) {
    throw new InputError(`${what} is not valid DER: ${(error as Error).message}`);
  }
}
function children(node: Asn1 | undefined): Asn1[] {
  return Array.isArray(node?.value) ? (node.value as Asn1[]) : [];
}
function oidOf(node: Asn1 | undefined): string {
  if (!node || typeof node.value !== "string") return "";
  try {
    return asn1.derToOid(node.value);
  } catch (error) {
    // node-forge throws a plain Error for an OID longer than 53 bits: hostile input, not a crash.
    throw new InputError(
      `signature holds an invalid object identifier: ${(error as Error).message}`,
    );
  }
}
function bytesOf(node: Asn1 | undefined): Buffer {
  return Buffer.from(node && typeof node.value === "string" ? node.value : "", "binary");
}

function certificateDer(pem: string): Buffer {
  return Buffer.from(forge.pem.decode(pem)[0]?.body ?? "", "binary");
}

/** Issuer Name and serialNumber nodes of a certificate, straight from its DER. */
function issuerAndSerial(der: Buffer): { issuer: Asn1; serial: Asn1 } {
  const tbs = children(children(fromDer(der, "certificate"))[0]);
  const offset = tbs[0]?.tagClass === C.CONTEXT_SPECIFIC ? 1 : 0;
  const serial = tbs[offset];
  const issuer = tbs[offset + 2];
  if (!serial || !issuer) throw new InputError("certificate has no issuer or serial number");
  return { issuer, serial };
}

function utcTime(date: Date): Asn1 {
  // UTCTime until 2049, GeneralizedTime after (RFC 5652 §11.3).
  return date.getUTCFullYear() < 2050
    ? asn1.create(C.UNIVERSAL, T.UTCTIME, false, asn1.dateToUtcTime(date))
    : asn1.create(C.UNIVERSAL, T.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(date));
}

export interface SignOptions {
  /** Private key, PEM: PKCS#8 (encrypted or not), PKCS#1 RSA or SEC1 EC, encrypted or not. */
  keyPem: string;
  /** Signer certificate, PEM; further certificates in the same text are included as the chain. */
  certPem: string;
  passphrase?: string;
  /** The signing time recorded in the signature; defaults to now. */
  signingTime?: Date;
}

function loadKey(keyPem: string, passphrase: string | undefined): KeyObject {
  try {
    return createPrivateKey({ key: keyPem, format: "pem", passphrase: passphrase ?? "" });
  } catch (error) {
    // Never echo the key or the passphrase: OpenSSL's message names neither.
    const reason =
      (error as { code?: string }).code === "ERR_MISSING_PASSPHRASE"
        ? "the key is encrypted and no passphrase was given"
        : "the key cannot be read (wrong passphrase or unsupported format)";
    throw new InputError(`signing key: ${reason}`);
  }
}

/**
 * Sign `content` (the exact bytes of a result file) and return a detached CMS SignedData, DER.
 * RSA keys sign with PKCS#1 v1.5 / SHA-256, EC keys with ECDSA / SHA-256.
 * @throws InputError when the key or certificate cannot be used, or they do not belong together.
 */
export function signDetached(content: Uint8Array, options: SignOptions): Buffer {
  const key = loadKey(options.keyPem, options.passphrase);
  const pems = splitPemBundle(options.certPem);
  if (pems.length === 0) throw new InputError("signer certificate: no PEM CERTIFICATE block found");
  const ders = pems.map(certificateDer);
  const signer = new X509Certificate(ders[0]!);
  if (!signer.checkPrivateKey(key))
    throw new InputError("the signing key does not belong to the signer certificate");
  const keyType = key.asymmetricKeyType;
  if (keyType !== "rsa" && keyType !== "ec")
    throw new InputError(`signing key type ${String(keyType)} is not supported (RSA or ECDSA)`);

  const digest = createHash("sha256").update(content).digest();
  const attrs = [
    seq(oid(OIDS.contentType), set(oid(OIDS.data))),
    seq(oid(OIDS.signingTime), set(utcTime(options.signingTime ?? new Date()))),
    seq(oid(OIDS.messageDigest), set(octets(digest))),
  ];
  // The signature covers the attributes DER-encoded as a SET (RFC 5652 §5.4), sorted as DER wants.
  const sortedAttrs = attrs
    .map((a) => ({ a, der: toDer(a) }))
    .sort((x, y) => Buffer.compare(x.der, y.der))
    .map((x) => x.a);
  const signature = sign("sha256", toDer(set(...sortedAttrs)), key);
  const { issuer, serial } = issuerAndSerial(ders[0]!);

  const signerInfo = seq(
    int(1),
    seq(issuer, serial),
    algorithm(OIDS.sha256, false),
    asn1.create(C.CONTEXT_SPECIFIC, 0, true, sortedAttrs),
    keyType === "rsa"
      ? algorithm(OIDS.rsaEncryption, true)
      : algorithm(OIDS.ecdsaWithSha256, false),
    octets(signature),
  );
  const signedData = seq(
    int(1),
    set(algorithm(OIDS.sha256, false)),
    seq(oid(OIDS.data)),
    asn1.create(
      C.CONTEXT_SPECIFIC,
      0,
      true,
      ders.map((d) => fromDer(d, "certificate")),
    ),
    set(signerInfo),
  );
  return toDer(seq(oid(OIDS.signedData), asn1.create(C.CONTEXT_SPECIFIC, 0, true, [signedData])));
}

/** Clocks of signer and verifier may differ by this much. */
const clockSkewMs = 5 * 60 * 1000;

/**
 * The times a signature is judged at. koffer has no trusted timestamp (RFC 3161), so:
 * the signer's certificate chain must be valid at `now`; the signing time may not be later
 * than `now` nor earlier than `notBefore` (the signed result's own `startedAt`) or the signer
 * certificate's own start, each with five minutes of clock skew.
 */
export interface VerifyTimeOptions {
  /** The verifier's clock (default: the current time). */
  now?: Date;
  /** The earliest plausible signing time: the signed result's `startedAt`. */
  notBefore?: Date;
}

/** Who signed and when, as `verifyDetached` found it. */
export interface SignatureInfo {
  signer: {
    subject: string;
    issuer: string;
    serialNumber: string;
    notBefore: string;
    notAfter: string;
  };
  signingTime: string;
  /** SHA-256 (hex) of the signed bytes. */
  contentSha256: string;
  /** Subjects of the validated chain, signer first, trust anchor last. */
  chain: string[];
}

function fail(code: string, reason: string): never {
  throw new VerificationError(code, `signature verification failed: ${reason}`);
}

/** Accept a signature as DER or as PEM ("-----BEGIN PKCS7-----" / "CMS"). */
function signatureBytes(signature: Uint8Array): Buffer {
  const text = Buffer.from(signature).toString("latin1");
  if (text.startsWith("-----BEGIN")) {
    const block = forge.pem.decode(text)[0];
    if (!block) throw new InputError("signature: PEM without a block");
    return Buffer.from(block.body, "binary");
  }
  return Buffer.from(signature);
}

/**
 * Verify a detached CMS signature over `content`: the message digest over the bytes, the
 * signature over the signed attributes, the signer's chain to one of `caPems` valid now, and
 * the signing time within its bounds ({@link VerifyTimeOptions}).
 * @throws VerificationError (exit 1) with the reason; InputError (exit 78) for unreadable input.
 */
export function verifyDetached(
  content: Uint8Array,
  signature: Uint8Array,
  caPems: string[],
  options: VerifyTimeOptions = {},
): SignatureInfo {
  const root = fromDer(signatureBytes(signature), "signature");
  const [type, wrapped] = children(root);
  if (oidOf(type) !== OIDS.signedData) throw new InputError("signature is not a CMS SignedData");
  const sd = children(children(wrapped)[0]);
  const encap = children(sd[2]);
  if (oidOf(encap[0]) !== OIDS.data) throw new InputError("signature does not sign plain data");
  if (encap.length > 1) throw new InputError("signature is not detached (it embeds content)");
  const certNode = sd.find((n) => n.tagClass === C.CONTEXT_SPECIFIC && n.type === 0);
  const certs = children(certNode).map((c) => toDer(c));
  const signerInfos = children(sd[sd.length - 1]);
  if (signerInfos.length !== 1)
    fail("E_SIGNATURE_SIGNERS", `expected one signer, found ${signerInfos.length}`);
  const si = children(signerInfos[0]);
  // version, sid, digestAlgorithm, [0] signedAttrs, signatureAlgorithm, signature (RFC 5652 §5.3)
  if (si.length < 6) fail("E_SIGNATURE_FORMAT", "the SignerInfo is incomplete");
  const sid = toDer(si[1]!);
  const digestAlg = oidOf(children(si[2])[0]);
  if (digestAlg !== OIDS.sha256)
    fail("E_SIGNATURE_ALGORITHM", `digest algorithm ${digestAlg} is not SHA-256`);
  const signedAttrsNode = si[3];
  if (signedAttrsNode?.tagClass !== C.CONTEXT_SPECIFIC || signedAttrsNode.type !== 0)
    fail("E_SIGNATURE_FORMAT", "no signed attributes");
  const attrs = new Map<string, Asn1 | undefined>();
  for (const a of children(signedAttrsNode)) {
    const [id, values] = children(a);
    attrs.set(oidOf(id), children(values)[0]);
  }
  const sigValue = bytesOf(si[5]);

  // 1. The bytes: a changed byte changes the digest.
  const digest = createHash("sha256").update(content).digest();
  const signedDigest = bytesOf(attrs.get(OIDS.messageDigest));
  if (!digest.equals(signedDigest))
    fail(
      "E_SIGNATURE_DIGEST",
      "the file's bytes differ from the signed bytes (message digest mismatch)",
    );
  if (oidOf(attrs.get(OIDS.contentType)) !== OIDS.data)
    fail("E_SIGNATURE_FORMAT", "signed content type is not data");

  // 2. The signer: the certificate named by issuer and serial number.
  const signerDer = certs.find((d) => {
    const { issuer, serial } = issuerAndSerial(d);
    return toDer(seq(issuer, serial)).equals(sid);
  });
  if (!signerDer)
    fail("E_SIGNATURE_SIGNER", "the signer's certificate is not included in the signature");
  let signer: X509Certificate;
  try {
    signer = new X509Certificate(signerDer);
  } catch {
    fail("E_SIGNATURE_SIGNER", "the signer's certificate cannot be read");
  }

  // 3. The signature over the signed attributes, re-tagged as a SET.
  const signedAttrs = toDer(set(...children(signedAttrsNode)));
  let ok = false;
  try {
    ok = verify("sha256", signedAttrs, signer.publicKey, sigValue);
  } catch {
    ok = false;
  }
  if (!ok) fail("E_SIGNATURE_INVALID", "the signature does not match the signer's public key");

  // 4. The signing time, and the chain to the trusted CA at that time.
  const timeNode = attrs.get(OIDS.signingTime);
  if (!timeNode || typeof timeNode.value !== "string") fail("E_SIGNATURE_TIME", "no signing time");
  const signingTime =
    timeNode.type === T.UTCTIME
      ? asn1.utcTimeToDate(timeNode.value)
      : asn1.generalizedTimeToDate(timeNode.value);
  if (Number.isNaN(signingTime.getTime()))
    fail("E_SIGNATURE_TIME", "the signing time is not a valid time");
  // The signing time is the signer's own claim: it only bounds, it never decides validity.
  const now = options.now ?? new Date();
  if (signingTime.getTime() > now.getTime() + clockSkewMs)
    fail(
      "E_SIGNATURE_TIME",
      `the signing time ${signingTime.toISOString()} is in the future (now ${now.toISOString()})`,
    );
  if (options.notBefore && signingTime.getTime() < options.notBefore.getTime() - clockSkewMs)
    fail(
      "E_SIGNATURE_TIME",
      `the signing time ${signingTime.toISOString()} is before the result was made (${options.notBefore.toISOString()})`,
    );
  if (signingTime.getTime() < new Date(signer.validFrom).getTime() - clockSkewMs)
    fail(
      "E_SIGNATURE_TIME",
      `the signing time ${signingTime.toISOString()} is before the signer certificate was valid (${new Date(signer.validFrom).toISOString()})`,
    );
  const anchors = caPems.flatMap((p) => splitPemBundle(p));
  if (anchors.length === 0) throw new InputError("CA file: no PEM CERTIFICATE block found");
  const toPem = (d: Buffer) =>
    forge.pem.encode({ type: "CERTIFICATE", body: d.toString("binary") });
  const path = verifyCertificatePath({
    leaf: toPem(signerDer),
    intermediates: certs.filter((d) => !d.equals(signerDer)).map(toPem),
    trustAnchors: anchors,
    // Without a trusted timestamp the signer must be valid now: an expired or not yet valid
    // signer cannot be made to verify by backdating or postdating its own signing time.
    at: now,
    // Not "any": a key certified only for, say, VPN client authentication (which sits on the
    // very laptop being audited) must not be able to sign that laptop's report.
    purpose: "document",
  });
  if (!path.valid)
    fail(
      "E_SIGNATURE_CHAIN",
      `the signer certificate (${signer.subject.replace(/\n/g, ", ")}) is not trusted now (${now.toISOString()}): ${path.reason ?? "no path to the CA"}`,
    );

  return {
    signer: {
      subject: signer.subject.replace(/\n/g, ", "),
      issuer: signer.issuer.replace(/\n/g, ", "),
      serialNumber: signer.serialNumber,
      notBefore: new Date(signer.validFrom).toISOString(),
      notAfter: new Date(signer.validTo).toISOString(),
    },
    signingTime: signingTime.toISOString(),
    contentSha256: digest.toString("hex"),
    chain: path.chain.map((c) => c.subject),
  };
}
