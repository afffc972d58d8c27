/**
 * Words every renderer shares, German and English side by side (domain.md §4.3 term list).
 */
import type { Lang, Localized, Status } from "../types.js";
import type { Level, Severity } from "../../profiles/types.js";

export const statusLabel: Record<Status, Localized> = {
  pass: { de: "erfüllt", en: "passed" },
  fail: { de: "nicht erfüllt", en: "failed" },
  error: { de: "Fehler", en: "error" },
  waived: { de: "Ausnahme genehmigt", en: "waived" },
  "not-applicable": { de: "nicht anwendbar", en: "not applicable" },
  skip: { de: "nicht prüfbar", en: "skipped" },
  pending: { de: "ausstehend (erster Start)", en: "pending (first boot)" },
};

export const severityLabel: Record<Severity, Localized> = {
  critical: { de: "kritisch", en: "critical" },
  high: { de: "hoch", en: "high" },
  medium: { de: "mittel", en: "medium" },
  low: { de: "niedrig", en: "low" },
};

export const levelLabel: Record<Level, Localized> = {
  normal: { de: "normal", en: "normal" },
  high: { de: "hoch", en: "high" },
  "very-high": { de: "sehr hoch", en: "very high" },
};

export const riskLabel: Record<"low" | "medium" | "high", Localized> = {
  low: { de: "gering", en: "low" },
  medium: { de: "mittel", en: "medium" },
  high: { de: "hoch", en: "high" },
};

/** Order in which statuses are listed: what needs attention first. */
export const statusOrder: Status[] = [
  "fail",
  "error",
  "pending",
  "waived",
  "skip",
  "not-applicable",
  "pass",
];
export const severityOrder: Severity[] = ["critical", "high", "medium", "low"];

export function t(text: Localized, lang: Lang): string {
  return text[lang];
}

export const notStated: Localized = { de: "nicht angegeben", en: "not stated" };
