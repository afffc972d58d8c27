/**
 * The `pending` status (DISK-04: TPM2+PIN enrolment at first boot) through every consumer that
 * is not a golden file already: the CI formats against the schemas CI servers use, the
 * published result schema (and results written before the status existed), merge and the
 * fleet view, the exit-code gate, and the CLI option.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { tempDir } from "../helpers/tmp.js";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { parseResult } from "../../src/json-input.js";
import { exitCodeFor } from "../../src/report/exit-code.js";
import { mergeResults } from "../../src/report/merge.js";
import { render, renderFleetHtml, renderJson } from "../../src/report/render/index.js";
import type { Result } from "../../src/report/types.js";
import { koffer } from "../helpers/cli.js";
import { sampleResult } from "../helpers/result.js";
import { resultSchemaErrors } from "../helpers/result-schema.js";

const schemas = fileURLToPath(new URL("../fixtures/schemas/", import.meta.url));
const dir = tempDir("pending");

describe("pending in the CI formats", () => {
  it("JUnit: a skipped testcase of type pending, valid against the Jenkins xunit XSD", async () => {
    const xml = render(sampleResult("pending", "en"), "junit", { lang: "en" });
    expect(xml).toMatch(
      /<testcase name="DISK-04"[^>]*>\s*<skipped type="pending" message="TPM2\+PIN enrolment pending at first boot \(unit installed\)/,
    );
    expect(xml).toMatch(/skipped="2"/);
    const file = join(dir, "pending.xml");
    writeFileSync(file, xml);
    const r = await execa(
      "xmllint",
      ["--noout", "--schema", schemas + "jenkins-xunit-junit-10.xsd", file],
      { reject: false },
    );
    expect(r.exitCode).toBe(0);
  });

  it("SARIF: a result of kind open, level none, valid against the OASIS schema", () => {
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    (addFormats as unknown as (a: Ajv2020) => void)(ajv);
    const validate = ajv.compile(
      JSON.parse(readFileSync(schemas + "sarif-2.1.0.json", "utf8")) as object,
    );
    const sarif = JSON.parse(render(sampleResult("pending", "de"), "sarif", { lang: "de" })) as {
      runs: {
        results: { ruleId: string; kind: string; level: string; message: { text: string } }[];
      }[];
    };
    expect(validate(sarif), JSON.stringify(validate.errors)).toBe(true);
    expect(sarif.runs[0]!.results).toEqual([
      expect.objectContaining({
        ruleId: "DISK-04",
        kind: "open",
        level: "none",
        message: {
          text: expect.stringMatching(
            /^TPM2\+PIN-Registrierung beim ersten Start ausstehend \(Dienst installiert\)/,
          ),
        },
      }),
    ]);
  });
});

describe("pending in the PDF", () => {
  it("German and English: the cover verdict and the pending section (Chromium, pdftotext)", async () => {
    for (const lang of ["de", "en"] as const) {
      const json = join(dir, `pending.${lang}.json`);
      writeFileSync(json, renderJson(sampleResult("pending", lang)));
      const pdf = join(dir, `pending.${lang}.pdf`);
      const r = await koffer([
        "report",
        "render",
        json,
        "--format",
        "pdf",
        "--lang",
        lang,
        "--out",
        pdf,
      ]);
      expect(r.exitCode, r.stderr).toBe(0);
      const text = (await execa("pdftotext", ["-layout", pdf, "-"])).stdout.replace(/\s+/g, " ");
      if (lang === "de") {
        expect(text).toContain("Noch nicht konform – 1 Anforderung beim ersten Start ausstehend");
        expect(text).toContain("Ausstehend beim ersten Start");
        expect(text).toContain(
          "TPM2+PIN-Registrierung beim ersten Start ausstehend (Dienst installiert)",
        );
      } else {
        expect(text).toContain("Not compliant yet – 1 requirement pending at first boot");
        expect(text).toContain("Pending at first boot");
        expect(text).toContain("TPM2+PIN enrolment pending at first boot (unit installed)");
      }
    }
  }, 120_000);
});

describe("pending in the result schema", () => {
  it("a result with a pending control validates; an unknown status does not", () => {
    const r = sampleResult("pending", "en");
    expect(r.summary).toMatchObject({ pending: 1, compliant: false, fail: 0 });
    expect(resultSchemaErrors(r)).toEqual([]);
    const bad = JSON.parse(renderJson(r)) as Result;
    (bad.controls[1] as { status: string }).status = "later";
    expect(resultSchemaErrors(bad)).not.toEqual([]);
  });

  it("a result written before the status existed (no summary.pending) reads as 0 pending", async () => {
    const old = JSON.parse(renderJson(sampleResult("compliant"))) as Record<string, unknown>;
    delete (old.summary as Record<string, unknown>).pending;
    const parsed = await parseResult("old.json", JSON.stringify(old));
    expect(parsed.summary.pending).toBe(0);
    expect(render(parsed, "text", { lang: "en" })).not.toContain("pending");
  });
});

describe("pending in merge and the fleet view", () => {
  it("a device whose latest result is pending is listed as pending, not failing, and not compliant", async () => {
    const files: string[] = [];
    for (const [host, scenario] of [
      ["koffer-01", "pending"],
      ["koffer-02", "compliant"],
    ] as const) {
      const r = sampleResult(scenario);
      r.target.hostname = host;
      const file = join(dir, `${host}.json`);
      writeFileSync(file, renderJson(r));
      files.push(file);
    }
    const o = await mergeResults(files, { now: new Date("2025-05-06T00:00:00Z") });
    const m = o.municipalities[0]!;
    expect(m.devices).toBe(2);
    expect(m.compliantDevices).toBe(1);
    expect(m.controls).toEqual([
      expect.objectContaining({ id: "DISK-04", failing: [], erroring: [], pending: ["koffer-01"] }),
    ]);
    for (const lang of ["de", "en"] as const) {
      const html = renderFleetHtml(o, lang);
      expect(html).toContain(
        lang === "de" ? "ausstehend (erster Start) auf" : "pending (first boot) on",
      );
      expect(html).toMatch(/<td>koffer-01<\/td><\/tr>/);
    }
  });
});

describe("the CI gate", () => {
  it("pending exits 1 by default, 0 with --pending=ok; an error still exits 2", () => {
    const r = sampleResult("pending");
    expect(exitCodeFor(r)).toBe(1);
    expect(exitCodeFor(r, "low", "ok")).toBe(0);
    // DISK-04 is high: a gate on critical failures only does not stop on it either.
    expect(exitCodeFor(r, "critical")).toBe(0);
    const errored = sampleResult("pending");
    errored.controls[0]!.status = "error";
    expect(exitCodeFor(errored, "low", "ok")).toBe(2);
  });

  it("koffer verify --pending accepts fail and ok only (usage error 64 otherwise)", async () => {
    const bad = await koffer(["verify", "--pending", "maybe", "--facts", "/nonexistent.json"]);
    expect(bad.stderr).toContain("unknown --pending maybe; use fail or ok");
    expect(bad.exitCode).toBe(64);
    const help = await koffer(["verify", "--help"]);
    expect(help.stdout).toContain("--pending <gate>");
  });
});
