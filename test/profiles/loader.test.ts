import { afterAll, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { InputError } from "../../src/errors.js";
import { baseline } from "../../src/profiles/baseline.js";
import { loadProfile, loadProfileOrThrow } from "../../src/profiles/loader.js";
import { missingAfterMerge, profileSchema, profileValidator } from "../../src/profiles/schema.js";
import { repoRoot } from "../helpers/cli.js";

const fixtures = path.join(repoRoot, "test/fixtures/profiles");
const examples = ["meerane", "schkeuditz", "limbach-oberfrohna", "feldberger-seenlandschaft"];
const now = new Date("2026-06-01T12:00:00Z");
const scratch = mkdtempSync(path.join(tmpdir(), "koffer-profiles-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("examples", () => {
  for (const name of examples) {
    it(`${name}.yaml loads without problems`, async () => {
      const file = path.join(repoRoot, "examples", `${name}.yaml`);
      const { profile, problems } = await loadProfile(file, { now });
      expect(problems).toEqual([]);
      expect(profile?.metadata.name).toBe(name);
      expect(profile?.source.extends).toEqual(["koffer:baseline"]);
      expect(profile?.spec.vpn.caCertificate).toBe(
        path.join(repoRoot, "examples/certs/test-vpn-ca.pem"),
      );
      expect(readFileSync(file, "utf8").split("\n")[0]).toBe(
        "# yaml-language-server: $schema=../schema/profile.schema.json",
      );
    });
  }

  it("at least one example carries a valid waiver beyond 2027-06 and every attest control", async () => {
    const profiles = await Promise.all(
      examples.map((n) =>
        loadProfileOrThrow(path.join(repoRoot, "examples", `${n}.yaml`), { now }),
      ),
    );
    expect(profiles.some((p) => p.waivers.some((w) => w.expires > "2027-06-30"))).toBe(true);
    const attested = new Set(profiles.flatMap((p) => p.spec.attestations.map((a) => a.control)));
    for (const id of ["BOOT-03", "APP-04", "ACC-06", "DATA-05", "DATA-06"])
      expect(attested).toContain(id);
  });
});

describe("schema and types stay in step", () => {
  // Keys of the TypeScript types (src/profiles/types.ts), listed by hand: a key added to
  // one side only fails here.
  const typeKeys: Record<string, string[]> = {
    "": ["apiVersion", "kind", "metadata", "spec", "waivers"],
    metadata: [
      "name",
      "title",
      "controller",
      "processor",
      "servedAreas",
      "dataProtectionOfficer",
      "processingRecords",
      "protectionNeeds",
    ],
    spec: [
      "platform",
      "disk",
      "boot",
      "vpn",
      "devices",
      "apps",
      "accounts",
      "network",
      "updates",
      "logging",
      "data",
      "attestations",
    ],
    disk: [
      "encryption",
      "cipher",
      "keyBits",
      "pbkdf",
      "unlock",
      "tpm2Pcrs",
      "recovery",
      "swap",
      "hibernation",
    ],
    vpn: [
      "type",
      "gateway",
      "gatewayId",
      "caCertificate",
      "proposals",
      "postQuantum",
      "remoteNetworks",
      "alwaysOn",
      "killSwitch",
      "certificate",
    ],
    device: ["name", "role", "usb", "serial", "interfaces", "packages", "services", "certified"],
    devices: ["default", "allow", "blockMassStorage"],
    apps: ["allow", "deny", "desktopApps"],
    accounts: ["admins", "users", "autologin", "screenLockSeconds", "password"],
    network: ["inboundDefault", "ssh", "sshListenAddress", "bluetooth", "uplinks"],
    attestation: ["control", "by", "date", "statement"],
    waiver: ["control", "reason", "author", "approvedBy", "risk", "expires"],
  };
  const schema = profileSchema() as {
    properties: object;
    $defs: Record<string, { properties: object; additionalProperties: boolean }>;
  };

  for (const [def, keys] of Object.entries(typeKeys)) {
    it(`${def || "profile"} has exactly the type's keys`, () => {
      const node = def === "" ? schema : schema.$defs[def]!;
      // `extends` exists only in files, not in the loaded Profile.
      expect(
        Object.keys(node.properties)
          .filter((k) => k !== "extends")
          .sort(),
      ).toEqual([...keys].sort());
    });
  }

  it("is strict: every object schema forbids unknown keys", () => {
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) return node.forEach(walk);
      if (node === null || typeof node !== "object") return;
      const o = node as Record<string, unknown>;
      if (o.type === "object") expect(o.additionalProperties).toBe(false);
      Object.values(o).forEach(walk);
    };
    walk(schema);
  });

  it("is a valid draft 2020-12 schema (koffer skips this check at run time)", async () => {
    const { Ajv2020 } = await import("ajv/dist/2020.js");
    const ajv = new Ajv2020({ strict: true, allowUnionTypes: true });
    ajv.addKeyword({ keyword: "x-koffer-required", schemaType: "array" });
    expect(ajv.validateSchema(profileSchema()), JSON.stringify(ajv.errors)).toBe(true);
  });

  it("the baseline validates and is complete once a profile names itself", async () => {
    const validate = await profileValidator();
    const document = { ...structuredClone(baseline), metadata: { name: "baseline" } };
    expect(validate(document), JSON.stringify(validate.errors)).toBe(true);
    expect(missingAfterMerge(document)).toEqual([]);
    expect(Object.keys(baseline.spec).sort()).toEqual([...typeKeys.spec!].sort());
  });
});

describe("extends and merge rules", () => {
  it("merges parent, baseline and child as documented", async () => {
    const { profile, problems } = await loadProfile(path.join(fixtures, "valid/town.yaml"), {
      now,
    });
    expect(problems.map((p) => p.rule)).toEqual(["waiver/expired"]);
    expect(problems[0]).toMatchObject({
      severity: "warning",
      path: "/waivers/1/expires",
      position: { line: 19 },
    });
    expect(profile).not.toBeNull();
    const p = profile!;
    // In merge order: each file once, parents first.
    expect(p.source.extends).toEqual([
      "koffer:baseline",
      path.join(fixtures, "valid/district/kisa-base.yaml"),
    ]);
    // Mappings merge, scalars replace: the parent's screen lock survives the later baseline.
    expect(p.spec.accounts.screenLockSeconds).toBe(240);
    expect(p.metadata).toEqual({
      name: "town",
      processor: "KISA",
      controller: "Stadt Musterstadt",
    });
    // devices.allow: union keyed by name; USB ids normalised to lower-case lists.
    expect(p.spec.devices.allow.map((d) => [d.name, d.usb])).toEqual([
      ["Fingerprint scanner", ["080b:0010", "080b:0002"]],
      ["Printer", ["03f0:1234"]],
      ["eID reader", ["0c4b:0501"]],
    ]);
    // apps.deny: union, the baseline's list kept.
    expect(p.spec.apps.deny).toContain("openssh-server");
    expect(p.spec.apps.deny).toContain("games-common");
    // Waivers keyed by control: the town's UPD-03 replaces the district's.
    expect(p.waivers.map((w) => [w.control, w.expires])).toEqual([
      ["UPD-03", "2027-09-30"],
      ["BOOT-01", "2025-12-31"],
    ]);
    // A path is resolved against the file that names it.
    expect(p.spec.vpn.caCertificate).toBe(path.join(fixtures, "valid/district/certs/ca.pem"));
  });

  it("ssh: true on koffer:baseline is valid: the baseline's openssh-server denial yields (issue 11)", async () => {
    const examplesDir = path.join(repoRoot, "examples");
    const file = path.join(examplesDir, "ssh-admin.tmp.yaml");
    const text = readFileSync(path.join(examplesDir, "meerane.yaml"), "utf8").replace(
      /network:\n(\s+)/,
      (_m, indent: string) =>
        `network:\n${indent}ssh: true\n${indent}sshListenAddress: 10.8.0.7\n${indent}`,
    );
    writeFileSync(file, text.replace(/^(\s+)ssh: false\n/m, ""));
    try {
      const { profile, problems } = await loadProfile(file, { now });
      expect(problems.filter((p) => p.severity === "error")).toEqual([]);
      expect(profile?.spec.network.ssh).toBe(true);
      expect(profile?.spec.apps.deny).not.toContain("openssh-server");
      expect(profile?.spec.apps.deny).toContain("telnetd");
    } finally {
      rmSync(file, { force: true });
    }
  });

  it("reports a problem inherited from a parent in the parent's file", async () => {
    const dir = mkdtempSync(path.join(scratch, "inherit-"));
    writeFileSync(
      path.join(dir, "base.yaml"),
      "apiVersion: koffer/v1\nkind: Profile\nmetadata: { name: base }\nextends: koffer:baseline\nspec:\n  apps: { allow: [cups] }\n",
    );
    writeFileSync(
      path.join(dir, "town.yaml"),
      "apiVersion: koffer/v1\nkind: Profile\nmetadata: { name: town }\nextends: base.yaml\nspec:\n  apps: { deny: [cups] }\n",
    );
    const { problems } = await loadProfile(path.join(dir, "town.yaml"), { now });
    expect(problems).toMatchObject([
      {
        rule: "contradiction/app-allow-deny",
        path: "/spec/apps/allow/0",
        position: { file: path.join(dir, "base.yaml"), line: 6, column: 19 },
      },
    ]);
  });
});

describe("extends cannot read files that are not profiles", () => {
  it("an absolute path or a non-YAML file is refused unread, so its content is never echoed", async () => {
    const dir = mkdtempSync(path.join(scratch, "extends-secret-"));
    const secret = "root:$y$j9T$NotForStderr$abc:19000:0:99999:7:::\n";
    writeFileSync(path.join(dir, "shadow"), secret);
    for (const ref of [path.join(dir, "shadow"), "./shadow", "../../../../etc/shadow"]) {
      writeFileSync(
        path.join(dir, "evil.yaml"),
        `apiVersion: koffer/v1\nkind: Profile\nmetadata: { name: evil }\nextends: [koffer:baseline, "${ref}"]\n`,
      );
      const { profile, problems } = await loadProfile(path.join(dir, "evil.yaml"), { now });
      expect(profile).toBeNull();
      expect(problems).toMatchObject([
        {
          rule: "extends/path",
          path: "/extends/1",
          position: { file: path.join(dir, "evil.yaml"), line: 4 },
        },
      ]);
      expect(JSON.stringify(problems)).not.toContain("NotForStderr");
    }
  });
});

describe("loading", () => {
  it("an expired waiver is a warning: the profile stays valid", async () => {
    const { profile, problems } = await loadProfile(path.join(fixtures, "valid/town.yaml"), {
      now: new Date("2025-06-01"),
    });
    expect(problems).toEqual([]);
    expect(profile).not.toBeNull();
  });

  it("refuses an oversized file quickly, before parsing", async () => {
    const file = path.join(scratch, "huge.yaml");
    writeFileSync(file, "apiVersion: koffer/v1\n" + "# padding\n".repeat(40_000));
    const started = performance.now();
    const { profile, problems } = await loadProfile(file);
    expect(performance.now() - started).toBeLessThan(200);
    expect(profile).toBeNull();
    expect(problems).toMatchObject([
      { rule: "input/too-large", message: "Expected a profile of at most 256 KiB, found 391 KiB" },
    ]);
  });

  it("reports a missing file instead of throwing", async () => {
    const { profile, problems } = await loadProfile(path.join(scratch, "nope.yaml"));
    expect(profile).toBeNull();
    expect(problems).toMatchObject([{ rule: "input/not-found", position: { line: 1, column: 1 } }]);
  });

  it("loadProfileOrThrow throws an InputError carrying every problem (exit 78)", async () => {
    const file = path.join(fixtures, "broken/many-problems.yaml");
    const error = await loadProfileOrThrow(file, { now }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    const input = error as InputError;
    expect(input.exitCode).toBe(78);
    expect(input.problems.length).toBeGreaterThanOrEqual(15);
    expect(new Set(input.problems.map((p) => p.rule)).size).toBeGreaterThanOrEqual(10);
  });

  it("records the SHA-256 of the profile's bytes", async () => {
    const file = path.join(repoRoot, "examples/meerane.yaml");
    const profile = await loadProfileOrThrow(file, { now });
    const { createHash } = await import("node:crypto");
    expect(profile.source).toMatchObject({
      file,
      sha256: createHash("sha256").update(readFileSync(file)).digest("hex"),
    });
  });
});
