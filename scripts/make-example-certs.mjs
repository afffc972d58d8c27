#!/usr/bin/env node
// Regenerates the test PKI material in examples/certs/ with openssl (independent of koffer's
// own code, so the examples double as an outside oracle for koffer's parser and path check).
// Everything here is TEST material: the subjects say so, and the passphrases are committed.
// Usage: node scripts/make-example-certs.mjs [OUT_DIR]
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync, rmSync, chmodSync, mkdtempSync } from "node:fs";
import { join, resolve } from "node:path";
import { tmpdir } from "node:os";

const out = resolve(process.argv[2] ?? new URL("../examples/certs/", import.meta.url).pathname);
mkdirSync(out, { recursive: true });
const work = mkdtempSync(join(tmpdir(), "koffer-certs-"));
const openssl = (...args) =>
  execFileSync("openssl", args, { cwd: work, stdio: ["ignore", "pipe", "pipe"] });

// Fixed window: classical signatures are not approved beyond 2035-12-31 (TR-02102-1).
const notBefore = "20250101000000Z";
const notAfter = "20351231000000Z";
const suffix = "NICHT PRODUKTIV";
const org = "/O=Stadt Meerane (Test)/C=DE";

const ext = (name, body) => writeFileSync(join(work, name), body);
ext(
  "ca.ext",
  "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n",
);
ext(
  "leaf.ext",
  [
    "basicConstraints=critical,CA:FALSE",
    "keyUsage=critical,digitalSignature",
    "extendedKeyUsage=serverAuth",
    "subjectKeyIdentifier=hash",
    "authorityKeyIdentifier=keyid",
    "subjectAltName=DNS:vpn.test.meerane.example",
    "",
  ].join("\n"),
);
ext(
  "escrow.ext",
  [
    "basicConstraints=critical,CA:FALSE",
    "keyUsage=critical,keyEncipherment",
    "subjectKeyIdentifier=hash",
    "authorityKeyIdentifier=keyid",
    "",
  ].join("\n"),
);

// openssl ca gives exact validity dates on every OpenSSL 3.x.
const caDir = join(work, "ca");
mkdirSync(join(caDir, "new"), { recursive: true });
writeFileSync(join(caDir, "index.txt"), "");
const cnf = (extName) => `
[ ca ]
default_ca = test
[ test ]
dir = ${caDir}
database = ${caDir}/index.txt
new_certs_dir = ${caDir}/new
rand_serial = yes
default_md = sha384
policy = any
unique_subject = no
email_in_dn = no
copy_extensions = none
utf8 = yes
string_mask = utf8only
[ any ]
commonName = supplied
organizationName = optional
countryName = optional
[ ext ]
${extName}
`;
const extText = (file) => (file ? execFileSync("cat", [join(work, file)]).toString() : "");

function sign({ csr, out: certOut, extFile, selfSign, caCert, caKey, md }) {
  writeFileSync(join(work, "ca.cnf"), cnf(extText(extFile)));
  const args = [
    "ca",
    "-batch",
    "-config",
    "ca.cnf",
    "-extensions",
    "ext",
    "-in",
    csr,
    "-out",
    certOut,
  ];
  args.push("-startdate", notBefore, "-enddate", notAfter, "-md", md, "-notext", "-utf8");
  if (selfSign) args.push("-selfsign", "-keyfile", caKey);
  else args.push("-cert", caCert, "-keyfile", caKey);
  openssl(...args);
}

// VPN CA: ECDSA P-384 / SHA-384.
openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", "ca.key");
openssl(
  "req",
  "-new",
  "-utf8",
  "-key",
  "ca.key",
  "-subj",
  `/CN=KOFFER TEST VPN CA – ${suffix}${org}`,
  "-out",
  "ca.csr",
);
writeFileSync(join(work, "ca.ext.full"), extText("ca.ext") + "authorityKeyIdentifier=keyid\n");
sign({
  csr: "ca.csr",
  out: "ca.pem",
  extFile: "ca.ext.full",
  selfSign: true,
  caKey: "ca.key",
  md: "sha384",
});

// Gateway (server) certificate: ECDSA P-256, signed by the CA with SHA-384.
openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "gw.key");
openssl(
  "req",
  "-new",
  "-utf8",
  "-key",
  "gw.key",
  "-subj",
  `/CN=vpn.test.meerane.example – ${suffix}${org}`,
  "-out",
  "gw.csr",
);
sign({
  csr: "gw.csr",
  out: "gw.pem",
  extFile: "leaf.ext",
  caCert: "ca.pem",
  caKey: "ca.key",
  md: "sha384",
});

// Escrow certificate: RSA-3072, key encipherment (CMS EnvelopedData with RSAES-OAEP).
openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:3072", "-out", "escrow.key");
openssl(
  "req",
  "-new",
  "-utf8",
  "-key",
  "escrow.key",
  "-subj",
  `/CN=KOFFER TEST ESCROW – ${suffix}${org}`,
  "-out",
  "escrow.csr",
);
sign({
  csr: "escrow.csr",
  out: "escrow.pem",
  extFile: "escrow.ext",
  caCert: "ca.pem",
  caKey: "ca.key",
  md: "sha384",
});

const pass = { ca: "koffer-test-ca", escrow: "koffer-test-escrow" };
const p12 = (cert, key, name, pw, file) =>
  openssl(
    "pkcs12",
    "-export",
    "-in",
    cert,
    "-inkey",
    key,
    "-name",
    name,
    "-passout",
    `pass:${pw}`,
    "-keypbe",
    "AES-256-CBC",
    "-certpbe",
    "AES-256-CBC",
    "-macalg",
    "sha256",
    "-out",
    file,
  );
p12("ca.pem", "ca.key", "koffer test vpn ca", pass.ca, "ca.p12");
p12("escrow.pem", "escrow.key", "koffer test escrow", pass.escrow, "escrow.p12");

const copy = (from, to, mode = 0o644) => {
  writeFileSync(join(out, to), execFileSync("cat", [join(work, from)]));
  chmodSync(join(out, to), mode);
};
copy("ca.pem", "test-vpn-ca.pem");
copy("ca.p12", "test-vpn-ca.p12", 0o600);
writeFileSync(join(out, "test-vpn-ca.pass"), pass.ca + "\n", { mode: 0o600 });
copy("gw.pem", "test-gateway.pem");
copy("escrow.pem", "test-escrow.pem");
copy("escrow.p12", "test-escrow.p12", 0o600);
writeFileSync(join(out, "test-escrow.pass"), pass.escrow + "\n", { mode: 0o600 });
rmSync(work, { recursive: true, force: true });
console.log(`test PKI written to ${out}`);
