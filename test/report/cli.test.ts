/**
 * `koffer report render|sign|verify|merge` through the built binary, as a user runs it.
 */
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { renderJson } from "../../src/report/render/index.js";
import type { Result } from "../../src/report/types.js";
import { koffer } from "../helpers/cli.js";
import { sampleResult } from "../helpers/result.js";
import { makeSigningPki, passphrase, type SigningPki } from "./signing-pki.js";
import { tempDir } from "../helpers/tmp.js";

let pki: SigningPki;
let dir: string;
let resultFile: string;

beforeAll(async () => {
  pki = await makeSigningPki();
  dir = tempDir("report-cli");
  resultFile = join(dir, "koffer-01.json");
  writeFileSync(resultFile, renderJson(sampleResult("non-compliant")));
}, 60_000);

function noSecrets(out: string): void {
  expect(out).not.toContain(passphrase);
  expect(out).not.toContain("PRIVATE KEY");
}

describe("koffer report render", () => {
  it("writes several formats at once to --out-dir", async () => {
    const out = join(dir, "out");
    const r = await koffer([
      "report",
      "render",
      resultFile,
      "--format",
      "html,json,junit,sarif,md,text",
      "--out-dir",
      out,
    ]);
    expect(r.stderr).toContain("wrote");
    expect(r.exitCode).toBe(0);
    expect(readdirSync(out).sort()).toEqual(
      [
        "koffer-01.html",
        "koffer-01.json",
        "koffer-01.junit.xml",
        "koffer-01.md",
        "koffer-01.sarif",
        "koffer-01.txt",
      ].sort(),
    );
    // The HTML names the SHA-256 of the very bytes it was rendered from.
    const { createHash } = await import("node:crypto");
    const sha = createHash("sha256").update(readFileSync(resultFile)).digest("hex");
    expect(readFileSync(join(out, "koffer-01.html"), "utf8")).toContain(sha);
    expect(readFileSync(join(out, "koffer-01.json"), "utf8")).toBe(
      readFileSync(resultFile, "utf8"),
    );
  }, 60_000);

  it("prints text to stdout, English with --lang en", async () => {
    const r = await koffer(["report", "render", resultFile, "--lang", "en"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("✘ USB-01");
    expect(r.stdout).toContain("NOT COMPLIANT");
    expect(r.stdout).not.toContain("\u001b[");
  });

  it("writes a PDF through Chromium", async () => {
    const pdf = join(dir, "r.pdf");
    const r = await koffer(["report", "render", resultFile, "--format", "pdf", "--out", pdf]);
    expect(r.exitCode).toBe(0);
    expect(readFileSync(pdf).subarray(0, 5).toString("latin1")).toBe("%PDF-");
  }, 60_000);

  it("a file that is not a result is an input error, FILE:LINE:COLUMN, exit 78", async () => {
    const bad = join(dir, "bad.json");
    writeFileSync(bad, '{\n  "schema": "koffer/result/v1",\n  oops\n}\n');
    const r = await koffer(["report", "render", bad]);
    expect(r.exitCode).toBe(78);
    expect(r.stderr).toMatch(
      new RegExp(`^${bad}:3:\\d+: Expected valid JSON, found a syntax error`, "m"),
    );
    const other = join(dir, "other.json");
    writeFileSync(other, '{"schema": "something/else"}');
    const r2 = await koffer(["report", "render", other]);
    expect(r2.exitCode).toBe(78);
    expect(r2.stderr).toContain(
      `${other}:1:2: Expected schema "koffer/result/v1", found "something/else" (at /schema)`,
    );
  });

  it("a result that breaks its schema names the offending value's line and path, exit 78", async () => {
    const broken = JSON.parse(readFileSync(resultFile, "utf8")) as {
      controls: { status: string }[];
    };
    broken.controls[2]!.status = "maybe";
    const file = join(dir, "broken-status.json");
    const text = JSON.stringify(broken, null, 2);
    writeFileSync(file, text);
    const line = text.slice(0, text.indexOf('"maybe"')).split("\n").length;
    const r = await koffer(["report", "render", file]);
    expect(r.exitCode).toBe(78);
    expect(r.stderr).toMatch(
      new RegExp(`^${file}:${line}:\\d+: .* \\(at /controls/2/status\\)$`, "m"),
    );
    expect(r.stdout).toBe("");
  });

  it("unknown format is a usage error (64)", async () => {
    const r = await koffer(["report", "render", resultFile, "--format", "docx"]);
    expect(r.exitCode).toBe(64);
  });
});

describe("koffer report sign / verify", () => {
  it("signs with the passphrase from the environment and verifies; the HTML shows the state", async () => {
    const r = await koffer(
      ["report", "sign", resultFile, "--key", pki.files.ecKey, "--cert", pki.files.ecCert],
      {
        env: { KOFFER_SIGN_PASSPHRASE: passphrase },
      },
    );
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    noSecrets(r.stdout + r.stderr);
    expect(statSync(resultFile + ".p7s").size).toBeGreaterThan(300);
    const v = await koffer(["report", "verify", resultFile, "--ca", pki.files.ca]);
    expect(v.stdout).toContain("OK:");
    expect(v.stdout).toContain("CN=Pruefer ECDSA");
    expect(v.exitCode).toBe(0);

    const html = await koffer([
      "report",
      "render",
      resultFile,
      "--format",
      "html",
      "--signature",
      resultFile + ".p7s",
      "--ca",
      pki.files.ca,
    ]);
    expect(html.exitCode).toBe(0);
    expect(html.stdout).toContain("gültig signiert");
    expect(html.stdout).toContain("CN=Pruefer ECDSA");
    noSecrets(html.stdout);
  }, 60_000);

  it("signs an RSA key with --passphrase-file, to --out", async () => {
    const sig = join(dir, "rsa.p7s");
    const r = await koffer([
      "report",
      "sign",
      resultFile,
      "--key",
      pki.files.rsaKey,
      "--cert",
      pki.files.rsaCert,
      "--passphrase-file",
      pki.files.pass,
      "--out",
      sig,
    ]);
    expect(r.exitCode).toBe(0);
    const v = await koffer([
      "report",
      "verify",
      resultFile,
      "--signature",
      sig,
      "--ca",
      pki.files.ca,
    ]);
    expect(v.exitCode).toBe(0);
  }, 60_000);

  it("an encrypted key without a passphrase source and no terminal: usage error, nothing written", async () => {
    const sig = join(dir, "none.p7s");
    const r = await koffer([
      "report",
      "sign",
      resultFile,
      "--key",
      pki.files.ecKey,
      "--cert",
      pki.files.ecCert,
      "--out",
      sig,
    ]);
    expect(r.exitCode).toBe(64);
    expect(r.stderr).toContain("KOFFER_SIGN_PASSPHRASE");
    expect(() => statSync(sig)).toThrow();
  });

  it("tampering: changed bytes at start, middle and end; foreign CA; foreign signer → exit 1 with the reason", async () => {
    const original = readFileSync(resultFile);
    const sig = join(dir, "t.p7s");
    await koffer(
      [
        "report",
        "sign",
        resultFile,
        "--key",
        pki.files.ecKey,
        "--cert",
        pki.files.ecCert,
        "--out",
        sig,
      ],
      {
        env: { KOFFER_SIGN_PASSPHRASE: passphrase },
      },
    );
    for (const offset of [0, Math.floor(original.length / 2), original.length - 2]) {
      const copy = Buffer.from(original);
      copy[offset] = copy[offset]! ^ 0x20;
      const f = join(dir, `tampered-${offset}.json`);
      writeFileSync(f, copy);
      const v = await koffer(["report", "verify", f, "--signature", sig, "--ca", pki.files.ca]);
      expect(v.exitCode).toBe(1);
      expect(v.stderr).toContain("bytes differ from the signed bytes");
    }
    const foreignCa = await koffer([
      "report",
      "verify",
      resultFile,
      "--signature",
      sig,
      "--ca",
      pki.files.foreignCa,
    ]);
    expect(foreignCa.exitCode).toBe(1);
    expect(foreignCa.stderr).toContain("not trusted");

    const wrongSigner = join(dir, "w.p7s");
    await koffer([
      "report",
      "sign",
      resultFile,
      "--key",
      pki.files.foreignKey,
      "--cert",
      pki.files.foreignCert,
      "--out",
      wrongSigner,
    ]);
    const ws = await koffer([
      "report",
      "verify",
      resultFile,
      "--signature",
      wrongSigner,
      "--ca",
      pki.files.ca,
    ]);
    expect(ws.exitCode).toBe(1);
    expect(ws.stderr).toMatch(/CN=Pruefer Foreign.*not trusted/);
    noSecrets(ws.stdout + ws.stderr + foreignCa.stderr);
  }, 90_000);

  it("an unreadable signature is exit 78", async () => {
    const garbage = join(dir, "garbage.p7s");
    writeFileSync(garbage, "hello");
    const v = await koffer([
      "report",
      "verify",
      resultFile,
      "--signature",
      garbage,
      "--ca",
      pki.files.ca,
    ]);
    expect(v.exitCode).toBe(78);
  });
});

describe("koffer report merge", () => {
  it("per municipality: failing devices, expiring waivers and certificates, drift", async () => {
    const fleet = join(dir, "fleet");
    mkdirSync(join(fleet, "meerane"), { recursive: true });
    mkdirSync(join(fleet, "zwickau"), { recursive: true });
    const write = (sub: string, name: string, r: Result) =>
      writeFileSync(join(fleet, sub, name), renderJson(r));

    // koffer-01: compliant in April, non-compliant in May (drift DISK-04, USB-01, …).
    const april = sampleResult("compliant");
    april.startedAt = "2025-04-01T08:00:00Z";
    write("meerane", "koffer-01-april.json", april);
    write("meerane", "koffer-01-may.json", sampleResult("non-compliant"));
    // koffer-02: compliant, certificate far from expiry, no waivers.
    const k2 = sampleResult("compliant");
    k2.target.hostname = "koffer-02";
    k2.context!.waivers = [];
    k2.context!.certificates![0]!.notAfter = "2026-06-01T00:00:00Z";
    write("meerane", "koffer-02.json", k2);
    // Another municipality with one failing device.
    const z = sampleResult("non-compliant");
    z.profile.name = "zwickau";
    z.profile.controller = "Stadt Zwickau";
    z.target.hostname = "zw-koffer-07";
    write("zwickau", "zw-07.json", z);
    writeFileSync(join(fleet, "notes.json"), '{"hello": 1}');

    const out = join(dir, "fleet-out");
    const r = await koffer([
      "report",
      "merge",
      fleet,
      "--out-dir",
      out,
      "--at",
      "2025-05-06T00:00:00Z",
    ]);
    expect(r.stdout).toContain("merged 4 results of 3 devices in 2 municipalities");
    expect(r.stderr).toContain("notes.json: not a koffer/result/v1 result");
    expect(r.exitCode).toBe(0);
    const o = JSON.parse(readFileSync(join(out, "fleet.json"), "utf8"));
    const meerane = o.municipalities.find((m: { name: string }) => m.name === "meerane");
    expect(meerane.devices).toBe(2);
    expect(meerane.compliantDevices).toBe(1);
    expect(
      meerane.controls.map((c: { id: string; failing: string[] }) => [c.id, c.failing]),
    ).toEqual([
      ["USB-01", ["koffer-01"]],
      ["DISK-04", ["koffer-01"]],
      ["LOG-01", []],
    ]);
    // NET-01's waiver expires 2025-05-20: within 30 days of 2025-05-06.
    expect(meerane.expiringWaivers).toEqual([
      expect.objectContaining({
        hostname: "koffer-01",
        control: "NET-01",
        expires: "2025-05-20",
        expired: false,
      }),
    ]);
    // koffer-01's VPN certificate ends 2025-06-01: inside its 30-day renewal window; koffer-02's does not.
    expect(meerane.expiringCertificates.map((c: { hostname: string }) => c.hostname)).toEqual([
      "koffer-01",
    ]);
    expect(meerane.drift).toEqual([
      {
        hostname: "koffer-01",
        from: "2025-04-01T08:00:00Z",
        to: "2025-05-05T08:30:00Z",
        changes: [
          { control: "DISK-04", from: "pass", to: "fail" },
          { control: "DISK-05", from: "pass", to: "skip" },
          { control: "LOG-01", from: "pass", to: "error" },
          { control: "NET-01", from: "pass", to: "waived" },
          { control: "USB-01", from: "pass", to: "fail" },
        ],
      },
    ]);
    const html = readFileSync(join(out, "fleet.html"), "utf8");
    expect(html).toContain("zw-koffer-07");
    expect(html).toContain("Veränderungen seit der vorigen Prüfung");
    expect(html).not.toContain("<script");
  }, 60_000);

  it("accepts a glob pattern", async () => {
    const out = join(dir, "fleet-glob");
    const r = await koffer([
      "report",
      "merge",
      join(dir, "fleet", "*", "koffer-01-*.json"),
      "--out-dir",
      out,
      "--at",
      "2025-05-06T00:00:00Z",
    ]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("merged 2 results of 1 device in 1 municipality");
  });
});
