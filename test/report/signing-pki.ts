/**
 * A throwaway PKI made with the real openssl: a municipality CA, a foreign CA, an ECDSA signer
 * with an encrypted PKCS#8 key, an RSA-3072 signer with an encrypted traditional PEM key, and a
 * signer certificate issued by the foreign CA. Built once per test file in a temp dir.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";

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

async function openssl(dir: string, args: string[]): Promise<void> {
  await execa("openssl", args, { cwd: dir, env: { LC_ALL: "C" } });
}

async function makeCa(dir: string, name: string, cn: string): Promise<void> {
  await openssl(dir, [
    "req",
    "-x509",
    "-new",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.pem`,
    "-subj",
    `/O=Test/CN=${cn}`,
    "-days",
    "3650",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
}

async function issue(dir: string, ca: string, name: string, cn: string): Promise<void> {
  writeFileSync(
    join(dir, "leaf.ext"),
    "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n",
  );
  await openssl(dir, [
    "req",
    "-new",
    "-key",
    `${name}.key`,
    "-passin",
    `pass:${passphrase}`,
    "-out",
    `${name}.csr`,
    "-subj",
    `/O=Test/CN=${cn}`,
  ]);
  await openssl(dir, [
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    `${ca}.pem`,
    "-CAkey",
    `${ca}.key`,
    "-CAcreateserial",
    "-days",
    "365",
    "-sha256",
    "-extfile",
    "leaf.ext",
    "-out",
    `${name}.pem`,
  ]);
}

export async function makeSigningPki(): Promise<SigningPki> {
  const dir = mkdtempSync(join(tmpdir(), "koffer-sign-"));
  await makeCa(dir, "ca", "Meerane Report CA");
  await makeCa(dir, "foreign-ca", "Foreign CA");
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
  await issue(dir, "ca", "ec", "Pruefer ECDSA");
  await issue(dir, "ca", "rsa", "Pruefer RSA");
  await issue(dir, "foreign-ca", "foreign", "Pruefer Foreign");
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
