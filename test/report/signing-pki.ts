/**
 * A throwaway PKI made with the real openssl: a municipality CA, a foreign CA, an ECDSA signer
 * with an encrypted PKCS#8 key, an RSA-3072 signer with an encrypted traditional PEM key, and a
 * signer certificate issued by the foreign CA. Built once per test file in a temp dir.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { issue, makeCa, openssl } from "../helpers/openssl.js";
import { tempDir } from "../helpers/tmp.js";

export const passphrase = "Koffer-Pass-7f3a91";

export interface SigningPki {
  dir: string;
  caPem: string;
  foreignCaPem: string;
  ecKey: string;
  ecCert: string;
  rsaKey: string;
  rsaCert: string;
  foreignKey: string;
  foreignCert: string;
  files: Record<
    | "ca"
    | "foreignCa"
    | "ecKey"
    | "ecCert"
    | "rsaKey"
    | "rsaCert"
    | "foreignKey"
    | "foreignCert"
    | "pass",
    string
  >;
}

const leafExtensions =
  "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n";

async function issueSigner(dir: string, ca: string, name: string, cn: string): Promise<void> {
  await issue(dir, {
    ca,
    name,
    subject: `/O=Test/CN=${cn}`,
    extensions: leafExtensions,
    digest: "sha256",
    existingKey: { passphrase },
  });
}

export async function makeSigningPki(): Promise<SigningPki> {
  const dir = tempDir("sign");
  await makeCa(dir, "ca", "/O=Test/CN=Meerane Report CA", { curve: "P-256" });
  await makeCa(dir, "foreign-ca", "/O=Test/CN=Foreign CA", { curve: "P-256" });
  await openssl(dir, [
    "genpkey",
    "-algorithm",
    "EC",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-aes-256-cbc",
    "-pass",
    `pass:${passphrase}`,
    "-out",
    "ec.key",
  ]);
  await openssl(dir, [
    "genrsa",
    "-aes256",
    "-traditional",
    "-passout",
    `pass:${passphrase}`,
    "-out",
    "rsa.key",
    "3072",
  ]);
  await openssl(dir, [
    "genpkey",
    "-algorithm",
    "EC",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-out",
    "foreign.key",
  ]);
  await issueSigner(dir, "ca", "ec", "Pruefer ECDSA");
  await issueSigner(dir, "ca", "rsa", "Pruefer RSA");
  await issueSigner(dir, "foreign-ca", "foreign", "Pruefer Foreign");
  writeFileSync(join(dir, "pass.txt"), passphrase + "\n", { mode: 0o600 });
  const f = (n: string) => join(dir, n);
  const r = (n: string) => readFileSync(f(n), "utf8");
  return {
    dir,
    caPem: r("ca.pem"),
    foreignCaPem: r("foreign-ca.pem"),
    ecKey: r("ec.key"),
    ecCert: r("ec.pem"),
    rsaKey: r("rsa.key"),
    rsaCert: r("rsa.pem"),
    foreignKey: r("foreign.key"),
    foreignCert: r("foreign.pem"),
    files: {
      ca: f("ca.pem"),
      foreignCa: f("foreign-ca.pem"),
      ecKey: f("ec.key"),
      ecCert: f("ec.pem"),
      rsaKey: f("rsa.key"),
      rsaCert: f("rsa.pem"),
      foreignKey: f("foreign.key"),
      foreignCert: f("foreign.pem"),
      pass: f("pass.txt"),
    },
  };
}
