/**
 * `koffer verify --sign`: the JSON result is signed on the spot (detached CMS over its exact
 * bytes), the HTML rendered in the same run shows the JSON's SHA-256 and the signature state,
 * `koffer report verify` accepts the pair, and neither key nor passphrase appears anywhere.
 */
import { createHash } from "node:crypto";
import { readFile, readdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { koffer } from "../helpers/cli.js";
import { buildHardenedLaptop, type Laptop } from "../helpers/laptop.js";
import { makeSigningPki, passphrase, type SigningPki } from "../report/signing-pki.js";
import { tempDir } from "../helpers/tmp.js";

let pki: SigningPki;
let laptop: Laptop;
beforeAll(async () => {
  [pki, laptop] = await Promise.all([makeSigningPki(), buildHardenedLaptop()]);
});

const target = () => [
  "--root",
  laptop.root,
  "--disk",
  laptop.disk,
  "--profile",
  laptop.profilePath,
];

describe("koffer verify --sign", () => {
  it("writes result.json, its .p7s and an HTML naming the JSON's SHA-256 and a valid signature", async () => {
    const out = tempDir("vsign");
    const run = await koffer([
      "verify",
      ...target(),
      "--format",
      "html",
      "--out-dir",
      out,
      "--lang",
      "en",
      "--sign",
      "--key",
      pki.files.ecKey,
      "--cert",
      pki.files.ecCert,
      "--passphrase-file",
      pki.files.pass,
      "--ca",
      pki.files.ca,
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect((await readdir(out)).sort()).toEqual(["result.html", "result.json", "result.json.p7s"]);
    const json = await readFile(join(out, "result.json"));
    const sha = createHash("sha256").update(json).digest("hex");
    const html = await readFile(join(out, "result.html"), "utf8");
    expect(html).toContain(sha);
    expect(html).toContain("validly signed");
    expect(html).toMatch(/CN=[^<]*koffer[^<]*|Signer/i);
    // The result is readable by its owner only; the signature is public.
    expect((await stat(join(out, "result.json"))).mode & 0o777).toBe(0o600);
    // The detached signature verifies with report verify; the key and passphrase are nowhere.
    const check = await koffer([
      "report",
      "verify",
      join(out, "result.json"),
      "--ca",
      pki.files.ca,
    ]);
    expect(check.exitCode, check.stderr).toBe(0);
    expect(check.stdout).toContain(`sha256:       ${sha}`);
    const key = await readFile(pki.files.ecKey, "utf8");
    for (const text of [json.toString("utf8"), html, run.stdout, run.stderr]) {
      expect(text).not.toContain(passphrase);
      expect(text).not.toContain(key.split("\n")[1] as string);
    }
  });

  it("a changed byte in the signed JSON fails report verify (exit 1)", async () => {
    const out = tempDir("vsign");
    const file = join(out, "r.json");
    const run = await koffer(
      [
        "verify",
        ...target(),
        "--format",
        "json",
        "--out",
        file,
        "--sign",
        "--key",
        pki.files.ecKey,
        "--cert",
        pki.files.ecCert,
      ],
      { env: { KOFFER_SIGN_PASSPHRASE: passphrase } },
    );
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stderr).toContain(`signature written to ${file}.p7s`);
    const ok = await koffer(["report", "verify", file, "--ca", pki.files.ca]);
    expect(ok.exitCode, ok.stderr).toBe(0);
    const bytes = await readFile(file);
    bytes[100] = bytes[100] === 0x20 ? 0x09 : 0x20;
    await writeFile(file, bytes);
    const bad = await koffer(["report", "verify", file, "--ca", pki.files.ca]);
    expect(bad.exitCode).toBe(1);
  });

  it("without --ca the HTML says signed but not checked; a foreign CA makes it invalid", async () => {
    for (const [ca, expected] of [
      [undefined, "signed, not checked"],
      [pki.files.foreignCa, "signature INVALID"],
    ] as const) {
      const out = tempDir("vsign");
      const run = await koffer([
        "verify",
        ...target(),
        "--format",
        "json,html",
        "--out-dir",
        out,
        "--lang",
        "en",
        "--sign",
        "--key",
        pki.files.ecKey,
        "--cert",
        pki.files.ecCert,
        "--passphrase-file",
        pki.files.pass,
        ...(ca === undefined ? [] : ["--ca", ca]),
      ]);
      expect(run.exitCode, run.stderr).toBe(0);
      expect(await readFile(join(out, "result.html"), "utf8")).toContain(expected);
    }
  });

  it("usage errors (exit 64): --sign without key/cert, key without --sign, --sign to stdout", async () => {
    const cases = [
      ["--sign", "--out-dir", "/tmp/x"],
      ["--key", pki.files.ecKey, "--format", "json"],
      ["--sign", "--key", pki.files.ecKey, "--cert", pki.files.ecCert, "--format", "json"],
      [
        "--sign",
        "--key",
        pki.files.ecKey,
        "--cert",
        pki.files.ecCert,
        "--format",
        "html",
        "--out",
        "/tmp/x.html",
      ],
    ];
    for (const args of cases) {
      const run = await koffer(["verify", "--facts", "/nonexistent.json", ...args]);
      expect(run.exitCode, args.join(" ")).toBe(64);
    }
  });

  it("a wrong passphrase is an input error (exit 78) that names neither key nor passphrase", async () => {
    const out = tempDir("vsign");
    const run = await koffer(
      [
        "verify",
        ...target(),
        "--out-dir",
        out,
        "--sign",
        "--key",
        pki.files.ecKey,
        "--cert",
        pki.files.ecCert,
      ],
      { env: { KOFFER_SIGN_PASSPHRASE: "falsch-und-geheim" } },
    );
    expect(run.exitCode).toBe(78);
    expect(run.stderr).toMatch(/signing key/);
    expect(run.stderr).not.toContain("falsch-und-geheim");
    expect(await readdir(out)).toEqual([]);
  });
});
