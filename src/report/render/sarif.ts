import type { Severity } from "../../profiles/types.js";
import type { ControlResult, Evidence, Result } from "../types.js";
import type { RenderOptions } from "./options.js";

/** Where SARIF consumers link the tool; the package's registry page. */
export const informationUri = "https://www.npmjs.com/package/koffer";

const level: Record<Severity, "error" | "warning" | "note"> = {
  critical: "error",
  high: "error",
  medium: "warning",
  low: "note",
};

/** `/etc/usbguard/rules.conf:3` → a file location; a command or subject → a logical location. */
function location(e: Evidence): Record<string, unknown> {
  const m = /^(\/[^\s:]+)(?::(\d+))?$/.exec(e.source ?? "");
  if (m?.[1])
    return {
      physicalLocation: {
        artifactLocation: { uri: encodeURI(`file://${m[1]}`) },
        ...(m[2] ? { region: { startLine: Number(m[2]) } } : {}),
      },
      message: { text: `${e.subject}: expected ${e.expected}, found ${e.actual}` },
    };
  return {
    logicalLocations: [{ name: e.subject, kind: "resource" }],
    message: { text: `${e.subject}: expected ${e.expected}, found ${e.actual}` },
  };
}

/**
 * SARIF 2.1.0: one rule per control (id, short and full description, help with the basis),
 * one result per failing or erroring control (waived failures as suppressed results),
 * level from severity; a pending control (first-boot enrolment) as kind "open", level "none".
 */
export function renderSarif(result: Result, options: RenderOptions = {}): string {
  const lang = options.lang ?? result.lang;
  const rules = result.controls.map((c) => {
    const title = c.titles[lang] ?? c.title;
    const basis = c.references.join("; ");
    const helpHead = lang === "de" ? "Grundlage" : "Basis";
    const fix = c.fix?.[lang];
    return {
      id: c.id,
      name: c.id.replace(/-/g, ""),
      shortDescription: { text: title },
      fullDescription: { text: c.description?.[lang] ?? title },
      help: {
        text: `${helpHead}: ${basis || "—"}` + (fix ? `\n${fix}` : ""),
        markdown:
          `**${helpHead}:** ${basis || "—"}` +
          (fix ? `\n\n${fix.replace(/[*_`[\]]/g, "\\$&")}` : ""),
      },
      defaultConfiguration: { level: level[c.severity] },
      properties: {
        severity: c.severity,
        kind: c.kind,
        references: c.references,
        sdmGoals: c.sdmGoals,
        art32: c.art32,
        tags: ["security", ...c.references],
      },
    };
  });
  const reported = (c: ControlResult) =>
    c.status === "fail" ||
    c.status === "error" ||
    c.status === "pending" ||
    (c.status === "waived" && c.evidence.some((e) => e.expected !== e.actual));
  const results = result.controls.flatMap((c, ruleIndex) => {
    if (!reported(c)) return [];
    const message =
      c.status === "error"
        ? `${c.messages[0]?.text[lang] ?? c.message} ${c.reason ?? ""}`.trim()
        : (c.messages[0]?.text[lang] ?? c.message) || (c.titles[lang] ?? c.title);
    const failing = c.evidence.filter((e) => e.expected !== e.actual);
    return [
      {
        ruleId: c.id,
        ruleIndex,
        // SARIF 2.1.0 §3.27.9: "open" = not decided yet; any kind but "fail" has level "none".
        kind: c.status === "pending" ? "open" : "fail",
        level: c.status === "pending" ? "none" : c.status === "error" ? "error" : level[c.severity],
        message: { text: message || c.id },
        ...(failing.length > 0 ? { locations: failing.map(location) } : {}),
        ...(c.status === "waived" && c.waiver
          ? {
              suppressions: [
                {
                  kind: "external",
                  status: "accepted",
                  justification: `${c.waiver.reason} (${c.waiver.approvedBy}, ${c.waiver.expires})`,
                },
              ],
            }
          : {}),
        properties: { status: c.status, severity: c.severity },
      },
    ];
  });
  const sarif = {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "koffer",
            version: result.tool.version,
            semanticVersion: result.tool.version,
            informationUri,
            rules,
            properties: { catalogueVersion: result.tool.catalogueVersion },
          },
        },
        invocations: [
          {
            executionSuccessful: result.summary.error === 0,
            startTimeUtc: result.startedAt,
            endTimeUtc: result.finishedAt,
            machine: result.target.hostname,
          },
        ],
        language: lang === "de" ? "de-DE" : "en-US",
        results,
        properties: {
          profile: result.profile.name,
          profileSha256: result.profile.sha256,
          compliant: result.summary.compliant,
        },
      },
    ],
  };
  return JSON.stringify(sarif, null, 2) + "\n";
}
