import type { ControlResult, Lang, Result } from "../types.js";
import { durationSeconds, escapeXml as x } from "./escape.js";
import { statusLabel } from "./labels.js";
import type { RenderOptions } from "./options.js";

function evidenceText(c: ControlResult): string {
  return c.evidence
    .map(
      (e) =>
        `${e.subject}: expected ${e.expected}, found ${e.actual}` +
        (e.source ? ` (${e.source})` : ""),
    )
    .join("\n");
}

function testcase(c: ControlResult, classname: string, lang: Lang): string {
  const open = `    <testcase name="${x(c.id)}" classname="${x(classname)}" time="0">`;
  const title = c.titles[lang] ?? c.title;
  const message = c.messages[0]?.text[lang] ?? c.message;
  let body = "";
  switch (c.status) {
    case "pass":
      return `    <testcase name="${x(c.id)}" classname="${x(classname)}" time="0"/>`;
    case "fail":
      body = `      <failure type="${x(c.severity)}" message="${x(message || title)}">${x(evidenceText(c))}</failure>`;
      break;
    case "error":
      body = `      <error type="error" message="${x(c.reason ?? message ?? title)}">${x(message)}</error>`;
      break;
    case "waived": {
      const w = c.waiver;
      const why = w
        ? `${statusLabel.waived[lang]}: ${w.reason} (${w.approvedBy}, ${w.expires})`
        : statusLabel.waived[lang];
      body = `      <skipped type="waived" message="${x(why)}"/>`;
      break;
    }
    // Pending is not a test failure; the run's exit code is the gate (README "CI gates").
    case "pending":
    case "not-applicable":
    case "skip":
      body = `      <skipped type="${c.status}" message="${x(c.reason ?? statusLabel[c.status][lang])}"/>`;
      break;
  }
  return `${open}\n${body}\n      <system-out>${x(title)}</system-out>\n    </testcase>`;
}

/**
 * JUnit XML in the Jenkins xunit dialect: one testsuite per run, one testcase per control
 * named by its id; waived, not-applicable, skip and pending are `skipped` (type = status)
 * with the reason.
 */
export function renderJunit(result: Result, options: RenderOptions = {}): string {
  const lang = options.lang ?? result.lang;
  const s = result.summary;
  const time = durationSeconds(result.startedAt, result.finishedAt);
  const suite = `koffer ${result.profile.name} ${result.target.hostname}`;
  const classname = `koffer.${result.profile.name}`;
  const props: [string, string][] = [
    ["profile", result.profile.name],
    ["profile.sha256", result.profile.sha256],
    ["target.kind", result.target.kind],
    ["tool.version", result.tool.version],
    ["catalogueVersion", result.tool.catalogueVersion],
    ["compliant", String(s.compliant)],
  ];
  const skipped = s.waived + s.notApplicable + s.skip + (s.pending ?? 0);
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="koffer" tests="${result.controls.length}" failures="${s.fail}" errors="${s.error}" time="${time}">`,
    `  <testsuite name="${x(suite)}" tests="${result.controls.length}" failures="${s.fail}" errors="${s.error}" skipped="${skipped}" time="${time}" timestamp="${x(result.startedAt)}" hostname="${x(result.target.hostname)}">`,
    `    <properties>`,
    ...props.map(([n, v]) => `      <property name="${x(n)}" value="${x(v)}"/>`),
    `    </properties>`,
    ...result.controls.map((c) => testcase(c, classname, lang)),
    `  </testsuite>`,
    `</testsuites>`,
    "",
  ].join("\n");
}
