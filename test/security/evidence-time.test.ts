/**
 * Evidence time and algorithm minimums. Before, `report verify` validated the signer at the
 * signing time the signer wrote itself, so an expired or not yet valid signer verified when
 * that time was backdated or postdated; MD5, SHA-1 and RSA-1024 certificates were accepted.
 * The rule now (koffer has no trusted timestamp): the chain must be valid NOW; the signing
 * time may not be in the future, nor before the result's own `startedAt`, nor before the
 * signer certificate's start (5 minutes of clock skew). Every certificate of a path meets
 * BSI TR-02102-1: RSA ≥ 3000 bits, EC on P-256/384/521 or brainpool, no MD5/SHA-1 signature.
 * A failed verification exits 1; certificates are made with the real openssl.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { VerificationError } from "../../src/errors.js";
import { verifyCertificatePath } from "../../src/pki/path.js";
import { signDetached, verifyDetached } from "../../src/report/sign.js";
import { koffer, repoRoot } from "../helpers/cli.js";
import { issue, makeCa, openssl } from "../helpers/openssl.js";
import { makeSigningPki, passphrase, type SigningPki } from "../report/signing-pki.js";

let pki: SigningPki;
let result: Buffer;
const day = 86_400_000;
const leafExtensions =
  "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n";

beforeAll(async () => {
  pki = await makeSigningPki();
  result = await readFile(join(repoRoot, "test/fixtures/reports/compliant.de.json"));
});
afterAll(async () => rm(pki.dir, { recursive: true, force: true }));

function sign(signingTime: Date): Buffer {
  return signDetached(result, { keyPem: pki.ecKey, certPem: pki.ecCert, passphrase, signingTime });
}

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(VerificationError);
    return (error as Error).message;
  }
  throw new Error("verified, but must not");
}

describe("evidence time", () => {
  it("security: a postdated signing time is refused (report verify exits 1)", async () => {
    const file = join(pki.dir, "postdated.json");
    await writeFile(file, result);
    await writeFile(`${file}.p7s`, sign(new Date(Date.now() + 3 * day)));
    const run = await koffer(["report", "verify", file, "--ca", join(pki.dir, "ca.pem")]);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toMatch(/signing time .* is in the future/);
  });

  it("security: a signing time before the result's startedAt is refused", () => {
    const startedAt = new Date(Date.now() + 10 * day);
    const message = refusal(() =>
      verifyDetached(result, sign(new Date(Date.now() + day)), [pki.caPem], {
        now: new Date(Date.now() + 20 * day),
        notBefore: startedAt,
      }),
    );
    expect(message).toMatch(/is before the result was made/);
  });

  it("security: report verify reads startedAt from the signed result itself", async () => {
    const r = JSON.parse(result.toString("utf8")) as { startedAt: string };
    r.startedAt = new Date(Date.now() + 60_000 * 60).toISOString(); // started in an hour
    const bytes = Buffer.from(JSON.stringify(r));
    const file = join(pki.dir, "backdated.json");
    await writeFile(file, bytes);
    await writeFile(
      `${file}.p7s`,
      signDetached(bytes, { keyPem: pki.ecKey, certPem: pki.ecCert, passphrase }),
    );
    const run = await koffer(["report", "verify", file, "--ca", join(pki.dir, "ca.pem")]);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toMatch(/is before the result was made/);
  });

  it("security: a signer expired now does not verify with a signing time inside its validity", () => {
    // Verified as if two years later: the certificate (365 days) has expired by then.
    const message = refusal(() =>
      verifyDetached(result, sign(new Date()), [pki.caPem], {
        now: new Date(Date.now() + 2 * 365 * day),
      }),
    );
    expect(message).toMatch(/not trusted now .*expired/);
  });

  it("security: a signer not yet valid now does not verify with a postdated signing time", () => {
    const message = refusal(() =>
      verifyDetached(result, sign(new Date()), [pki.caPem], {
        now: new Date(Date.now() - 2 * day),
      }),
    );
    expect(message).toMatch(/in the future|not valid before/);
  });
});

describe("TR-02102 algorithm minimums", () => {
  let dir: string;
  beforeAll(async () => {
    dir = pki.dir;
    await openssl(dir, ["genrsa", "-out", "rsa-ca.key", "3072"]);
    await openssl(dir, [
      "req",
      "-x509",
      "-new",
      "-key",
      "rsa-ca.key",
      "-sha256",
      "-days",
      "30",
      "-subj",
      "/O=Test/CN=RSA CA",
      "-out",
      "rsa-ca.pem",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    for (const digest of ["md5", "sha1"]) {
      await openssl(dir, ["genrsa", "-out", `${digest}.key`, "3072"]);
      await openssl(dir, [
        "req",
        "-new",
        "-key",
        `${digest}.key`,
        "-subj",
        `/O=Test/CN=${digest}`,
        "-out",
        `${digest}.csr`,
      ]);
      await writeFile(join(dir, `${digest}.ext`), leafExtensions);
      await openssl(dir, [
        "x509",
        "-req",
        "-in",
        `${digest}.csr`,
        "-CA",
        "rsa-ca.pem",
        "-CAkey",
        "rsa-ca.key",
        "-CAcreateserial",
        "-days",
        "30",
        `-${digest}`,
        "-extfile",
        `${digest}.ext`,
        "-out",
        `${digest}.pem`,
      ]);
    }
    await openssl(dir, ["genrsa", "-out", "rsa1024.key", "1024"]);
    await issue(dir, {
      ca: "ca",
      name: "rsa1024",
      subject: "/O=Test/CN=rsa1024",
      extensions: leafExtensions,
      digest: "sha256",
      existingKey: {},
    });
    await makeCa(dir, "ca-ok", "/O=Test/CN=OK CA", { curve: "P-256" });
  });

  const check = async (leaf: string, anchor: string) =>
    verifyCertificatePath({
      leaf: await readFile(join(dir, leaf), "utf8"),
      trustAnchors: [await readFile(join(dir, anchor), "utf8")],
      at: new Date(),
      purpose: "document",
    });

  it("security: an MD5-signed certificate is refused", async () => {
    const r = await check("md5.pem", "rsa-ca.pem");
    expect(r.valid).toBe(false);
    expect(r.reason).toMatch(/md5WithRSAEncryption .*TR-02102/);
  });

  it("security: a SHA-1-signed certificate is refused", async () => {
    const r = await check("sha1.pem", "rsa-ca.pem");
    expect(r.valid).toBe(false);
    expect(r.reason).toMatch(/sha1WithRSAEncryption .*TR-02102/);
  });

  it("security: an RSA-1024 certificate is refused", async () => {
    const r = await check("rsa1024.pem", "ca.pem");
    expect(r.valid).toBe(false);
    expect(r.reason).toMatch(/RSA-1024 key \(at least 3000 bits required\)/);
  });

  it("security: an RSA-1024 signer cannot sign a report (report verify exits 1)", async () => {
    const file = join(dir, "weak-signer.json");
    await writeFile(file, result);
    await writeFile(
      `${file}.p7s`,
      signDetached(result, {
        keyPem: await readFile(join(dir, "rsa1024.key"), "utf8"),
        certPem: await readFile(join(dir, "rsa1024.pem"), "utf8"),
      }),
    );
    const run = await koffer(["report", "verify", file, "--ca", join(dir, "ca.pem")]);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toMatch(/RSA-1024 key/);
  });

  it("security: SHA-256 on RSA-3072 and P-256 still verify", async () => {
    expect((await check("rsa.pem", "ca.pem")).valid).toBe(true);
    expect((await check("ec.pem", "ca.pem")).valid).toBe(true);
  });
});
