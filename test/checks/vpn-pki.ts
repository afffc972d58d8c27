/**
 * Real certificates for the VPN checks, made with openssl: the municipality CA (P-384),
 * a client certificate it signed, and a foreign CA with its own client certificate.
 */
import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { issue, makeCa } from "../helpers/openssl.js";
import { tempDir } from "../helpers/tmp.js";

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

async function makeVpnCa(dir: string, name: string, cn: string): Promise<TestCa> {
  await makeCa(dir, name, `/C=DE/O=Stadt Meerane/CN=${cn}`);
  const pem = await readFile(join(dir, `${name}.pem`), "utf8");
  const x = new X509Certificate(pem);
  return {
    pem,
    sha256: x.fingerprint256.replace(/:/g, "").toLowerCase(),
    subject: x.subject.split("\n").reverse().join(", "),
  };
}

async function makeClient(dir: string, ca: string, name: string): Promise<string> {
  await issue(dir, {
    ca,
    name,
    subject: "/C=DE/O=Stadt Meerane/OU=Buergerkoffer/CN=koffer-07",
    extensions:
      "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n",
  });
  return readFile(join(dir, `${name}.pem`), "utf8");
}

let cached: Promise<VpnPki> | null = null;
export function vpnPki(): Promise<VpnPki> {
  cached ??= (async () => {
    const dir = tempDir("vpn-pki");
    const ca = await makeVpnCa(dir, "ca", "Meerane VPN CA");
    const foreignCa = await makeVpnCa(dir, "foreign", "Foreign VPN CA");
    return {
      ca,
      clientPem: await makeClient(dir, "ca", "client"),
      foreignCa,
      foreignClientPem: await makeClient(dir, "foreign", "fclient"),
    };
  })();
  return cached;
}
