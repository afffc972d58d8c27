// The certificate lifecycle through the built CLI, with openssl as the independent oracle.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { koffer, repoRoot } from "../helpers/cli.js";

const certs = join(repoRoot, "examples/certs");
const dir = mkdtempSync(join(tmpdir(), "koffer-cert-"));
// The folder holds CA and client keys: never left behind, also when a test fails.
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const root = join(dir, "root");
const swan = join(root, "etc/swanctl");
const outputs: string[] = [];
const run = async (args: string[], opts: Parameters<typeof koffer>[1] = {}) => {
  const r = await koffer(args, opts);
  outputs.push(r.stdout, r.stderr);
  return r;
};

function profile(key: string): string {
  const f = join(dir, `${key}.yaml`);
  writeFileSync(
    f,
    `apiVersion: koffer/v1\nkind: Profile\nmetadata: { name: pki-test }\nextends: koffer:baseline\nspec:\n  vpn:\n    caCertificate: ca.pem\n    certificate: { subject: "CN={hostname}, OU=Buergerkoffer, O=Stadt Meerane (Test), C=DE", key: ${key}, validityDays: 365, renewBeforeDays: 30 }\n`,
  );
  return f;
}

beforeAll(() => {
  copyFileSync(join(certs, "test-vpn-ca.pem"), join(dir, "ca.pem"));
});

describe("koffer cert lifecycle", () => {
  it("requests, signs, installs and verifies an ecdsa-p384 certificate", async () => {
    const p = profile("ecdsa-p384");
    const req = await run([
      "cert",
      "request",
      "--profile",
      p,
      "--root",
      root,
      "--hostname",
      "bk-01",
    ]);
    expect(req.exitCode, req.stderr).toBe(0);
    const keyFile = join(swan, "private/koffer-client.pem");
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const csr = join(swan, "x509req/koffer-client.csr.pem");
    expect(
      execFileSync("openssl", ["req", "-in", csr, "-noout", "-verify", "-subject"], {
        stdio: "pipe",
      }).toString(),
    ).toContain("CN = bk-01");
    expect(execFileSync("openssl", ["req", "-in", csr, "-noout", "-text"]).toString()).toContain(
      "TLS Web Client Authentication",
    );

    const sign = await run(
      [
        "cert",
        "sign",
        csr,
        "--ca-p12",
        join(certs, "test-vpn-ca.p12"),
        "--profile",
        p,
        "--out",
        join(dir, "c.pem"),
      ],
      {
        env: { KOFFER_CA_PASSPHRASE: readFileSync(join(certs, "test-vpn-ca.pass"), "utf8").trim() },
      },
    );
    expect(sign.exitCode, sign.stderr).toBe(0);
    const text = execFileSync("openssl", [
      "x509",
      "-in",
      join(dir, "c.pem"),
      "-noout",
      "-text",
    ]).toString();
    expect(text).toContain("ecdsa-with-SHA384");
    expect(text).toMatch(/Key Usage: critical\s+Digital Signature/);
    expect(text).toContain("TLS Web Client Authentication");
    expect(text).toContain("CA:FALSE");
    execFileSync("openssl", [
      "verify",
      "-x509_strict",
      "-purpose",
      "sslclient",
      "-CAfile",
      join(certs, "test-vpn-ca.pem"),
      join(dir, "c.pem"),
    ]);

    const inst = await run(["cert", "install", join(dir, "c.pem"), "--root", root, "--profile", p]);
    expect(inst.exitCode, inst.stderr).toBe(0);
    const st = await run(["cert", "status", "--root", root, "--profile", p, "--format", "json"]);
    expect(st.exitCode, st.stderr).toBe(0);
    const s = JSON.parse(st.stdout);
    expect(s).toMatchObject({
      installed: true,
      keyMode: "0600",
      keyMatches: true,
      chain: { valid: true },
      renewDue: false,
    });
    expect(s.certificate.curve).toBe("P-384");

    expect(
      (await run(["cert", "verify", "--ca", join(certs, "test-vpn-ca.pem"), join(dir, "c.pem")]))
        .exitCode,
    ).toBe(0);
    const server = await run([
      "cert",
      "verify",
      "--ca",
      join(certs, "test-vpn-ca.pem"),
      "--purpose",
      "server",
      join(dir, "c.pem"),
    ]);
    expect(server.exitCode).toBe(1);
    expect(server.stdout).toContain("extended key usage");
    expect(
      (
        await run([
          "cert",
          "verify",
          "--ca",
          join(certs, "test-vpn-ca.pem"),
          "--at",
          "2040-01-01",
          join(dir, "c.pem"),
        ])
      ).exitCode,
    ).toBe(1);
    expect(
      (await run(["cert", "verify", "--ca", join(dir, "missing.pem"), join(dir, "c.pem")]))
        .exitCode,
    ).toBe(78);

    // renew --force with a new key keeps the old pair as backup
    const before = readFileSync(keyFile, "utf8");
    const ren = await run([
      "cert",
      "renew",
      "--profile",
      p,
      "--root",
      root,
      "--hostname",
      "bk-01",
      "--force",
      "--ca-p12",
      join(certs, "test-vpn-ca.p12"),
      "--ca-passphrase-file",
      join(certs, "test-vpn-ca.pass"),
    ]);
    expect(ren.exitCode, ren.stderr).toBe(0);
    expect(readFileSync(keyFile, "utf8")).not.toBe(before);
    expect(ren.stdout).toMatch(/backup: .*\.key\.pem/);
    const backup = /backup:\s+(\S+\.key\.pem)/.exec(ren.stdout)![1]!;
    expect(readFileSync(backup, "utf8")).toBe(before);
    expect(statSync(backup).mode & 0o777).toBe(0o600);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
  }, 60_000);

  it("refuses to install a certificate for another key", async () => {
    const r = await run(["cert", "install", join(certs, "test-gateway.pem"), "--root", root]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("does not belong to the key");
  });

  it("refuses CSRs that violate TR-02102 with exit 78, naming why", async () => {
    const pass = join(certs, "test-vpn-ca.pass");
    const cases: [string, string[], RegExp][] = [
      ["rsa2048", ["-newkey", "rsa:2048"], /RSA key of 2048 bits/],
      ["ed25519", ["-newkey", "ed25519"], /ed25519/],
      ["secp256k1", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:secp256k1"], /secp256k1/],
      [
        "sha1",
        ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-sha1"],
        /SHA-2 family only/,
      ],
    ];
    for (const [name, args, why] of cases) {
      const csr = join(dir, `${name}.csr`);
      execFileSync(
        "openssl",
        [
          "req",
          "-new",
          ...args,
          "-nodes",
          "-keyout",
          join(dir, `${name}.key`),
          "-subj",
          "/CN=bad",
          "-out",
          csr,
        ],
        { stdio: "pipe" },
      );
      const r = await run([
        "cert",
        "sign",
        csr,
        "--ca-p12",
        join(certs, "test-vpn-ca.p12"),
        "--ca-passphrase-file",
        pass,
        "--out",
        join(dir, `${name}.pem`),
      ]);
      expect(r.exitCode, name).toBe(78);
      expect(r.stderr, name).toMatch(why);
    }
  }, 60_000);

  it("makes a test CA labelled as test, p12 and passphrase 0600, usable for signing", async () => {
    const out = join(dir, "testca");
    const r = await run(["ca", "init", "--out-dir", out]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(
      execFileSync("openssl", [
        "x509",
        "-in",
        join(out, "test-ca.pem"),
        "-noout",
        "-subject",
      ]).toString(),
    ).toContain("NICHT PRODUKTIV");
    expect(statSync(join(out, "test-ca.p12")).mode & 0o777).toBe(0o600);
    expect(statSync(join(out, "test-ca.pass")).mode & 0o777).toBe(0o600);
    const pw = readFileSync(join(out, "test-ca.pass"), "utf8").trim();
    // openssl reads what koffer wrote
    execFileSync(
      "openssl",
      ["pkcs12", "-in", join(out, "test-ca.p12"), "-passin", `pass:${pw}`, "-noout"],
      { stdio: "pipe" },
    );
    expect(r.stdout).not.toContain(pw);
  });

  it("escrow open prints the recovery key that openssl cms can also decrypt", async () => {
    const { escrowRecoveryKey } = await import("../../src/pki/escrow.js");
    const secret = "lqsv-rnkk-gtrb-kbjh-fjgc-uuvt-cdrn-vjkn";
    const rec = join(dir, "escrow.cms.pem");
    writeFileSync(
      rec,
      escrowRecoveryKey(secret, readFileSync(join(certs, "test-escrow.pem"), "utf8")),
    );
    const r = await run([
      "escrow",
      "open",
      rec,
      "--key-p12",
      join(certs, "test-escrow.p12"),
      "--passphrase-file",
      join(certs, "test-escrow.pass"),
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(secret);
    const key = execFileSync("openssl", [
      "pkcs12",
      "-in",
      join(certs, "test-escrow.p12"),
      "-passin",
      `file:${join(certs, "test-escrow.pass")}`,
      "-nodes",
      "-nocerts",
    ]);
    writeFileSync(join(dir, "escrow.key"), key, { mode: 0o600 });
    const plain = execFileSync("openssl", [
      "cms",
      "-decrypt",
      "-in",
      rec,
      "-inform",
      "PEM",
      "-inkey",
      join(dir, "escrow.key"),
    ]).toString();
    expect(plain).toBe(secret);
    const wrong = await run(["escrow", "open", rec, "--key-p12", join(certs, "test-escrow.p12")], {
      env: { KOFFER_ESCROW_PASSPHRASE: "wrong" },
    });
    expect(wrong.exitCode).toBe(78);
    expect(wrong.stderr).not.toContain(secret);
  });

  it("never printed key material in any command above", () => {
    const all = outputs.join("\n");
    expect(all).not.toMatch(/PRIVATE KEY/);
    const keys = [readFileSync(join(swan, "private/koffer-client.pem"), "utf8")];
    for (const k of keys) {
      const body = k.split("\n")[1]!;
      expect(all).not.toContain(body);
    }
  });
});
