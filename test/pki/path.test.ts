// Path validation against chains built with openssl (an independent issuer) in a temp dir.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { verifyCertificatePath } from "../../src/pki/path.js";
import { describeCertificate, splitPemBundle } from "../../src/pki/certificate.js";
import { tempDir } from "../helpers/tmp.js";

const dir = tempDir("path");
const ossl = (...a: string[]) =>
  execFileSync("openssl", a, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
const read = (f: string) => readFileSync(join(dir, f), "utf8");
const at = new Date("2030-06-01T00:00:00Z");

const CA_EXT =
  "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n";
const LEAF_EXT =
  "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n";

function key(name: string) {
  ossl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", `${name}.key`);
}
/** openssl ca with fixed dates, so validity cases are exact. */
function issue(
  name: string,
  subject: string,
  ext: string,
  issuer: string | null,
  start = "20250101000000Z",
  end = "20351230000000Z",
) {
  const ca = join(dir, `db-${name}`);
  execFileSync("mkdir", ["-p", ca]);
  writeFileSync(join(ca, "index.txt"), "");
  writeFileSync(
    join(dir, `${name}.cnf`),
    `[ca]\ndefault_ca=x\n[x]\ndatabase=${ca}/index.txt\nnew_certs_dir=${ca}\nrand_serial=yes\ndefault_md=sha256\npolicy=p\nunique_subject=no\ncopy_extensions=none\n[p]\ncommonName=supplied\n[ext]\n${ext}\n`,
  );
  ossl("req", "-new", "-key", `${name}.key`, "-subj", subject, "-out", `${name}.csr`);
  const args = [
    "ca",
    "-batch",
    "-config",
    `${name}.cnf`,
    "-extensions",
    "ext",
    "-in",
    `${name}.csr`,
    "-out",
    `${name}.pem`,
    "-startdate",
    start,
    "-enddate",
    end,
    "-notext",
  ];
  if (issuer) args.push("-cert", `${issuer}.pem`, "-keyfile", `${issuer}.key`);
  else args.push("-selfsign", "-keyfile", `${name}.key`);
  ossl(...args);
}

beforeAll(() => {
  for (const k of ["root", "ica", "leaf", "evil", "nopath", "ica-nocs", "critx"]) key(k);
  issue("root", "/CN=Root", CA_EXT, null);
  issue("ica", "/CN=ICA", CA_EXT, "root");
  issue("leaf", "/CN=leaf", LEAF_EXT, "ica");
  // Same name as the root, a different key.
  issue("evil", "/CN=Root", CA_EXT, null);
  // pathlen:0 root with an intermediate below.
  execFileSync("cp", [join(dir, "root.key"), join(dir, "root0.key")]);
  issue("root0", "/CN=Root0", CA_EXT.replace("CA:TRUE", "CA:TRUE,pathlen:0"), null);
  execFileSync("cp", [join(dir, "ica.key"), join(dir, "ica0.key")]);
  issue("ica0", "/CN=ICA0", CA_EXT, "root0");
  execFileSync("cp", [join(dir, "leaf.key"), join(dir, "leaf0.key")]);
  issue("leaf0", "/CN=leaf0", LEAF_EXT, "ica0");
  // Intermediate without keyCertSign.
  issue("ica-nocs", "/CN=ICA-nocs", CA_EXT.replace("keyCertSign,cRLSign", "cRLSign"), "root");
  execFileSync("cp", [join(dir, "leaf.key"), join(dir, "leaf-nocs.key")]);
  issue("leaf-nocs", "/CN=leaf-nocs", LEAF_EXT, "ica-nocs");
  // Server-only leaf, expired leaf, not-yet-valid leaf, unknown critical extension.
  for (const [n, ext, s, e] of [
    ["server", LEAF_EXT.replace("clientAuth", "serverAuth"), "20250101000000Z", "20351230000000Z"],
    ["expired", LEAF_EXT, "20250101000000Z", "20260101000000Z"],
    ["future", LEAF_EXT, "20310101000000Z", "20351230000000Z"],
    [
      "critx",
      LEAF_EXT + "1.3.6.1.4.1.99999.1=critical,ASN1:NULL\n",
      "20250101000000Z",
      "20351230000000Z",
    ],
  ] as const) {
    execFileSync("cp", [join(dir, "leaf.key"), join(dir, `${n}.key`)]);
    issue(n, `/CN=${n}`, ext, "ica", s, e);
  }
  // CRL from the intermediate revoking the leaf.
  const db = join(dir, "db-ica");
  writeFileSync(
    join(dir, "crl.cnf"),
    readFileSync(join(dir, "ica.cnf"), "utf8").replace(
      "[p]",
      "crlnumber=" + db + "/crlnumber\ndefault_crl_days=3650\n[p]",
    ),
  );
  writeFileSync(join(db, "crlnumber"), "01\n");
  writeFileSync(join(db, "index.txt"), "");
  execFileSync(
    "openssl",
    [
      "ca",
      "-config",
      "crl.cnf",
      "-cert",
      "ica.pem",
      "-keyfile",
      "ica.key",
      "-revoke",
      "leaf.pem",
      "-crl_reason",
      "keyCompromise",
    ],
    { cwd: dir, stdio: "pipe" },
  );
  execFileSync(
    "openssl",
    [
      "ca",
      "-config",
      "crl.cnf",
      "-cert",
      "ica.pem",
      "-keyfile",
      "ica.key",
      "-gencrl",
      "-out",
      "ica.crl",
    ],
    { cwd: dir, stdio: "pipe" },
  );
}, 60_000);

const v = (leaf: string, opts: Partial<Parameters<typeof verifyCertificatePath>[0]> = {}) =>
  verifyCertificatePath({
    leaf: read(`${leaf}.pem`),
    intermediates: [read("ica.pem")],
    trustAnchors: [read("root.pem")],
    at,
    purpose: "client",
    ...opts,
  });

describe("verifyCertificatePath", () => {
  it("accepts a good chain, as openssl does", () => {
    const r = v("leaf");
    expect(r).toMatchObject({ valid: true, reason: null, code: null });
    expect(r.chain.map((c) => c.subject)).toEqual(["CN=leaf", "CN=ICA", "CN=Root"]);
    ossl("verify", "-x509_strict", "-CAfile", "root.pem", "-untrusted", "ica.pem", "leaf.pem");
  });
  it("rejects a same-named trust anchor with a different key", () => {
    const r = v("leaf", { trustAnchors: [read("evil.pem")] });
    expect(r.valid).toBe(false);
    expect(r.code).toBe("E_SIGNATURE");
  });
  it("rejects a chain with no intermediate", () => {
    expect(v("leaf", { intermediates: [] })).toMatchObject({ valid: false, code: "E_NO_PATH" });
  });
  it("checks validity at the given time", () => {
    expect(v("expired")).toMatchObject({ valid: false, code: "E_EXPIRED" });
    expect(v("expired", { at: new Date("2025-06-01T00:00:00Z") }).valid).toBe(true);
    expect(v("future")).toMatchObject({ valid: false, code: "E_NOT_YET_VALID" });
  });
  it("fails closed on a validation time that is not a time (NaN compares false with every bound)", () => {
    expect(v("expired", { at: new Date(Number.NaN) })).toMatchObject({
      valid: false,
      code: "E_TIME",
    });
    expect(v("leaf", { at: new Date("not a date") }).valid).toBe(false);
  });
  it("enforces pathLenConstraint", () => {
    const r = verifyCertificatePath({
      leaf: read("leaf0.pem"),
      intermediates: [read("ica0.pem")],
      trustAnchors: [read("root0.pem")],
      at,
      purpose: "client",
    });
    // root0 has pathlen 0: no intermediate CA may follow it.
    expect(r).toMatchObject({ valid: false, code: "E_PATH_LENGTH" });
    expect(() =>
      ossl("verify", "-CAfile", "root0.pem", "-untrusted", "ica0.pem", "leaf0.pem"),
    ).toThrow();
  });
  it("requires keyCertSign on issuers", () => {
    const r = v("leaf-nocs", { intermediates: [read("ica-nocs.pem")] });
    expect(r).toMatchObject({ valid: false, code: "E_KEY_USAGE" });
  });
  it("checks the EKU for the purpose", () => {
    expect(v("server")).toMatchObject({ valid: false, code: "E_EKU" });
    expect(v("server", { purpose: "server" }).valid).toBe(true);
    expect(v("leaf", { purpose: "server" }).code).toBe("E_EKU");
  });
  it("rejects unknown critical extensions", () => {
    expect(v("critx")).toMatchObject({ valid: false, code: "E_UNKNOWN_CRITICAL_EXTENSION" });
  });
  it("honours CRLs: the revoked leaf fails, another leaf passes", () => {
    const crls = [read("ica.crl")];
    expect(v("leaf", { crls })).toMatchObject({ valid: false, code: "E_REVOKED" });
    expect(v("server", { crls, purpose: "server" }).valid).toBe(true);
  });
  it("reports an unreadable leaf instead of throwing", () => {
    expect(
      verifyCertificatePath({ leaf: "nonsense", trustAnchors: [], at, purpose: "any" }).code,
    ).toBe("E_PARSE");
  });
});

describe("describeCertificate", () => {
  it("describes the example CA and never throws on junk", () => {
    const pem = readFileSync(
      new URL("../../examples/certs/test-vpn-ca.pem", import.meta.url),
      "utf8",
    );
    const file = { path: "x", mode: 0o644, uid: 0, gid: 0 };
    const d = describeCertificate(pem, "x", file);
    expect(d).toMatchObject({
      keyType: "ec",
      keyBits: 384,
      curve: "P-384",
      signatureAlgorithm: "ecdsa-with-SHA384",
      isCa: true,
    });
    expect(d.subject).toBe("CN=KOFFER TEST VPN CA – NICHT PRODUKTIV, O=Stadt Meerane (Test), C=DE");
    expect(d.notAfter <= "2035-12-31T23:59:59Z").toBe(true);
    expect(d.sha256Fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(
      describeCertificate(
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        "y",
        file,
      ).keyType,
    ).toBe("unknown");
    expect(splitPemBundle(pem + pem)).toHaveLength(2);
  });
});
