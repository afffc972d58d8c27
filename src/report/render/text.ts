import type { Result, Status } from "../types.js";
import type { RenderOptions, StyleRole } from "./options.js";
import { statusLabel } from "./labels.js";

const symbol: Record<Status, string> = {
  pass: "✔",
  fail: "✘",
  error: "!",
  waived: "~",
  "not-applicable": "-",
  skip: "?",
};

const words = {
  expected: { de: "Soll", en: "expected" },
  actual: { de: "Ist", en: "found" },
  reason: { de: "Grund", en: "reason" },
  waiver: { de: "Ausnahme", en: "waiver" },
  until: { de: "bis", en: "until" },
  compliant: { de: "KONFORM", en: "COMPLIANT" },
  nonCompliant: { de: "NICHT KONFORM", en: "NOT COMPLIANT" },
  controls: { de: "Prüfpunkte", en: "controls" },
} as const;

/**
 * Terminal output for the technician: one line per control (symbol, id, title), failures with
 * expected vs. actual, a summary line. Colour comes from `options.style`, which the CLI sets
 * (chalk, honouring NO_COLOR and non-TTY); without it the output is plain.
 */
export function renderText(result: Result, options: RenderOptions = {}): string {
  const lang = options.lang ?? result.lang;
  const style = options.style ?? ((_role: StyleRole, s: string) => s);
  const idWidth = Math.max(0, ...result.controls.map((c) => c.id.length));
  const lines: string[] = [];
  lines.push(
    style(
      "bold",
      `${result.target.hostname} · ${result.profile.title ?? result.profile.name} · ${result.startedAt}`,
    ),
  );
  for (const c of result.controls) {
    const title = c.titles[lang] ?? c.title;
    lines.push(`${style(c.status, symbol[c.status])} ${c.id.padEnd(idWidth)}  ${title}`);
    const indent = " ".repeat(idWidth + 4);
    if (c.status === "fail" || c.status === "error") {
      const message = c.messages[0]?.text[lang] ?? c.message;
      if (message) lines.push(indent + message);
      for (const e of c.evidence) {
        // Evidence that matches the expectation explains nothing about a failure.
        if (e.expected === e.actual) continue;
        lines.push(`${indent}${e.subject}: ${words.expected[lang]}: ${e.expected}`);
        lines.push(
          `${indent}${" ".repeat(e.subject.length + 2)}${words.actual[lang]}: ${style("fail", e.actual)}` +
            (e.source ? style("dim", `  (${e.source})`) : ""),
        );
      }
    }
    if (c.reason && (c.status === "skip" || c.status === "not-applicable" || c.status === "error"))
      lines.push(style("dim", `${indent}${words.reason[lang]}: ${c.reason}`));
    if (c.waiver)
      lines.push(
        style(
          "dim",
          `${indent}${words.waiver[lang]}: ${c.waiver.reason} (${c.waiver.approvedBy}, ${words.until[lang]} ${c.waiver.expires})`,
        ),
      );
  }
  const s = result.summary;
  const counts = (
    [
      ["pass", s.pass],
      ["fail", s.fail],
      ["error", s.error],
      ["waived", s.waived],
      ["not-applicable", s.notApplicable],
      ["skip", s.skip],
    ] as const
  )
    .map(([status, n]) => `${n} ${statusLabel[status][lang]}`)
    .join(", ");
  const verdict = s.compliant ? words.compliant[lang] : words.nonCompliant[lang];
  lines.push("");
  lines.push(
    `${style(s.compliant ? "pass" : "fail", verdict)}: ${result.controls.length} ${words.controls[lang]} — ${counts}`,
  );
  return lines.join("\n") + "\n";
}
