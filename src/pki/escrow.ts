/**
 * Recovery-key escrow (DISK-05): the LUKS recovery key is encrypted to the escrow certificate
 * as CMS EnvelopedData (RFC 5652) — RSAES-OAEP with SHA-256 (RFC 4055) for the key transport,
 * AES-256-CBC for the content — so `openssl cms -decrypt` can open it as well as
 * `koffer escrow open`. node-forge's pkcs7 only does RSAES-PKCS1-v1_5 key transport, which
 * TR-02102-1 no longer recommends, so the structure is written here. The escrow certificate
 * must carry an RSA key (≥ 3000 bits); ECDH (KeyAgreeRecipientInfo) is not implemented.
 */
import {
  constants,
  createCipheriv,
  createDecipheriv,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  type KeyObject,
} from "node:crypto";
import { DerError, Tag, decodeOid, der, derToPem, expect, parseDer, pemToDer } from "./der.js";
import { OID, describeKey, parseCertificate, publicKeyOf } from "./x509.js";

const ENVELOPED_DATA = "1.2.840.113549.1.7.3";
const DATA = "1.2.840.113549.1.7.1";
const RSAES_OAEP = "1.2.840.113549.1.1.7";
const SHA256 = "2.16.840.1.101.3.4.2.1";
const AES256_CBC = "2.16.840.1.101.3.4.1.42";

/** Encrypt `secret` to the escrow certificate; returns a PEM "CMS" block. */
export function escrowRecoveryKey(secret: Buffer | string, escrowCertPem: string): string {
  const cert = parseCertificate(pemToDer(escrowCertPem, "CERTIFICATE"));
  const key = describeKey(cert.spki, cert.spkiAlgorithm);
  if (cert.spkiAlgorithm.oid !== OID.rsaEncryption || key.keyBits < 3000) {
    throw new DerError(
      `escrow certificate needs an RSA key of at least 3000 bits (has ${key.keyType} ${key.keyBits})`,
    );
  }
  const cek = randomBytes(32);
  const iv = randomBytes(16);
  const c = createCipheriv("aes-256-cbc", cek, iv);
  const content = Buffer.concat([
    c.update(typeof secret === "string" ? Buffer.from(secret, "utf8") : secret),
    c.final(),
  ]);
  const encryptedKey = publicEncrypt(
    { key: publicKeyOf(cert.spki), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" },
    cek,
  );
  cek.fill(0);
  const sha256 = der.seq(der.oid(SHA256));
  const oaepParams = der.seq(der.ctx(0, sha256), der.ctx(1, der.seq(der.oid(OID.mgf1), sha256)));
  const ktri = der.seq(
    der.int(0),
    der.seq(cert.issuer.raw, der.uint(cert.serial)),
    der.seq(der.oid(RSAES_OAEP), oaepParams),
    der.octets(encryptedKey),
  );
  const eci = der.seq(
    der.oid(DATA),
    der.seq(der.oid(AES256_CBC), der.octets(iv)),
    der.ctxPrim(0, content),
  );
  const enveloped = der.seq(der.int(0), der.set(ktri), eci);
  return derToPem(der.seq(der.oid(ENVELOPED_DATA), der.ctx(0, enveloped)), "CMS");
}

/** Decrypt an escrow record with the escrow private key. */
export function openEscrow(cmsPem: string, privateKey: KeyObject): Buffer {
  const label = /-----BEGIN PKCS7-----/.test(cmsPem) ? "PKCS7" : "CMS";
  const ci = expect(parseDer(pemToDer(cmsPem, label)), Tag.SEQUENCE, "ContentInfo");
  if (decodeOid(ci.children[0]!) !== ENVELOPED_DATA) throw new DerError("not CMS EnvelopedData");
  const env = ci.children[1]!.children[0]!;
  let i = 1;
  if (env.children[i]?.cls === 2) i++; // originatorInfo
  const recipients = expect(env.children[i++], Tag.SET, "recipientInfos").children;
  const eci = expect(env.children[i], Tag.SEQUENCE, "EncryptedContentInfo");
  const algOid = decodeOid(eci.children[1]!.children[0]!);
  if (algOid !== AES256_CBC)
    throw new DerError("unsupported content encryption (AES-256-CBC expected)");
  const iv = eci.children[1]!.children[1]!.value;
  const encNode = eci.children[2]!;
  const encrypted = encNode.constructed
    ? Buffer.concat(encNode.children.map((n) => n.value))
    : Buffer.from(encNode.value);
  for (const r of recipients) {
    if (r.tag !== Tag.SEQUENCE || r.cls !== 0) continue; // only KeyTransRecipientInfo
    const kea = decodeOid(r.children[2]!.children[0]!);
    const ek = r.children[3]!.value;
    try {
      const cek =
        kea === RSAES_OAEP
          ? privateDecrypt(
              { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" },
              ek,
            )
          : privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_PADDING }, ek);
      const d = createDecipheriv("aes-256-cbc", cek, iv);
      return Buffer.concat([d.update(encrypted), d.final()]);
    } catch {
      // not this recipient
    }
  }
  throw new DerError("the escrow key does not open this record");
}
