/**
 * The CI formats validate against the schemas CI servers use: JUnit against the Jenkins xunit
 * XSD with the real xmllint, SARIF against the OASIS 2.1.0 JSON schema with ajv.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { describe, expect, it } from "vitest";
import { render } from "../../src/report/render/index.js";
import { sampleResult } from "../helpers/result.js";
import { tempDir } from "../helpers/tmp.js";

const schemas = fileURLToPath(new URL("../fixtures/schemas/", import.meta.url));
const cases = [
  ["compliant", "de"],
  ["non-compliant", "de"],
  ["non-compliant", "en"],
] as const;

describe("JUnit XML", () => {
  const dir = tempDir("junit");
  for (const [scenario, lang] of cases)
    it(`${scenario} (${lang}) validates against the Jenkins xunit XSD (xmllint)`, async () => {
      const file = join(dir, `${scenario}.${lang}.xml`);
      writeFileSync(file, render(sampleResult(scenario, lang), "junit", { lang }));
      const r = await execa(
        "xmllint",
        ["--noout", "--schema", schemas + "jenkins-xunit-junit-10.xsd", file],
        {
          reject: false,
        },
      );
      expect(r.stderr).toContain("validates");
      expect(r.exitCode).toBe(0);
    });

  it("xmllint rejects a testcase without a name (the validation can fail)", async () => {
    const file = join(dir, "bad.xml");
    writeFileSync(file, render(sampleResult("compliant"), "junit").replace('name="DISK-01" ', ""));
    const r = await execa(
      "xmllint",
      ["--noout", "--schema", schemas + "jenkins-xunit-junit-10.xsd", file],
      {
        reject: false,
      },
    );
    expect(r.exitCode).not.toBe(0);
  });

  it("one testcase per control; failures, errors and skips as the design says", () => {
    const xml = render(sampleResult("non-compliant", "en"), "junit", { lang: "en" });
    expect(xml.match(/<testcase /g)).toHaveLength(10);
    expect(xml).toMatch(
      /<testcase name="USB-01"[^>]*>\s*<failure type="critical" message="Expected exactly/,
    );
    expect(xml).toContain("&lt;script&gt;");
    expect(xml).not.toContain("<script>");
    expect(xml).toMatch(/<testcase name="LOG-01"[^>]*>\s*<error /);
    expect(xml).toMatch(
      /<testcase name="NET-01"[^>]*>\s*<skipped type="waived" message="waived: Wartungsfenster/,
    );
    expect(xml).toMatch(
      /<testcase name="VPN-08"[^>]*>\s*<skipped type="not-applicable" message="Das Profil/,
    );
    expect(xml).toMatch(/<testsuite [^>]*failures="2" errors="1" skipped="3"/);
  });
});

describe("SARIF 2.1.0", () => {
  const schema = JSON.parse(readFileSync(schemas + "sarif-2.1.0.json", "utf8")) as object;
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  (addFormats as unknown as (a: Ajv2020) => void)(ajv);
  const validate = ajv.compile(schema);

  for (const [scenario, lang] of cases)
    it(`${scenario} (${lang}) validates against the OASIS schema`, () => {
      const sarif = JSON.parse(render(sampleResult(scenario, lang), "sarif", { lang })) as unknown;
      const ok = validate(sarif);
      expect(validate.errors ?? []).toEqual([]);
      expect(ok).toBe(true);
    });

  it("the schema rejects a result without a message (the validation can fail)", () => {
    const sarif = JSON.parse(render(sampleResult("non-compliant"), "sarif")) as {
      runs: { results: Record<string, unknown>[] }[];
    };
    delete sarif.runs[0]!.results[0]!.message;
    expect(validate(sarif)).toBe(false);
  });

  it("one rule per control, one result per failing/erroring control, level from severity", () => {
    const sarif = JSON.parse(
      render(sampleResult("non-compliant", "en"), "sarif", { lang: "en" }),
    ) as {
      runs: {
        tool: { driver: { name: string; rules: { id: string; help: { text: string } }[] } };
        results: { ruleId: string; level: string; suppressions?: unknown[] }[];
      }[];
    };
    const run = sarif.runs[0]!;
    expect(run.tool.driver.name).toBe("koffer");
    expect(run.tool.driver.rules.map((r) => r.id)).toHaveLength(10);
    expect(run.tool.driver.rules.find((r) => r.id === "DISK-01")!.help.text).toContain(
      "BSI SYS.3.1.A13",
    );
    const open = run.results.filter((r) => !r.suppressions);
    expect(open.map((r) => [r.ruleId, r.level])).toEqual([
      ["DISK-04", "error"],
      ["USB-01", "error"],
      ["LOG-01", "error"],
    ]);
    expect(run.results.filter((r) => r.suppressions).map((r) => r.ruleId)).toEqual(["NET-01"]);
  });
});
