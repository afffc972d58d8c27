/**
 * The evidence behind `releases["debian-13"].mlkem` (issue 13): what Debian 13's own
 * strongSwan packages can do, recorded by scripts/probe-trixie-mlkem.sh in a throwaway copy
 * of the cached trixie root (every trixie suite asked, every plugin package installed,
 * charon started, `swanctl --list-algs` printed). This test keeps the data and the recorded
 * output in step; the running-laptop rig asks the live charon the same question
 * (test/rig/laptop.test.ts), so a Debian package that gains ML-KEM fails one of the two.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { releases } from "../../src/platform/releases.js";
import { repoRoot } from "../helpers/cli.js";

const output = readFileSync(join(repoRoot, "test/fixtures/trixie-mlkem/probe-output.txt"), "utf8");
const trixie = releases["debian-13"];

/** The lines of one `### heading` section of the probe output. */
function section(heading: string): string[] {
  const start = output.indexOf(`### ${heading}`);
  if (start < 0) throw new Error(`no section ${heading}`);
  const rest = output.slice(start).split("\n").slice(1);
  const end = rest.findIndex((l) => l.startsWith("### ") || l.startsWith("# "));
  return end < 0 ? rest : rest.slice(0, end);
}

describe("Debian 13's strongSwan and ML-KEM: the recorded probe agrees with releases.ts", () => {
  it("was recorded on a Debian 13 root with its script", () => {
    expect(output).toMatch(/^# produced by scripts\/probe-trixie-mlkem\.sh on \d{4}-/m);
    expect(output).toMatch(/^### \/etc\/debian_version: 13\.\d+$/m);
  });

  it("no trixie suite (main, updates, backports, security) has another strongSwan", () => {
    const madison = section("packages matching strongswan in any suite, with versions");
    const suites = new Set(
      madison.map((l) => /debian(?:-security)? (trixie[a-z-]*)\//.exec(l)?.[1]),
    );
    expect(output).toMatch(/Suites: trixie-updates trixie-backports/);
    const versions = new Set(
      madison
        .filter((l) => /^\s*(strongswan|libstrongswan|charon-systemd)\b/.test(l))
        .map((l) => l.split("|")[1]?.trim()),
    );
    expect([...versions]).toEqual([expect.stringMatching(/^6\.0\.1-/)]);
    expect(suites).not.toContain("trixie-backports");
    expect(suites).not.toContain("trixie-updates");
    expect(trixie.strongswanVersion).toBe("6.0.1");
  });

  it("every plugin package installs, and none ships the ml plugin", () => {
    expect(output).toContain("### apt-get install (all plugin packages) exit 0");
    for (const pkg of [
      "libstrongswan",
      "libstrongswan-standard-plugins",
      "libstrongswan-extra-plugins",
      "libcharon-extra-plugins",
      "charon-systemd",
    ])
      expect(section("installed")).toContainEqual(expect.stringMatching(`^${pkg} 6\\.0\\.1-`));
    expect(section("plugin shared objects").join(" ")).toContain("libstrongswan-openssl.so");
    expect(section("plugin shared objects").join(" ")).not.toMatch(/libstrongswan-ml\.so/);
    expect(section("ls /usr/lib/ipsec/plugins/libstrongswan-ml.so").join("\n")).toMatch(
      /No such file or directory/,
    );
  });

  it("the OpenSSL 3.5 underneath has ML-KEM, but the openssl plugin does not use OpenSSL's KEM API", () => {
    expect(section("installed")).toContainEqual(expect.stringMatching(/^libssl3t64 3\.5\./));
    const kems = section(
      "the OpenSSL these packages run on provides ML-KEM itself: openssl list -kem-algorithms",
    );
    expect(kems.join("\n")).toMatch(/ML-KEM-768/);
    const imports = section(
      "objdump -T usr/lib/ipsec/plugins/libstrongswan-openssl.so | grep -E 'EVP_PKEY_(en|de)capsulate|EVP_KEM'",
    );
    expect(imports[0]).toBe("(none)");
    // The same grep on the same file does find OpenSSL's key agreement: the probe can match.
    expect(
      section("the same plugin imports OpenSSL's key agreement (proof the grep can match):"),
    ).toContain("EVP_PKEY_derive");
  });

  it("charon with every plugin loaded offers ECP_384 and no ML-KEM key exchange", () => {
    const ke = section("key exchange methods offered by the loaded plugins:");
    expect(ke).toContain("  ECP_384[openssl]");
    expect(ke.filter((l) => /ML_KEM|MLKEM/i.test(l))).toEqual([]);
    expect(section("any ML-KEM in --list-algs?")).toContain("(none)");
    expect(section("swanctl --stats | loaded plugins")[0]).toMatch(/ openssl .* gcm /);
    expect(trixie.mlkem.packaged).toBe(false);
    expect(trixie.packages.strongswanPostQuantum).toEqual([]);
  });
});
