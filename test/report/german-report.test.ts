/**
 * The German report a data-protection officer reads (issue 15): no English fragment, no
 * "Erwartet…" in the Ist column, no contradiction, test material named on the cover, and a
 * PDF fit for filing (tagged, page numbers, running header). Screenshots of the HTML report
 * and of the PDF pages are kept in test-artifacts/report/ (CI artefacts) for a person to look at.
 */
import { execa } from "execa";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { controls } from "../../src/checks/index.js";
import { placeholders, formatMessage } from "../../src/i18n/format.js";
import { evidenceText, localizeData } from "../../src/i18n/evidence.js";
import {
  chromiumArgs,
  chromiumPath,
  render,
  renderReportPdf,
} from "../../src/report/render/index.js";
import type { Result } from "../../src/report/types.js";
import { koffer, repoRoot } from "../helpers/cli.js";
import { debianRoot, debianRootSkipReason } from "../helpers/debian-root.js";
import { buildHardenedLaptop, type Laptop } from "../helpers/laptop.js";
import { englishIn, proseOf } from "./german-words.js";

const artifacts = join(repoRoot, "test-artifacts", "report");
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "koffer-german-report-"));
  await mkdir(artifacts, { recursive: true });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Sample data for a template: machine values as checks produce them, rendered as evaluate does. */
function sample(template: string): Record<string, string | number> {
  const values = ["not installed", "none", "(not set)", "enabled", "disabled", "no entries"];
  const data: Record<string, string | number> = {};
  placeholders(template).forEach((name, i) => (data[name] = values[i % values.length]!));
  return localizeData(data, "de");
}

describe("every control's German texts", () => {
  it("have no English fragment in any message (rendered with sample data), title, description or fix", () => {
    const problems: string[] = [];
    for (const control of controls) {
      const { meta } = control;
      for (const [id, template] of Object.entries(meta.messages)) {
        const text = formatMessage(template.de, sample(template.de));
        for (const w of englishIn(text)) problems.push(`${meta.id} ${id}: ${w}`);
      }
      for (const [what, text] of [
        ["title", meta.title.de],
        ["description", meta.description.de],
        ["fix", meta.fix?.de ?? ""],
      ] as const)
        for (const w of englishIn(text)) problems.push(`${meta.id} ${what}: ${w}`);
    }
    expect(problems).toEqual([]);
  });
});

/**
 * The fixed vocabulary of the checks' evidence: every literal (or template with its variable
 * parts filled) the controls pass as `expected` or `actual` to `ev()`, read from the source.
 */
function evidenceLiterals(): { file: string; value: string }[] {
  const dir = join(repoRoot, "src", "checks");
  const found: { file: string; value: string }[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".ts"))) {
    const source = ts.createSourceFile(
      file,
      readFileSync(join(dir, file), "utf8"),
      ts.ScriptTarget.Latest,
      true,
    );
    const visit = (node: ts.Node): void => {
      if (
        ts.isCallExpression(node) &&
        ts.isIdentifier(node.expression) &&
        node.expression.text === "ev"
      )
        for (const arg of node.arguments.slice(1, 3)) {
          if (ts.isStringLiteral(arg) || ts.isNoSubstitutionTemplateLiteral(arg))
            found.push({ file, value: arg.text });
          else if (ts.isTemplateExpression(arg))
            found.push({
              file,
              value: arg.head.text + arg.templateSpans.map((s) => "2" + s.literal.text).join(""),
            });
        }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}

describe("every control's evidence", () => {
  it("renders every fixed evidence value of the checks in German, without English words", () => {
    const literals = evidenceLiterals();
    expect(literals.length).toBeGreaterThan(100);
    const problems = literals.flatMap(({ file, value }) => {
      const de = evidenceText(value, "de");
      return englishIn(de).map(
        (w) => `${file}: ${JSON.stringify(value)} → ${JSON.stringify(de)}: ${w}`,
      );
    });
    expect(problems).toEqual([]);
  });
});

/** Verify a target with the real CLI and return the Result. */
async function verifyJson(name: string, args: string[]): Promise<Result> {
  const out = join(dir, `${name}.json`);
  const run = await koffer(["verify", ...args, "--format", "json", "--out", out]);
  expect([0, 1], run.stderr).toContain(run.exitCode);
  return JSON.parse(await readFile(out, "utf8")) as Result;
}

const targetArgs = (l: Laptop) => ["--root", l.root, "--disk", l.disk, "--profile", l.profilePath];

/** The Ist (Befund) cells of the Einzelergebnisse table. */
function istCells(html: string): string[] {
  const table = /<table class="results">([\s\S]*?)<\/table>/.exec(html)?.[1] ?? "";
  return [...table.matchAll(/<tr>(?:<td>[\s\S]*?<\/td>){4}<td>([\s\S]*?)<\/td>/g)].map((m) =>
    (m[1] as string).replace(/<[^>]+>/g, ""),
  );
}

function germanProblems(html: string): string[] {
  const problems = proseOf(html).flatMap((t) => englishIn(t));
  for (const cell of istCells(html))
    if (/^\s*Erwartet/.test(cell)) problems.push(`Ist column starts with Erwartet: ${cell}`);
  return problems;
}

/** Screenshots: the HTML report (full page) and every PDF page, into test-artifacts/report/. */
async function screenshots(
  name: string,
  result: Result,
): Promise<{ pdfinfo: string; text: string }> {
  const html = render(result, "html", { lang: "de" });
  await writeFile(join(artifacts, `${name}.html`), html);
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
  try {
    const page = await browser.newPage({ viewport: { width: 1000, height: 1200 } });
    await page.route("**/*", (route) => route.abort());
    await page.setContent(html, { waitUntil: "load" });
    await page.screenshot({ path: join(artifacts, `${name}.html.png`), fullPage: true });
  } finally {
    await browser.close();
  }
  const pdfPath = join(artifacts, `${name}.pdf`);
  await writeFile(pdfPath, await renderReportPdf(result, { lang: "de" }));
  await execa("pdftoppm", ["-png", "-r", "60", pdfPath, join(artifacts, `${name}.pdf-page`)]);
  const pdfinfo = (await execa("pdfinfo", [pdfPath])).stdout;
  const text = (await execa("pdftotext", ["-layout", pdfPath, "-"])).stdout;
  return { pdfinfo, text };
}

function checkPdf(pdf: { pdfinfo: string; text: string }, result: Result): void {
  expect(pdf.pdfinfo).toMatch(/^Tagged:\s+yes$/m);
  const pages = Number(/^Pages:\s+(\d+)$/m.exec(pdf.pdfinfo)?.[1]);
  expect(pages).toBeGreaterThanOrEqual(4);
  expect(pages).toBeLessThanOrEqual(20);
  // Page numbers and the running header (device, profile hash) on every page.
  expect(pdf.text).toContain(`Seite 1 von ${pages}`);
  expect(pdf.text).toContain(`Seite ${pages} von ${pages}`);
  const headers = pdf.text.split(result.profile.sha256.slice(0, 16)).length - 1;
  expect(headers).toBeGreaterThanOrEqual(pages);
  // No date broken inside a table cell ("01.12.20|26").
  expect(pdf.text).not.toMatch(/\b\d{2}\.\d{2}\.\d{2}\s*\n/);
}

const skipReason = debianRootSkipReason();

describe.skipIf(skipReason !== null)("a real verify, rendered in German", () => {
  it("the plain debootstrapped Debian root (a failing laptop): no English, Ist without Erwartet", async () => {
    const root = await debianRoot();
    const result = await verifyJson("debian", ["--root", root]);
    expect(result.summary.compliant).toBe(false);
    const html = render(result, "html", { lang: "de" });
    expect(germanProblems(html)).toEqual([]);
    // Skipped controls are named in the summary, not hidden behind "Keine Abweichungen".
    expect(html).toContain("Nicht geprüft (nicht prüfbar)");
    expect(html).toContain("BOOT-01");
  }, 600_000);

  it("the hardened (demo-like compliant) laptop: limited verdict, waivers, test material on the cover; screenshots", async () => {
    const laptop = await buildHardenedLaptop();
    const result = await verifyJson("compliant", targetArgs(laptop));
    expect(result.summary.fail).toBe(0);
    const html = render(result, "html", { lang: "de" });
    expect(germanProblems(html)).toEqual([]);
    const cover = /<header class="cover"[\s\S]*?<\/header>/.exec(html)?.[0] ?? "";
    if (result.summary.skip > 0) {
      const n = result.summary.skip;
      expect(cover).toContain(
        `Konform, mit Einschränkungen: ${n} Anforderung${n === 1 ? "" : "en"} nicht prüfbar`,
      );
      expect(html).not.toContain("Keine Maßnahmen erforderlich");
    }
    // The laptop's VPN certificate comes from the example CA "KOFFER TEST VPN CA – NICHT PRODUKTIV".
    expect(cover).toContain("Testmaterial — nicht für den Produktivbetrieb");
    const pdf = await screenshots("compliant-laptop", result);
    checkPdf(pdf, result);
    expect(pdf.text.split("\n").slice(0, 80).join("\n")).toContain("Testmaterial");
  }, 600_000);

  it("a failing laptop (ssh with passwords, core dumps, autologin): screenshots and a sane PDF", async () => {
    const laptop = await buildHardenedLaptop({
      sshdWithPasswords: true,
      coreDumps: true,
      autologin: true,
    });
    const result = await verifyJson("failing", targetArgs(laptop));
    expect(result.summary.compliant).toBe(false);
    const html = render(result, "html", { lang: "de" });
    expect(germanProblems(html)).toEqual([]);
    expect(html).toContain("Nicht konform");
    checkPdf(await screenshots("failing-laptop", result), result);
  }, 600_000);
});
