import type { Result } from "../types.js";
import { buildDocument, type Block, type Cell, statusMark } from "./document.js";
import { escapeXml as h } from "./escape.js";
import type { RenderOptions } from "./options.js";

// Inline so the report is one self-contained file; the CSP below forbids every fetch.
const css = `
@page { size: A4; margin: 18mm 15mm 20mm 15mm; }
:root { --pass: #1a7f37; --fail: #c62828; --waived: #8a6d00; --muted: #555; --line: #c8c8c8; }
* { box-sizing: border-box; }
body { font: 10pt/1.45 "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: #111; margin: 0 auto; max-width: 190mm; padding: 8mm 0; }
h1 { font-size: 17pt; margin: 0 0 2mm; line-height: 1.25; }
h2 { font-size: 13pt; margin: 8mm 0 3mm; border-bottom: 1.5pt solid #1f3b64; padding-bottom: 1mm; color: #1f3b64; break-after: avoid; }
h3 { font-size: 11pt; margin: 5mm 0 2mm; break-after: avoid; }
.subtitle { color: var(--muted); margin: 0 0 5mm; }
header.cover { border: 1pt solid #1f3b64; padding: 5mm; margin-bottom: 4mm; overflow-wrap: break-word; }
dl { display: grid; grid-template-columns: 55mm minmax(0, 1fr); gap: 1mm 4mm; margin: 0; }
dt { font-weight: bold; }
dd { margin: 0; min-width: 0; overflow-wrap: anywhere; }
dd .st { white-space: normal; }
table { border-collapse: collapse; width: 100%; margin: 2mm 0 3mm; font-size: 9pt; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
th, td { border: 0.5pt solid var(--line); padding: 1.2mm 1.6mm; text-align: left; vertical-align: top; hyphens: manual; overflow-wrap: normal; word-break: normal; }
th { background: #e8edf4; }
td:first-child { white-space: nowrap; }
td code { overflow-wrap: anywhere; }
.nowrap { white-space: nowrap; }
table.results { font-size: 7pt; table-layout: auto; }
table.results td:nth-child(2) { min-width: 30mm; }
table.results td:nth-child(7) { max-width: 30mm; }
table.results .st { white-space: normal; }
table.matrix td:not(:first-child), table.matrix th:not(:first-child) { text-align: center; }
table.matrix th { font-size: 7pt; }
table.counts { width: auto; min-width: 80mm; }
code, .code { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 0.92em; }
.st { font-weight: bold; white-space: nowrap; }
.st-pass { color: var(--pass); }
.st-fail, .st-error { color: var(--fail); }
.st-waived { color: var(--waived); }
.st-skip, .st-not-applicable { color: var(--muted); }
.st-pending { color: var(--waived); font-weight: bold; }
p.note { color: var(--muted); font-size: 9pt; }
p.verdict-pass, p.verdict-fail { font-weight: bold; padding: 2mm 3mm; border-left: 3pt solid; }
p.verdict-pass { border-color: var(--pass); background: #eef7f0; }
p.verdict-fail { border-color: var(--fail); background: #fbeeee; }
p.verdict-limited { font-weight: bold; padding: 2mm 3mm; border-left: 3pt solid var(--waived); background: #fdf6e3; }
p.test-material { font-weight: bold; color: var(--fail); border: 1.5pt solid var(--fail); background: #fbeeee; padding: 2mm 3mm; margin: 3mm 0 0; }
ul.columns { columns: 3; column-gap: 6mm; list-style: none; padding: 0; margin: 0; font: 7pt/1.35 "DejaVu Sans Mono", "Liberation Mono", monospace; }
ul.columns li { break-inside: avoid; overflow-wrap: anywhere; }
.page-break { break-before: page; }
.signature-lines { display: grid; grid-template-columns: repeat(3, 1fr); gap: 8mm; margin-top: 16mm; }
.signature-lines div { border-top: 0.75pt solid #111; padding-top: 1mm; font-size: 8.5pt; color: var(--muted); }
footer { margin-top: 8mm; font-size: 8pt; color: var(--muted); }
@media print { body { padding: 0; max-width: none; } header.cover { margin-right: 0.5mm; } }
`;

function cell(c: Cell): string {
  if (c.status)
    return `<span class="st st-${c.status}">${statusMark[c.status]} ${h(c.text)}</span>`;
  return c.code ? `<code>${h(c.text)}</code>` : h(c.text);
}

function block(b: Block): string {
  switch (b.kind) {
    case "p":
      return `<p${b.className ? ` class="${b.className}"` : ""}>${h(b.text)}</p>`;
    case "h3":
      return `<h3${b.pageBreak ? ' class="page-break"' : ""}>${h(b.text)}</h3>`;
    case "list":
      return `<ul${b.className ? ` class="${b.className}"` : ""}>\n${b.items.map((i) => `<li>${h(i)}</li>`).join("\n")}\n</ul>`;
    case "dl":
      return `<dl>\n${b.items.map(([k, v]) => `<dt>${h(k)}</dt><dd>${cell(v)}</dd>`).join("\n")}\n</dl>`;
    case "table":
      return [
        `<table${b.className ? ` class="${b.className}"` : ""}>`,
        `<thead><tr>${b.head.map((x) => `<th>${h(x)}</th>`).join("")}</tr></thead>`,
        `<tbody>`,
        ...b.rows.map((r) => `<tr>${r.map((c) => `<td>${cell(c)}</td>`).join("")}</tr>`),
        `</tbody>`,
        `</table>`,
      ].join("\n");
    case "signature-lines":
      return `<div class="signature-lines">${b.labels.map((l) => `<div>${h(l)}</div>`).join("")}</div>`;
  }
}

/**
 * The data-protection officer's report: one self-contained HTML file (inline CSS, no scripts,
 * no external requests) that prints to A4; German unless `options.lang` is `en`.
 */
export function renderHtml(result: Result, options: RenderOptions = {}): string {
  const doc = buildDocument(result, options);
  const [cover, ...rest] = doc.sections;
  const out: string[] = [
    "<!DOCTYPE html>",
    `<html lang="${doc.lang}">`,
    "<head>",
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta name="generator" content="koffer ${h(result.tool.version)}">`,
    `<title>${h(doc.title)} – ${h(result.target.hostname)}</title>`,
    `<style>${css}</style>`,
    "</head>",
    "<body>",
  ];
  if (cover) {
    out.push(`<header class="cover" id="${cover.id}">`);
    out.push(`<h1>1. ${h(cover.heading)}</h1>`);
    out.push(`<p class="subtitle">${h(doc.subtitle)}</p>`);
    out.push(...cover.blocks.map(block));
    out.push("</header>");
  }
  rest.forEach((section, i) => {
    out.push(`<section id="${section.id}"${section.pageBreak ? ' class="page-break"' : ""}>`);
    out.push(`<h2>${i + 2}. ${h(section.heading)}</h2>`);
    out.push(...section.blocks.map(block));
    out.push("</section>");
  });
  out.push(
    `<footer>koffer ${h(result.tool.version)} · ${h(result.profile.name)} · ${h(result.target.hostname)} · ${h(result.startedAt)}</footer>`,
  );
  out.push("</body>", "</html>", "");
  return out.join("\n");
}
