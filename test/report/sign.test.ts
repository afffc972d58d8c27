/**
 * Detached CMS signatures: round trips with ECDSA and RSA keys, cross-checked with the real
 * `openssl cms -verify`, and the tamper cases (changed bytes, foreign CA, wrong signer, expired).
 */
import { createPrivateKey, sign } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import forge from "node-forge";
import { beforeAll, describe, expect, it } from "vitest";
import { InputError, KofferError, VerificationError } from "../../src/errors.js";
import { renderJson } from "../../src/report/render/index.js";
import { signDetached, verifyDetached } from "../../src/report/sign.js";
import { issue } from "../helpers/openssl.js";
import { sampleResult } from "../helpers/result.js";
import { makeSigningPki, passphrase, type SigningPki } from "./signing-pki.js";

let pki: SigningPki;
const content = Buffer.from(renderJson(sampleResult("non-compliant")));
const now = new Date();

beforeAll(async () => {
  pki = await makeSigningPki();
}, 60_000);

function expectVerificationError(fn: () => unknown, pattern: RegExp): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(VerificationError);
  expect((error as VerificationError).exitCode).toBe(1);
  expect((error as Error).message).toMatch(pattern);
}

describe("signDetached / verifyDetached", () => {
  it("ECDSA P-256 with an encrypted PKCS#8 key: round trip, and openssl cms agrees", async () => {
    const sig = signDetached(content, { keyPem: pki.ecKey, certPem: pki.ecCert, passphrase });
    const info = verifyDetached(content, sig, [pki.caPem]);
    expect(info.signer.subject).toContain("CN=Pruefer ECDSA");
    expect(info.contentSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(Math.abs(Date.parse(info.signingTime) - now.getTime())).toBeLessThan(60_000);
    expect(info.chain).toHaveLength(2);

    writeFileSync(join(pki.dir, "r.json"), content);
    writeFileSync(join(pki.dir, "r.p7s"), sig);
    const r = await execa(
      "openssl",
      [
        "cms",
        "-verify",
        "-binary",
        "-inform",
        "DER",
        "-in",
        "r.p7s",
        "-content",
        "r.json",
        "-CAfile",
        "ca.pem",
        "-purpose",
        "any",
        "-out",
        "/dev/null",
      ],
      { cwd: pki.dir, reject: false },
    );
    expect(r.stderr).toContain("Verification successful");
  });

  it("RSA-3072 with an encrypted traditional PEM key: round trip, and openssl cms agrees", async () => {
    const sig = signDetached(content, { keyPem: pki.rsaKey, certPem: pki.rsaCert, passphrase });
    expect(verifyDetached(content, sig, [pki.caPem]).signer.subject).toContain("CN=Pruefer RSA");
    writeFileSync(join(pki.dir, "r.json"), content);
    writeFileSync(join(pki.dir, "rsa.p7s"), sig);
    const r = await execa(
      "openssl",
      [
        "cms",
        "-verify",
        "-binary",
        "-inform",
        "DER",
        "-in",
        "rsa.p7s",
        "-content",
        "r.json",
        "-CAfile",
        "ca.pem",
        "-purpose",
        "any",
        "-out",
        "/dev/null",
      ],
      { cwd: pki.dir, reject: false },
    );
    expect(r.stderr).toContain("Verification successful");
  });

  it("verifies a signature made by openssl cms -sign (interoperability the other way)", async () => {
    writeFileSync(join(pki.dir, "o.json"), content);
    await execa(
      "openssl",
      [
        "cms",
        "-sign",
        "-binary",
        "-md",
        "sha256",
        "-outform",
        "DER",
        "-in",
        "o.json",
        "-signer",
        "ec.pem",
        "-inkey",
        "ec.key",
        "-passin",
        `pass:${passphrase}`,
        "-out",
        "o.p7s",
      ],
      { cwd: pki.dir },
    );
    const { readFileSync } = await import("node:fs");
    const info = verifyDetached(content, readFileSync(join(pki.dir, "o.p7s")), [pki.caPem]);
    expect(info.signer.subject).toContain("CN=Pruefer ECDSA");
  });

  it.each([
    ["start", 0],
    ["middle", Math.floor(content.length / 2)],
    ["end", content.length - 1],
  ])("one changed byte at the %s fails with the reason", (_where, offset) => {
    const sig = signDetached(content, { keyPem: pki.ecKey, certPem: pki.ecCert, passphrase });
    const tampered = Buffer.from(content);
    tampered[offset] = tampered[offset]! ^ 0x01;
    expectVerificationError(
      () => verifyDetached(tampered, sig, [pki.caPem]),
      /bytes differ from the signed bytes/,
    );
  });

  it("an appended byte fails", () => {
    const sig = signDetached(content, { keyPem: pki.ecKey, certPem: pki.ecCert, passphrase });
    expectVerificationError(
      () => verifyDetached(Buffer.concat([content, Buffer.from("\n")]), sig, [pki.caPem]),
      /message digest mismatch/,
    );
  });

  it("a changed signature value fails", () => {
    const sig = signDetached(content, { keyPem: pki.rsaKey, certPem: pki.rsaCert, passphrase });
    const bad = Buffer.from(sig);
    bad[bad.length - 5] = bad[bad.length - 5]! ^ 0xff;
    expectVerificationError(
      () => verifyDetached(content, bad, [pki.caPem]),
      /does not match the signer's public key/,
    );
  });

  it("a foreign CA as trust anchor fails", () => {
    const sig = signDetached(content, { keyPem: pki.ecKey, certPem: pki.ecCert, passphrase });
    expectVerificationError(
      () => verifyDetached(content, sig, [pki.foreignCaPem]),
      /not trusted now/,
    );
  });

  it("a signer not issued by the CA fails", () => {
    const sig = signDetached(content, { keyPem: pki.foreignKey, certPem: pki.foreignCert });
    expectVerificationError(
      () => verifyDetached(content, sig, [pki.caPem]),
      /CN=Pruefer Foreign.*not trusted/,
    );
  });

  it("a signing time after the signer certificate expired is in the future and fails", () => {
    const later = new Date(now.getTime() + 2 * 365 * 86_400_000);
    const sig = signDetached(content, {
      keyPem: pki.ecKey,
      certPem: pki.ecCert,
      passphrase,
      signingTime: later,
    });
    expectVerificationError(
      () => verifyDetached(content, sig, [pki.caPem]),
      /signing time .* is in the future/,
    );
  });

  it("a signing time before the signer certificate was valid fails", () => {
    const earlier = new Date(now.getTime() - 30 * 86_400_000);
    const sig = signDetached(content, {
      keyPem: pki.ecKey,
      certPem: pki.ecCert,
      passphrase,
      signingTime: earlier,
    });
    expectVerificationError(
      () => verifyDetached(content, sig, [pki.caPem]),
      /signing time .* is before the signer certificate was valid/,
    );
  });

  it("a wrong passphrase or a key of another certificate is an input error that names neither secret", () => {
    let error: unknown;
    try {
      signDetached(content, {
        keyPem: pki.ecKey,
        certPem: pki.ecCert,
        passphrase: "Xq9-not-the-secret",
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).not.toContain("Xq9-not-the-secret");
    expect((error as Error).message).not.toContain("PRIVATE KEY");
    expect(() => signDetached(content, { keyPem: pki.foreignKey, certPem: pki.ecCert })).toThrow(
      /does not belong/,
    );
  });

  /** A leaf of the report CA with these extensions (fresh P-384 key), signing `content`. */
  async function signWithLeaf(name: string, extensions: string): Promise<Buffer> {
    await issue(pki.dir, { ca: "ca", name, subject: `/O=Test/CN=${name}`, extensions });
    const read = (f: string) => readFileSync(join(pki.dir, f), "utf8");
    return signDetached(content, { keyPem: read(`${name}.key`), certPem: read(`${name}.pem`) });
  }
  const ids = "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n";

  it("a key certified only for VPN client authentication cannot sign a report (RFC 5280 EKU)", async () => {
    // The laptop under audit holds such a key: it must not vouch for its own result.
    const sig = await signWithLeaf(
      "vpn-client",
      `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n${ids}`,
    );
    expectVerificationError(
      () => verifyDetached(content, sig, [pki.caPem]),
      /extended key usage does not allow signing documents/,
    );
  });

  it("a key whose key usage allows only encipherment cannot sign a report", async () => {
    const sig = await signWithLeaf(
      "encipher-only",
      `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,keyEncipherment\n${ids}`,
    );
    expectVerificationError(
      () => verifyDetached(content, sig, [pki.caPem]),
      /key usage lacks digitalSignature/,
    );
  });

  it("document-signing and S/MIME extended key usages may sign a report", async () => {
    for (const [name, eku] of [
      ["doc-signer", "1.3.6.1.5.5.7.3.36"],
      ["smime-signer", "emailProtection,clientAuth"],
    ] as const) {
      const sig = await signWithLeaf(
        name,
        `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,nonRepudiation\nextendedKeyUsage=${eku}\n${ids}`,
      );
      expect(verifyDetached(content, sig, [pki.caPem]).signer.subject).toContain(`CN=${name}`);
    }
  });

  it("a signing time that is not a time fails verification instead of crashing", () => {
    // Re-sign the signed attributes with the signing time replaced by garbage of the same length.
    const sig = signDetached(content, { keyPem: pki.ecKey, certPem: pki.ecCert, passphrase });
    const { asn1 } = forge;
    const root = asn1.fromDer(forge.util.createBuffer(sig.toString("binary")));
    const kids = (n: forge.asn1.Asn1) => n.value as forge.asn1.Asn1[];
    const signedData = kids(kids(root)[1]!)[0]!;
    const signerInfo = kids(kids(kids(signedData).at(-1)!)[0]!);
    const attrs = kids(signerInfo[3]!);
    const time = attrs.find(
      (a) => asn1.derToOid(kids(a)[0]!.value as string) === "1.2.840.113549.1.9.5",
    );
    kids(kids(time!)[1]!)[0]!.value = "99zz99999999Z";
    const tbs = asn1.toDer(asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SET, true, attrs));
    const key = createPrivateKey({ key: pki.ecKey, passphrase });
    signerInfo[5]!.value = sign("sha256", Buffer.from(tbs.getBytes(), "binary"), key).toString(
      "binary",
    );
    const bad = Buffer.from(asn1.toDer(root).getBytes(), "binary");
    expectVerificationError(
      () => verifyDetached(content, bad, [pki.caPem]),
      /signing time is not a valid time/,
    );
  });

  it("a signature with any one byte changed never crashes (unsigned fields may change; signed ones fail with a reason)", () => {
    const sig = signDetached(content, { keyPem: pki.ecKey, certPem: pki.ecCert, passphrase });
    const crashes: string[] = [];
    for (let i = 0; i < sig.length; i++) {
      for (const value of [0x00, 0x01, 0x05, 0x80, 0xff]) {
        if (sig[i] === value) continue;
        const bad = Buffer.from(sig);
        bad[i] = value;
        try {
          verifyDetached(content, bad, [pki.caPem]);
        } catch (error) {
          if (!(error instanceof KofferError))
            crashes.push(`byte ${i}=${value}: ${(error as Error).message}`);
        }
      }
    }
    expect(crashes.slice(0, 5)).toEqual([]);
  });

  it("garbage instead of a signature is an input error (exit 78)", () => {
    expect(() => verifyDetached(content, Buffer.from("not a signature"), [pki.caPem])).toThrow(
      InputError,
    );
  });
});
