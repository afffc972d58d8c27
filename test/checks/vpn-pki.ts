/**
 * Real certificates for the VPN checks, made with openssl: the municipality CA (P-384),
 * a client certificate it signed, and a foreign CA with its own client certificate.
 */
import { execa } from "execa";
import { X509Certificate } from "node:crypto";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCa {
  pem: string;
  sha256: string;
  subject: string;
}
export interface VpnPki {
  ca: TestCa;
  clientPem: string;
  foreignCa: TestCa;
  foreignClientPem: string;
}

async function ossl(dir: string, args: string[]): Promise<void> {
  await execa("openssl", args, { cwd: dir });
}

async function makeCa(dir: string, name: string, cn: string): Promise<TestCa> {
  await ossl(dir, [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-384",
    "-nodes",
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.pem`,
    "-days",
    "3650",
    "-subj",
    `/C=DE/O=Stadt Meerane/CN=${cn}`,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  const pem = await readFile(join(dir, `${name}.pem`), "utf8");
  const x = new X509Certificate(pem);
  return {
    pem,
    sha256: x.fingerprint256.replace(/:/g, "").toLowerCase(),
    subject: x.subject.split("\n").reverse().join(", "),
  };
}

async function makeClient(dir: string, ca: string, name: string): Promise<string> {
  await writeFile(
    join(dir, "ext.cnf"),
    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n",
  );
  await ossl(dir, [
    "req",
    "-new",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-384",
    "-nodes",
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.csr`,
    "-subj",
    "/C=DE/O=Stadt Meerane/OU=Buergerkoffer/CN=koffer-07",
  ]);
  await ossl(dir, [
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    `${ca}.pem`,
    "-CAkey",
    `${ca}.key`,
    "-set_serial",
    "4097",
    "-days",
    "365",
    "-sha384",
    "-extfile",
    "ext.cnf",
    "-out",
    `${name}.pem`,
  ]);
  return readFile(join(dir, `${name}.pem`), "utf8");
}

let cached: Promise<VpnPki> | null = null;
export function vpnPki(): Promise<VpnPki> {
  cached ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), "koffer-vpn-pki-"));
    const ca = await makeCa(dir, "ca", "Meerane VPN CA");
    const foreignCa = await makeCa(dir, "foreign", "Foreign VPN CA");
    return {
      ca,
      clientPem: await makeClient(dir, "ca", "client"),
      foreignCa,
      foreignClientPem: await makeClient(dir, "foreign", "fclient"),
    };
  })();
  return cached;
}
