import { MissingToolError } from "../../errors.js";

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
  options: { executablePath?: string } = {},
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
    return await page.pdf({ format: "A4", printBackground: true, preferCSSPageSize: true });
  } finally {
    await browser.close();
  }
}
