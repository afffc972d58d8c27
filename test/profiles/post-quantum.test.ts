/**
 * Hybrid post-quantum IKEv2 in the profile (`spec.vpn.postQuantum`): which proposals are
 * hybrid, what validation rejects (ML-KEM alone, non-hybrid forms under `required`), what the
 * platform can do (Debian 12's strongSwan 5.9 cannot parse additional key exchanges), and
 * what koffer writes on each release. Rule ids and FILE:LINE:COLUMN are asserted here; the
 * broken corpus (test/fixtures/profiles/broken/pq-*.yaml) pins the exact lines and exit 78.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadProfile } from "../../src/profiles/loader.js";
import { checkProposal, keyExchangeForm, platformProposals } from "../../src/profiles/proposals.js";
import { koffer, repoRoot } from "../helpers/cli.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "koffer-pq-"));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function load(name: string, spec: string) {
  const file = join(dir, `${name}.yaml`);
  await writeFile(
    file,
    [
      "apiVersion: koffer/v1",
      "kind: Profile",
      "metadata:",
      `  name: ${name}`,
      "extends: [koffer:baseline]",
      "spec:",
      spec,
      "",
    ].join("\n"),
  );
  const result = await loadProfile(file);
  return {
    ...result,
    rules: result.problems.map((p) => `${p.severity} ${p.rule} ${p.path}`),
    at: (rule: string) => result.problems.find((p) => p.rule === rule)?.position,
  };
}

describe("the key exchanges of a proposal", () => {
  it.each([
    ["aes256gcm16-prfsha384-ecp384-ke1_mlkem768", true],
    ["aes256gcm16-prfsha384-ecp384bp-ke1_mlkem1024-ke2_mlkem768", true],
    ["aes256gcm16-prfsha384-ecp384", false],
    // optional: a gateway without ML-KEM gets a classical SA
    ["aes256gcm16-prfsha384-ecp384-ke1_mlkem768-ke1_none", false],
    // two classical exchanges are not post-quantum
    ["aes256gcm16-prfsha384-ecp384-ke1_ecp521", false],
    // a slot that may be classical or ML-KEM is not guaranteed hybrid
    ["aes256gcm16-prfsha384-ecp384-ke1_mlkem768-ke1_ecp521", false],
    // ML-KEM without a classical group
    ["aes256gcm16-prfsha384-ke1_mlkem768", false],
  ])("%s is hybrid: %s", (proposal, hybrid) => {
    expect(keyExchangeForm(proposal).hybrid).toBe(hybrid);
  });

  it("rejects ML-KEM alone, as the initial or the only additional exchange", () => {
    expect(checkProposal("aes256gcm16-prfsha384-mlkem768", "ike").map((i) => i.rule)).toEqual([
      "tr02102/pq-hybrid",
    ]);
    expect(checkProposal("aes256gcm16-prfsha384-ke1_mlkem768", "ike").map((i) => i.rule)).toEqual([
      "tr02102/pq-hybrid",
    ]);
    expect(checkProposal("aes256gcm16-ke1_mlkem768", "esp").map((i) => i.rule)).toEqual([
      "tr02102/pq-hybrid",
    ]);
    expect(checkProposal("aes256gcm16-prfsha384-ecp384-ke1_mlkem768-ke1_none", "ike")).toEqual([]);
  });

  it("leaves hybrid proposals out only where strongSwan cannot parse them", () => {
    const vpn = {
      proposals: {
        ike: ["aes256gcm16-prfsha384-ecp384-ke1_mlkem768", "aes256gcm16-prfsha384-ecp384"],
        esp: ["aes256gcm16-ecp384-ke1_mlkem768", "aes256gcm16-ecp384"],
      },
    };
    expect(platformProposals(vpn, true)).toEqual(vpn.proposals);
    expect(platformProposals(vpn, false)).toEqual({
      ike: ["aes256gcm16-prfsha384-ecp384"],
      esp: ["aes256gcm16-ecp384"],
    });
  });
});

describe("spec.vpn.postQuantum in validation", () => {
  const proposals = (ike: string[], esp: string[]) =>
    ["    proposals:", `      ike: [${ike.join(", ")}]`, `      esp: [${esp.join(", ")}]`].join(
      "\n",
    );
  const hybridIke = "aes256gcm16-prfsha384-ecp384-ke1_mlkem768";
  const hybridEsp = "aes256gcm16-ecp384-ke1_mlkem768";

  it("required on Debian 13 with hybrid proposals: valid, with a warning that Debian's packages lack ML-KEM", async () => {
    const r = await load(
      "ok13",
      `  platform: debian-13\n  vpn:\n    postQuantum: required\n${proposals([hybridIke], [hybridEsp])}`,
    );
    expect(r.profile?.spec.platform).toBe("debian-13");
    expect(r.profile?.spec.vpn.postQuantum).toBe("required");
    expect(r.rules).toEqual(["warning platform/post-quantum-provider /spec/vpn/postQuantum"]);
  });

  it("required rejects every non-hybrid IKE and ESP proposal at its own line and column", async () => {
    const r = await load(
      "req",
      `  platform: debian-13\n  vpn:\n    postQuantum: required\n${proposals(
        [hybridIke, "aes256gcm16-prfsha384-ecp384-ke1_mlkem768-ke1_none"],
        ["aes256gcm16-ecp384"],
      )}`,
    );
    expect(r.profile).toBeNull();
    expect(r.rules).toEqual([
      "warning platform/post-quantum-provider /spec/vpn/postQuantum",
      "error vpn/pq-hybrid-required /spec/vpn/proposals/ike/1",
      "error vpn/pq-hybrid-required /spec/vpn/proposals/esp/0",
    ]);
    expect(r.problems.find((p) => p.path === "/spec/vpn/proposals/ike/1")?.position).toMatchObject({
      line: 11,
      column: 56,
    });
  });

  it("preferred needs the first IKE proposal hybrid; a classical fallback may follow", async () => {
    const ok = await load(
      "pref",
      `  platform: debian-13\n  vpn:\n    postQuantum: preferred\n${proposals(
        [hybridIke, "aes256gcm16-prfsha384-ecp384"],
        [hybridEsp, "aes256gcm16-ecp384"],
      )}`,
    );
    expect(ok.profile).not.toBeNull();
    const bad = await load(
      "pref-bad",
      `  platform: debian-13\n  vpn:\n    postQuantum: preferred\n${proposals(
        ["aes256gcm16-prfsha384-ecp384", hybridIke],
        [hybridEsp],
      )}`,
    );
    expect(bad.rules).toContain("error vpn/pq-hybrid-preferred /spec/vpn/proposals/ike/0");
  });

  it("Debian 12: required is an error, preferred a warning, a hybrid proposal without postQuantum an error", async () => {
    const required = await load(
      "req12",
      `  platform: debian-12\n  vpn:\n    postQuantum: required\n${proposals([hybridIke], [hybridEsp])}`,
    );
    expect(required.rules).toEqual([
      "error platform/post-quantum /spec/vpn/postQuantum",
      "error platform/additional-ke /spec/vpn/proposals/ike/0",
      "error platform/additional-ke /spec/vpn/proposals/esp/0",
    ]);
    expect(required.at("platform/post-quantum")).toMatchObject({ line: 9, column: 18 });
    expect(required.problems[0]?.message).toMatch(/strongSwan 5\.9, which cannot negotiate ML-KEM/);

    const preferred = await load(
      "pref12",
      `  platform: debian-12\n  vpn:\n    postQuantum: preferred\n${proposals(
        [hybridIke, "aes256gcm16-prfsha384-ecp384"],
        [hybridEsp, "aes256gcm16-ecp384"],
      )}`,
    );
    expect(preferred.profile).not.toBeNull();
    expect(preferred.rules).toEqual(["warning platform/post-quantum /spec/vpn/postQuantum"]);
    expect(preferred.problems[0]?.message).toMatch(/writes only the classical proposals/);

    const onlyHybrid = await load(
      "pref12-only",
      `  platform: debian-12\n  vpn:\n    postQuantum: preferred\n${proposals([hybridIke], [hybridEsp])}`,
    );
    expect(onlyHybrid.rules).toContain("error platform/post-quantum /spec/vpn/proposals/ike");

    const silent = await load(
      "silent12",
      `  vpn:\n${proposals([hybridIke], ["aes256gcm16-ecp384"])}`,
    );
    expect(silent.rules).toEqual(["error platform/additional-ke /spec/vpn/proposals/ike/0"]);
  });

  it("koffer validate exits 78 on a Debian 12 profile that requires hybrid key exchange, 0 on the trixie example", async () => {
    const bad = await koffer([
      "validate",
      join(repoRoot, "test/fixtures/profiles/broken/pq-debian-12.yaml"),
    ]);
    expect(bad.exitCode).toBe(78);
    expect(bad.stderr).toMatch(/pq-debian-12\.yaml:9:18: Expected a platform that can do hybrid/);
    const good = await koffer(["validate", join(repoRoot, "examples/meerane-trixie.yaml")]);
    expect(good.exitCode, good.stderr).toBe(0);
  });
});
