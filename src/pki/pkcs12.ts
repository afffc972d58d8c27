/**
 * PKCS#12 (RFC 7292) in the modern form OpenSSL 3 writes: PBES2/PBKDF2/AES-256-CBC for the key
 * and certificates, HMAC-SHA-256 integrity. Written by hand because node-forge's PKCS#12
 * builder only accepts its own RSA key objects (our CA key is ECDSA P-384); private-key
 * encryption itself is OpenSSL's (node:crypto `export({ cipher, passphrase })`).
 * The legacy RC2/3DES-SHA1 PBEs are refused with a hint to re-export.
 */
import {
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  pbkdf2Sync,
  randomBytes,
  timingSafeEqual,
  type KeyObject,
} from "node:crypto";
import {
  DerError,
  Tag,
  decodeInteger,
  decodeOid,
  der,
  derToPem,
  expect,
  isContext,
  parseDer,
  pemToDer,
  tlv,
  type DerNode,
} from "./der.js";

const P7_DATA = "1.2.840.113549.1.7.1";
const P7_ENCRYPTED = "1.2.840.113549.1.7.6";
const KEY_BAG = "1.2.840.113549.1.12.10.1.1";
const SHROUDED_KEY_BAG = "1.2.840.113549.1.12.10.1.2";
const CERT_BAG = "1.2.840.113549.1.12.10.1.3";
const X509_CERT = "1.2.840.113549.1.9.22.1";
const FRIENDLY_NAME = "1.2.840.113549.1.9.20";
const LOCAL_KEY_ID = "1.2.840.113549.1.9.21";
const PBES2 = "1.2.840.113549.1.5.13";
const PBKDF2 = "1.2.840.113549.1.5.12";

const HASHES: Record<string, { name: string; u: number; v: number }> = {
  "1.3.14.3.2.26": { name: "sha1", u: 20, v: 64 },
  "2.16.840.1.101.3.4.2.1": { name: "sha256", u: 32, v: 64 },
  "2.16.840.1.101.3.4.2.2": { name: "sha384", u: 48, v: 128 },
  "2.16.840.1.101.3.4.2.3": { name: "sha512", u: 64, v: 128 },
};
const PRFS: Record<string, string> = {
  "1.2.840.113549.2.7": "sha1",
  "1.2.840.113549.2.9": "sha256",
  "1.2.840.113549.2.10": "sha384",
  "1.2.840.113549.2.11": "sha512",
};
const CIPHERS: Record<string, { name: string; keyLen: number }> = {
  "2.16.840.1.101.3.4.1.2": { name: "aes-128-cbc", keyLen: 16 },
  "2.16.840.1.101.3.4.1.22": { name: "aes-192-cbc", keyLen: 24 },
  "2.16.840.1.101.3.4.1.42": { name: "aes-256-cbc", keyLen: 32 },
};

/** RFC 7292 Appendix B.2 key derivation (used here only for the MAC key, ID 3). */
function pkcs12Kdf(
  hashOid: string,
  password: string,
  salt: Uint8Array,
  id: number,
  iter: number,
  n: number,
): Buffer {
  const h = HASHES[hashOid];
  if (!h) throw new DerError("unsupported PKCS#12 MAC hash");
  const { u, v } = h;
  const pw = Buffer.alloc(password.length * 2 + 2);
  for (let i = 0; i < password.length; i++) pw.writeUInt16BE(password.charCodeAt(i), i * 2);
  const fill = (src: Uint8Array) => {
    if (src.length === 0) return Buffer.alloc(0);
    const len = v * Math.ceil(src.length / v);
    const out = Buffer.alloc(len);
    for (let i = 0; i < len; i++) out[i] = src[i % src.length]!;
    return out;
  };
  const D = Buffer.alloc(v, id);
  const I = Buffer.concat([fill(salt), fill(pw)]);
  const out: Buffer[] = [];
  for (let produced = 0; produced < n; produced += u) {
    let A = createHash(h.name).update(D).update(I).digest();
    for (let k = 1; k < iter; k++) A = createHash(h.name).update(A).digest();
    out.push(A);
    const B = fill(A);
    for (let j = 0; j < I.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = I[j + k]! + B[k]! + carry;
        I[j + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return Buffer.concat(out).subarray(0, n);
}

function bmp(s: string): Uint8Array {
  const b = Buffer.alloc(s.length * 2);
  for (let i = 0; i < s.length; i++) b.writeUInt16BE(s.charCodeAt(i), i * 2);
  return b;
}

/** Build a PKCS#12 file holding one private key and its certificate chain. */
export function createPkcs12(
  key: KeyObject,
  certPems: string[],
  passphrase: string,
  friendlyName: string,
): Uint8Array {
  const certs = certPems.map((p) => pemToDer(p, "CERTIFICATE"));
  const localKeyId = createHash("sha1").update(certs[0]!).digest();
  const attrs = der.set(
    der.seq(der.oid(FRIENDLY_NAME), der.set(tlv(0x1e, bmp(friendlyName)))),
    der.seq(der.oid(LOCAL_KEY_ID), der.set(der.octets(localKeyId))),
  );
  const certBags = certs.map((c, i) =>
    der.seq(
      der.oid(CERT_BAG),
      der.ctx(0, der.seq(der.oid(X509_CERT), der.ctx(0, der.octets(c)))),
      ...(i === 0 ? [attrs] : []),
    ),
  );
  const epki = new Uint8Array(
    key.export({ type: "pkcs8", format: "der", cipher: "aes-256-cbc", passphrase }) as Buffer,
  );
  const keyBag = der.seq(der.oid(SHROUDED_KEY_BAG), der.ctx(0, epki), attrs);
  const dataInfo = (content: Uint8Array) =>
    der.seq(der.oid(P7_DATA), der.ctx(0, der.octets(content)));
  const authSafe = der.seq(dataInfo(der.seq(...certBags)), dataInfo(der.seq(keyBag)));
  const salt = randomBytes(16);
  const iter = 2048;
  const macKey = pkcs12Kdf("2.16.840.1.101.3.4.2.1", passphrase, salt, 3, iter, 32);
  const mac = createHmac("sha256", macKey).update(authSafe).digest();
  const macData = der.seq(
    der.seq(der.seq(der.oid("2.16.840.1.101.3.4.2.1"), der.null()), der.octets(mac)),
    der.octets(salt),
    der.int(iter),
  );
  return der.seq(der.int(3), dataInfo(authSafe), macData);
}

function pbes2Decrypt(alg: DerNode, data: Uint8Array, passphrase: string): Buffer {
  const oid = decodeOid(expect(alg.children[0], Tag.OID, "algorithm"));
  if (oid !== PBES2) {
    throw new DerError(
      "legacy PKCS#12 encryption (RC2/3DES); re-export with: openssl pkcs12 -export -keypbe AES-256-CBC -certpbe AES-256-CBC -macalg sha256",
    );
  }
  const params = alg.children[1]!;
  const kdf = params.children[0]!;
  if (decodeOid(kdf.children[0]!) !== PBKDF2) throw new DerError("PBES2 without PBKDF2");
  const kp = kdf.children[1]!.children;
  const salt = expect(kp[0], Tag.OCTET_STRING, "PBKDF2 salt").value;
  const iter = iterationCount(decodeInteger(expect(kp[1], Tag.INTEGER, "PBKDF2 iterations")));
  let prf = "sha1";
  for (const extra of kp.slice(2)) {
    if (extra.tag === Tag.SEQUENCE) prf = PRFS[decodeOid(extra.children[0]!)] ?? "unknown";
  }
  const enc = params.children[1]!;
  const cipher = CIPHERS[decodeOid(enc.children[0]!)];
  if (!cipher || prf === "unknown") throw new DerError("unsupported PBES2 cipher or PRF");
  const iv = expect(enc.children[1], Tag.OCTET_STRING, "IV").value;
  const key = pbkdf2Sync(Buffer.from(passphrase, "utf8"), salt, iter, cipher.keyLen, prf);
  const d = createDecipheriv(cipher.name, key, iv);
  return Buffer.concat([d.update(data), d.final()]);
}

/**
 * Iteration counts come from the file: bound them, or a crafted file makes koffer spin for
 * hours. 10 million is far above any real exporter (OpenSSL 3: 2048, current guidance: 600,000).
 */
const maxIterations = 10_000_000;

function iterationCount(value: bigint | number): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1 || n > maxIterations) {
    throw new DerError(
      `Expected an iteration count from 1 to ${maxIterations}, found ${String(value)}`,
    );
  }
  return n;
}

export interface Pkcs12Contents {
  key: KeyObject;
  /** Certificates in PEM, the one matching the key first. */
  certificates: string[];
}

/** Open a PKCS#12 file. Throws DerError on a wrong passphrase or unsupported format. */
export function readPkcs12(bytes: Uint8Array, passphrase: string): Pkcs12Contents {
  const pfx = expect(parseDer(bytes), Tag.SEQUENCE, "PFX");
  const authSafeInfo = pfx.children[1]!;
  if (decodeOid(authSafeInfo.children[0]!) !== P7_DATA)
    throw new DerError("PKCS#12 not password-integrity mode");
  const authSafe = expect(
    authSafeInfo.children[1]?.children[0],
    Tag.OCTET_STRING,
    "authSafe content",
  ).value;
  const macData = pfx.children[2];
  if (macData) {
    const digestInfo = macData.children[0]!;
    const hashOid = decodeOid(digestInfo.children[0]!.children[0]!);
    const expected = digestInfo.children[1]!.value;
    const salt = macData.children[1]!.value;
    const iter = macData.children[2] ? iterationCount(decodeInteger(macData.children[2])) : 1;
    const h = HASHES[hashOid];
    if (!h) throw new DerError("unsupported PKCS#12 MAC hash");
    const macKey = pkcs12Kdf(hashOid, passphrase, salt, 3, iter, h.u);
    const mac = createHmac(h.name, macKey).update(authSafe).digest();
    if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) {
      throw new DerError("PKCS#12 integrity check failed: wrong passphrase or damaged file");
    }
  }
  const bags: DerNode[] = [];
  for (const ci of parseDer(authSafe).children) {
    const type = decodeOid(ci.children[0]!);
    if (type === P7_DATA) {
      bags.push(
        ...parseDer(expect(ci.children[1]!.children[0], Tag.OCTET_STRING, "SafeContents").value)
          .children,
      );
    } else if (type === P7_ENCRYPTED) {
      const eci = ci.children[1]!.children[0]!.children[1]!;
      const encContent = eci.children[2]!;
      const data = encContent.constructed
        ? Buffer.concat(encContent.children.map((c) => c.value))
        : Buffer.from(encContent.value);
      bags.push(...parseDer(pbes2Decrypt(eci.children[1]!, data, passphrase)).children);
    } else {
      throw new DerError("public-key-protected PKCS#12 content is not supported");
    }
  }
  let key: KeyObject | null = null;
  const certs: string[] = [];
  for (const bag of bags) {
    const id = decodeOid(bag.children[0]!);
    const value = bag.children[1]!.children[0]!;
    if (id === SHROUDED_KEY_BAG) {
      try {
        key = createPrivateKey({
          key: Buffer.from(value.raw),
          format: "der",
          type: "pkcs8",
          passphrase,
        });
      } catch {
        // OpenSSL's own decrypt fails for legacy PBEs: explain.
        pbes2Decrypt(value.children[0]!, value.children[1]!.value, passphrase);
        throw new DerError("cannot decrypt the private key in the PKCS#12 file");
      }
    } else if (id === KEY_BAG) {
      key = createPrivateKey({ key: Buffer.from(value.raw), format: "der", type: "pkcs8" });
    } else if (id === CERT_BAG && decodeOid(value.children[0]!) === X509_CERT) {
      const certDer = value.children[1];
      if (certDer && isContext(certDer, 0))
        certs.push(derToPem(certDer.children[0]!.value, "CERTIFICATE"));
    }
  }
  if (!key) throw new DerError("no private key in the PKCS#12 file");
  // The certificate for the key first.
  const spki = createPublicKey(key).export({ type: "spki", format: "der" });
  certs.sort((a, b) => Number(matches(b, spki)) - Number(matches(a, spki)));
  return { key, certificates: certs };
}

function matches(pem: string, spki: Buffer): boolean {
  try {
    return createPublicKey(pem).export({ type: "spki", format: "der" }).equals(spki);
  } catch {
    return false;
  }
}
