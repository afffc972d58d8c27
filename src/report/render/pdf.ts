import { MissingToolError } from "../../errors.js";
import type { Lang, Result } from "../types.js";
import { formatDate } from "./document.js";
import { escapeXml as h } from "./escape.js";
import { renderHtml } from "./html.js";
import type { RenderOptions } from "./options.js";

/** The running header and footer of every printed page (a filed report must be traceable). */
export interface RunningText {
  /** Header: device, date, profile hash. */
  header: string;
  lang: Lang;
}

/** Device, audit date and profile hash, as every page of the PDF carries them. */
export function runningText(result: Result, lang: Lang): RunningText {
  const profile = lang === "de" ? "Profil SHA-256" : "Profile SHA-256";
  return {
    header: `${result.target.hostname} · ${formatDate(result.startedAt, lang)} · ${profile} ${result.profile.sha256.slice(0, 16)}…`,
    lang,
  };
}

const templateStyle =
  "font: 7.5pt 'DejaVu Sans', 'Liberation Sans', Arial, sans-serif; color: #555; width: 100%; margin: 0 15mm; display: flex; justify-content: space-between;";

function headerTemplate(r: RunningText): string {
  const title = r.lang === "de" ? "Prüfbericht Art. 32 DSGVO" : "Audit report Art. 32 GDPR";
  return `<div style="${templateStyle}"><span>${h(title)}</span><span>${h(r.header)}</span></div>`;
}

function footerTemplate(r: RunningText): string {
  const [page, of] = r.lang === "de" ? ["Seite", "von"] : ["Page", "of"];
  return `<div style="${templateStyle}"><span>koffer</span><span>${page} <span class="pageNumber"></span> ${of} <span class="totalPages"></span></span></div>`;
}

/** Where Debian's `chromium` package installs the browser. */
export const chromiumPath = "/usr/bin/chromium";

/**
 * Flags for a throwaway headless browser that talks to nobody. Playwright adds a fresh,
 * temporary user-data-dir of its own for every launch.
 */
export const chromiumArgs = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/**
 * Print the HTML report to an A4 PDF with headless Chromium (Debian package `chromium`).
 * Every request the page would make is refused, so the PDF shows only what the HTML carries.
 * @throws MissingToolError naming the Debian package when Chromium is not installed.
 */
export async function renderPdf(
  html: string,
  options: { executablePath?: string; running?: RunningText } = {},
): Promise<Buffer> {
  const { chromium } = await import("playwright-core");
  let browser;
  try {
    browser = await chromium.launch({
      executablePath: options.executablePath ?? chromiumPath,
      args: chromiumArgs,
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/doesn't exist|ENOENT|not found|no such file/i.test(message))
      throw new MissingToolError("chromium", "chromium");
    throw error;
  }
  try {
    const page = await browser.newPage();
    await page.route("**/*", (route) => route.abort());
    await page.setContent(html, { waitUntil: "load" });
    const running = options.running;
    return await page.pdf({
      format: "A4",
      printBackground: true,
      // Tagged (accessible) PDF with an outline: the document language comes from <html lang>.
      tagged: true,
      outline: true,
      ...(running === undefined
        ? { preferCSSPageSize: true }
        : {
            displayHeaderFooter: true,
            headerTemplate: headerTemplate(running),
            footerTemplate: footerTemplate(running),
            margin: { top: "20mm", bottom: "18mm", left: "15mm", right: "15mm" },
          }),
    });
  } finally {
    await browser.close();
  }
}

/**
 * The data-protection officer's report as a PDF fit for filing: the HTML report printed to A4,
 * tagged, with page numbers and a running header (device, date, profile hash) on every page.
 */
export async function renderReportPdf(
  result: Result,
  options: RenderOptions & { executablePath?: string } = {},
): Promise<Buffer> {
  const lang = options.lang ?? "de";
  return renderPdf(renderHtml(result, { ...options, lang }), {
    ...(options.executablePath === undefined ? {} : { executablePath: options.executablePath }),
    running: runningText(result, lang),
  });
}
