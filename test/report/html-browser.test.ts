/**
 * The HTML report in a real headless Chromium (Debian `chromium` via playwright-core):
 * every control shows, nothing is fetched, it prints to A4, and a screenshot is kept.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MissingToolError } from "../../src/errors.js";
import { chromiumArgs, render, renderPdf } from "../../src/report/render/index.js";
import { sampleResult } from "../helpers/result.js";

const artifacts = fileURLToPath(new URL("../../test-artifacts/", import.meta.url));
let browser: Browser;

beforeAll(async () => {
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: chromiumArgs });
}, 60_000);
afterAll(async () => {
  await browser?.close();
});

describe("HTML report in headless Chromium", () => {
  it("shows every control and every heading, makes no request, prints to A4", async () => {
    const result = sampleResult("non-compliant");
    result.profile.title = "<script>window.pwned=1</script>Meerane";
    const html = render(result, "html", { source: { sha256: "ab".repeat(32) } });
    const page = await browser.newPage({ viewport: { width: 1000, height: 1400 } });
    const requests: string[] = [];
    page.on("request", (r) => {
      if (!r.url().startsWith("data:")) requests.push(r.url());
    });
    await page.route("**/*", (route) => {
      requests.push(route.request().url());
      return route.abort();
    });
    await page.setContent(html, { waitUntil: "load" });

    const text = await page.locator("body").innerText();
    for (const c of result.controls) expect(text).toContain(c.id);
    const h2 = await page.locator("h2").allInnerTexts();
    expect(h2).toEqual([
      "2. Zusammenfassung",
      "3. Prüfgegenstand und Geltungsbereich",
      "4. Bezug zum Verzeichnis von Verarbeitungstätigkeiten",
      "5. Schutzbedarf",
      "6. Prüfmaßstab",
      "7. Maßnahmen nach Art. 32 Abs. 1 DSGVO",
      "8. Zuordnung zu den Gewährleistungszielen des SDM",
      "9. Einzelergebnisse",
      "10. Abweichungen und genehmigte Ausnahmen",
      "11. Maßnahmenplan",
      "12. Vorgehen bei Verlust oder Diebstahl",
      "13. Anlagen",
    ]);
    expect(await page.locator("h1").innerText()).toContain("Prüfbericht „Mobiler Bürgerkoffer“");
    // The profile title was shown as text, not run.
    expect(
      await page.evaluate(() => (globalThis as unknown as { pwned?: number }).pwned),
    ).toBeUndefined();
    expect(await page.locator("script").count()).toBe(0);
    expect(text).toContain("<script>window.pwned=1</script>Meerane");
    const headers = await page.locator("table.results thead th").allInnerTexts();
    expect(headers).toEqual([
      "Prüfpunkt",
      "Anforderung",
      "Grundlage",
      "Soll",
      "Ist (Befund)",
      "Bewertung",
      "Nachweis",
    ]);
    expect(text).toContain("0c4b:9102");
    expect(requests).toEqual([]);

    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: artifacts + "report.png", fullPage: false });
    const pdf = await page.pdf({ format: "A4", printBackground: true });
    expect(pdf.length).toBeGreaterThan(10_000);
    expect(pdf.subarray(0, 5).toString("latin1")).toBe("%PDF-");
    writeFileSync(artifacts + "report.pdf", pdf);
    await page.close();
  }, 60_000);

  it("fits the page: no text runs out of its box (German and English, both verdicts)", async () => {
    for (const [scenario, lang] of [
      ["compliant", "de"],
      ["non-compliant", "de"],
      ["compliant", "en"],
    ] as const) {
      const page = await browser.newPage({ viewport: { width: 800, height: 1200 } });
      await page.setContent(render(sampleResult(scenario, lang), "html", { lang }), {
        waitUntil: "load",
      });
      // Evaluated in the page (strings: the project compiles without the DOM library).
      const overflowing = await page.evaluate<string[]>(
        `[...document.querySelectorAll("dd, td, p, h1, h2")]
          .filter((el) => el.scrollWidth > el.clientWidth + 1)
          .map((el) => el.tagName + ": " + (el.textContent ?? "").slice(0, 60))`,
      );
      expect(overflowing, `${scenario} ${lang}`).toEqual([]);
      expect(
        await page.evaluate<number>("document.documentElement.scrollWidth"),
      ).toBeLessThanOrEqual(800);
      await page.close();
    }
  }, 60_000);

  it("English with lang en", async () => {
    const html = render(sampleResult("compliant", "en"), "html", { lang: "en" });
    const page = await browser.newPage();
    await page.setContent(html);
    expect(await page.locator("html").getAttribute("lang")).toBe("en");
    expect(await page.locator("h2").first().innerText()).toBe("2. Summary");
    await page.close();
  }, 60_000);
});

describe("renderPdf", () => {
  it("prints A4 through Chromium", async () => {
    const pdf = await renderPdf(render(sampleResult("compliant"), "html"));
    expect(pdf.subarray(0, 5).toString("latin1")).toBe("%PDF-");
    // A4 is 595 × 842 pt.
    expect(pdf.toString("latin1")).toMatch(/\/MediaBox \[0 0 594\.\d+ 841\.\d+\]/);
  }, 60_000);

  it("names the Debian package when Chromium is missing", async () => {
    const error = await renderPdf("<p>x</p>", { executablePath: "/nonexistent/chromium" }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MissingToolError);
    expect((error as Error).message).toContain("apt-get install chromium");
  }, 60_000);
});
