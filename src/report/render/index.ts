/**
 * One Result, every format (REPORT.md). Renderers are pure: `(result, options) → string`;
 * clock and host come from the Result, colour from the options.
 */
import { UsageError } from "../../errors.js";
import type { Result } from "../types.js";
import { renderHtml } from "./html.js";
import { renderJson } from "./json.js";
import { renderJunit } from "./junit.js";
import { renderMarkdown } from "./markdown.js";
import type { RenderOptions } from "./options.js";
import { renderSarif } from "./sarif.js";
import { renderText } from "./text.js";

export type { RenderOptions, SignatureState, StyleRole } from "./options.js";
export { renderJson } from "./json.js";
export { renderText } from "./text.js";
export { renderJunit } from "./junit.js";
export { renderSarif, informationUri } from "./sarif.js";
export { renderMarkdown } from "./markdown.js";
export { renderHtml } from "./html.js";
export {
  renderPdf,
  renderReportPdf,
  runningText,
  chromiumPath,
  chromiumArgs,
  type RunningText,
} from "./pdf.js";
export { renderFleetHtml } from "./fleet.js";

/** Formats `render` produces as a string (`pdf` is produced from `html` by `renderPdf`). */
export const formats = ["text", "json", "junit", "sarif", "md", "html"] as const;
export type Format = (typeof formats)[number];

/** The file extension each format is written with. */
export const formatExtension: Record<Format, string> = {
  text: "txt",
  json: "json",
  junit: "junit.xml",
  sarif: "sarif",
  md: "md",
  html: "html",
};

export function isFormat(name: string): name is Format {
  return (formats as readonly string[]).includes(name);
}

/**
 * Render a Result in one format.
 * @throws UsageError for an unknown format.
 */
export function render(result: Result, format: Format, options: RenderOptions = {}): string {
  switch (format) {
    case "text":
      return renderText(result, options);
    case "json":
      return renderJson(result);
    case "junit":
      return renderJunit(result, options);
    case "sarif":
      return renderSarif(result, options);
    case "md":
      return renderMarkdown(result, { ...options, lang: options.lang ?? "de" });
    case "html":
      return renderHtml(result, { ...options, lang: options.lang ?? "de" });
    default:
      throw new UsageError(`unknown report format ${String(format)}; known: ${formats.join(", ")}`);
  }
}
