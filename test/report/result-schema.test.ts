/**
 * schema/result.schema.json describes every Result koffer produces: evaluate on the
 * hardened and weak facts, the renderers' golden results, and `koffer verify --format json`
 * on the hardened laptop and a weak one. It also rejects what is not a Result, so the
 * checks above can fail.
 */
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import type { Facts } from "../../src/facts/types.js";
import type { Result } from "../../src/report/types.js";
import { evaluate } from "../../src/report/evaluate.js";
import { vpnPki } from "../checks/vpn-pki.js";
import { koffer, repoRoot } from "../helpers/cli.js";
import { hardenedFacts, hardenedVolume } from "../helpers/facts.js";
import { buildHardenedLaptop } from "../helpers/laptop.js";
import { makeProfile } from "../helpers/profile.js";
import { resultSchema, resultSchemaErrors } from "../helpers/result-schema.js";
import { sampleResult } from "../helpers/result.js";

const now = new Date();
const pki = await vpnPki();

describe("the schema itself", () => {
  it("is draft 2020-12 for koffer/result/v1 and is published with the package", () => {
    expect(resultSchema).toMatchObject({
      $schema: "https://json-schema.org/draft/2020-12/schema",
      properties: { schema: { const: "koffer/result/v1" } },
    });
    const pkg = JSON.parse(readFileSync(`${repoRoot}package.json`, "utf8")) as {
      files: string[];
      exports: Record<string, string>;
    };
    expect(pkg.files).toContain("schema/");
    expect(pkg.exports["./schema/result.schema.json"]).toBe("./schema/result.schema.json");
  });
});

describe("Results from evaluate validate", () => {
  const base = hardenedFacts();
  const cases: [string, Facts, Parameters<typeof makeProfile>[0]?][] = [
    ["hardened", base],
    ["gather error", { ...base, gatherErrors: [{ area: "usb", message: "crashed" }] }],
    [
      "damaged LUKS header",
      {
        ...base,
        disk: {
          ...base.disk,
          volumes: [hardenedVolume({ version: null, error: "Device is not a valid LUKS device." })],
        },
      },
    ],
    [
      "autologin with an expired waiver",
      {
        ...base,
        accounts: {
          ...base.accounts,
          autologin: [{ kind: "gdm3", user: "buergerbuero", source: "/etc/gdm3/daemon.conf:2" }],
        },
      },
      {
        waivers: [
          {
            control: "ACC-02",
            reason: "Kiosk",
            author: "a@example.org",
            approvedBy: "b@example.org",
            risk: "low",
            expires: "2020-01-31",
          },
        ],
      },
    ],
    [
      "a valid waiver",
      {
        ...base,
        accounts: {
          ...base.accounts,
          autologin: [{ kind: "gdm3", user: "buergerbuero", source: "/etc/gdm3/daemon.conf:2" }],
        },
      },
      {
        waivers: [
          {
            control: "ACC-02",
            reason: "Kiosk",
            author: "a@example.org",
            approvedBy: "b@example.org",
            risk: "low",
            expires: "2099-12-31",
          },
        ],
      },
    ],
  ];
  for (const [name, facts, overrides] of cases)
    it(name, () => {
      for (const lang of ["de", "en"] as const) {
        const result = evaluate(makeProfile(overrides), facts, { now, lang, vpnCa: pki.ca });
        expect(resultSchemaErrors(result)).toEqual([]);
      }
    });
  it("covers every status the schema knows", () => {
    const statuses = new Set(
      cases.flatMap(([, facts, overrides]) =>
        evaluate(makeProfile(overrides), facts, { now, vpnCa: pki.ca }).controls.map(
          (c) => c.status,
        ),
      ),
    );
    expect([...statuses].sort()).toEqual([
      "error",
      "fail",
      "not-applicable",
      "pass",
      "skip",
      "waived",
    ]);
  });
});

describe("the renderers' golden results validate", () => {
  const dir = fileURLToPath(new URL("../fixtures/reports/", import.meta.url));
  const files = readdirSync(dir).filter((f) => f.endsWith(".json"));
  it("there are golden results", () => expect(files.length).toBeGreaterThanOrEqual(4));
  for (const file of files)
    it(file, () => {
      expect(resultSchemaErrors(JSON.parse(readFileSync(dir + file, "utf8")))).toEqual([]);
    });
  it("and the sample results with full context", () => {
    for (const scenario of ["compliant", "non-compliant"] as const)
      expect(resultSchemaErrors(sampleResult(scenario, "en"))).toEqual([]);
  });
});

describe("koffer verify --format json validates", () => {
  let hardened: { root: string; disk: string; profilePath: string };
  let weak: { root: string; disk: string; profilePath: string };
  beforeAll(async () => {
    hardened = await buildHardenedLaptop();
    weak = await buildHardenedLaptop({ expiredForeignRsa2048Cert: true, luks1: true });
  });
  for (const [name, exit] of [
    ["hardened laptop", 0],
    ["weak laptop", 1],
  ] as const)
    it(name, async () => {
      const l = name === "hardened laptop" ? hardened : weak;
      const run = await koffer([
        "verify",
        "--root",
        l.root,
        "--disk",
        l.disk,
        "--profile",
        l.profilePath,
        "--format",
        "json",
      ]);
      expect(run.exitCode, run.stderr).toBe(exit);
      const result = JSON.parse(run.stdout) as Result;
      expect(result.schema).toBe("koffer/result/v1");
      expect(resultSchemaErrors(result)).toEqual([]);
    });
});

describe("what is not a Result is rejected", () => {
  const good = sampleResult("non-compliant", "en");
  const bad: [string, (r: Record<string, unknown>) => void, string][] = [
    [
      "an unknown status",
      (r) => ((r.controls as { status: string }[])[0]!.status = "ok"),
      "/controls/0/status",
    ],
    [
      "a missing summary count",
      (r) => delete (r.summary as Record<string, unknown>).skip,
      "/summary",
    ],
    ["a foreign schema id", (r) => (r.schema = "koffer/result/v2"), "/schema"],
    [
      "a skip without reason",
      (r) => {
        const c = (r.controls as Record<string, unknown>[])[0]!;
        c.status = "skip";
        delete c.reason;
      },
      "/controls/0",
    ],
    ["a bad timestamp", (r) => (r.startedAt = "yesterday"), "/startedAt"],
    ["an unknown top-level field", (r) => (r.secret = "x"), "/"],
    [
      "a profile hash that is not SHA-256",
      (r) => ((r.profile as Record<string, unknown>).sha256 = "abc"),
      "/profile/sha256",
    ],
  ];
  for (const [name, mutate, path] of bad)
    it(name, () => {
      const r = structuredClone(good) as unknown as Record<string, unknown>;
      mutate(r);
      const errors = resultSchemaErrors(r);
      expect(errors.length).toBeGreaterThan(0);
      expect(errors.some((e) => e.startsWith(`${path} `))).toBe(true);
    });
});
