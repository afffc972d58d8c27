import type { Result, Status } from "../types.js";
import type { RenderOptions, StyleRole } from "./options.js";
import { statusLabel } from "./labels.js";
import { countOf } from "../../i18n/format.js";

const symbol: Record<Status, string> = {
  pass: "✔",
  fail: "✘",
  error: "!",
  waived: "~",
  "not-applicable": "-",
  skip: "?",
  pending: "…",
};

const words = {
  expected: { de: "Soll", en: "expected" },
  actual: { de: "Ist", en: "found" },
  reason: { de: "Grund", en: "reason" },
  waiver: { de: "Ausnahme", en: "waiver" },
  until: { de: "bis", en: "until" },
  sameAs: { de: "wie bei", en: "same as" },
  compliant: { de: "KONFORM", en: "COMPLIANT" },
  nonCompliant: { de: "NICHT KONFORM", en: "NOT COMPLIANT" },
  controls: { de: ["Prüfpunkt", "Prüfpunkte"], en: ["control", "controls"] },
} as const;

// eslint-disable-next-line no-control-regex
const controls = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g;

/**
 * Text from the profile, the facts or a result file, made safe for a terminal: control
 * characters (ESC, CR, BEL, C1 …) are shown as `\xNN` instead of being obeyed, so a value read
 * from a target (a hostname, a file's content) cannot move the cursor, erase a failing line, or
 * start a line of its own that looks like a passing control.
 */
function safe(text: unknown): string {
  return String(text ?? "").replace(
    controls,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

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
      `${safe(result.target.hostname)}${result.target.release ? ` (${safe(result.target.release.name)})` : ""} · ${safe(result.profile.title ?? result.profile.name)} · ${safe(result.startedAt)}`,
    ),
  );
  // A cause shared by many controls (a missing tool, an area that could not be read) is said
  // once; the controls after the first point back to it.
  const said = new Map<string, string>();
  for (const c of result.controls) {
    const title = safe(c.titles[lang] ?? c.title);
    lines.push(`${style(c.status, symbol[c.status])} ${safe(c.id).padEnd(idWidth)}  ${title}`);
    const indent = " ".repeat(idWidth + 4);
    const message = c.messages[0]?.text[lang] ?? c.message;
    const first = c.status === "error" ? said.get(message) : undefined;
    if (first !== undefined) {
      lines.push(style("dim", `${indent}${words.sameAs[lang]} ${safe(first)}`));
      continue;
    }
    if (c.status === "error" && message) said.set(message, c.id);
    if (c.status === "fail" || c.status === "error") {
      if (message) lines.push(indent + safe(message));
      for (const e of c.evidence) {
        // Evidence that matches the expectation explains nothing about a failure.
        if (e.expected === e.actual) continue;
        lines.push(`${indent}${safe(e.subject)}: ${words.expected[lang]}: ${safe(e.expected)}`);
        lines.push(
          `${indent}${" ".repeat(safe(e.subject).length + 2)}${words.actual[lang]}: ${style("fail", safe(e.actual))}` +
            (e.source ? style("dim", `  (${safe(e.source)})`) : ""),
        );
      }
    }
    if (
      c.reason &&
      (c.status === "skip" ||
        c.status === "pending" ||
        c.status === "not-applicable" ||
        (c.status === "error" && c.reason !== message))
    )
      lines.push(style("dim", `${indent}${words.reason[lang]}: ${safe(c.reason)}`));
    if (c.waiver)
      lines.push(
        style(
          "dim",
          `${indent}${words.waiver[lang]}: ${safe(c.waiver.reason)} (${safe(c.waiver.approvedBy)}, ${words.until[lang]} ${safe(c.waiver.expires)})`,
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
      ["pending", s.pending ?? 0],
    ] as const
  )
    .filter(([status, n]) => status !== "pending" || n > 0)
    .map(([status, n]) => `${n} ${statusLabel[status][lang]}`)
    .join(", ");
  const verdict = s.compliant ? words.compliant[lang] : words.nonCompliant[lang];
  lines.push("");
  lines.push(
    `${style(s.compliant ? "pass" : "fail", verdict)}: ${countOf(result.controls.length, words.controls[lang][0], words.controls[lang][1])} — ${counts}`,
  );
  return lines.join("\n") + "\n";
}
