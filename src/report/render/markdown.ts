import type { Result } from "../types.js";
import { buildDocument, type Block, type Cell, statusMark } from "./document.js";
import type { RenderOptions } from "./options.js";

/** Escape what Markdown (GFM) would interpret, including raw HTML and table pipes. */
function md(text: string): string {
  return text
    .replace(/[\\`*_[\]#|<>]/g, "\\$&")
    .replace(/\r?\n/g, " ")
    .trim();
}

function cell(c: Cell): string {
  if (c.status) return `${statusMark[c.status]} ${md(c.text)}`;
  // A code span cannot hold a backtick safely; those fall back to escaped text.
  return c.code && !c.text.includes("`") ? `\`${c.text.replace(/\|/g, "\\|")}\`` : md(c.text);
}

function block(b: Block): string {
  switch (b.kind) {
    case "p":
      return b.className === "note" ? `> ${md(b.text)}` : md(b.text);
    case "h3":
      return `### ${md(b.text)}`;
    case "list":
      return b.items.map((i) => `- ${md(i)}`).join("\n");
    case "dl":
      return b.items.map(([k, v]) => `- **${md(k)}:** ${cell(v)}`).join("\n");
    case "table":
      return [
        `| ${b.head.map(md).join(" | ")} |`,
        `|${b.head.map(() => "---").join("|")}|`,
        ...b.rows.map((r) => `| ${r.map(cell).join(" | ")} |`),
      ].join("\n");
    case "signature-lines":
      return b.labels.map((l) => `${md(l)}: ______________________`).join("\n\n");
  }
}

/** The data-protection officer's report as Markdown: the same sections and headings as the HTML. */
export function renderMarkdown(result: Result, options: RenderOptions = {}): string {
  const doc = buildDocument(result, options);
  const parts: string[] = [];
  doc.sections.forEach((section, i) => {
    parts.push(i === 0 ? `# 1. ${md(section.heading)}` : `## ${i + 1}. ${md(section.heading)}`);
    if (i === 0) parts.push(`*${md(doc.subtitle)}*`);
    parts.push(...section.blocks.map(block));
  });
  return parts.join("\n\n") + "\n";
}
