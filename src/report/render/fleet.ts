import type { FleetOverview } from "../merge.js";
import type { Lang } from "../types.js";
import { formatDate } from "./document.js";
import { countOf } from "../../i18n/format.js";
import { escapeXml as h } from "./escape.js";
import { severityLabel, statusLabel } from "./labels.js";

const css = `
@page { size: A4; margin: 15mm; }
body { font: 10pt/1.4 "DejaVu Sans", Arial, sans-serif; color: #111; max-width: 190mm; margin: 0 auto; padding: 6mm 0; }
h1 { font-size: 16pt; } h2 { font-size: 13pt; color: #1f3b64; border-bottom: 1.5pt solid #1f3b64; margin-top: 8mm; break-after: avoid; }
h3 { font-size: 11pt; break-after: avoid; }
table { border-collapse: collapse; width: 100%; font-size: 9pt; margin: 2mm 0 4mm; }
thead { display: table-header-group; } tr { break-inside: avoid; }
th, td { border: 0.5pt solid #c8c8c8; padding: 1mm 1.5mm; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
th { background: #e8edf4; overflow-wrap: normal; }
.bad { color: #c62828; font-weight: bold; } .muted { color: #555; }
`;

const words = {
  title: { de: "Flottenübersicht Bürgerkoffer", en: "Bürgerkoffer fleet overview" },
  generated: { de: "Erstellt", en: "Generated" },
  device: { de: "Gerät", en: "Device" },
  compliant: { de: "konform", en: "compliant" },
  controller: { de: "Verantwortliche Stelle", en: "Controller" },
  failing: { de: "Abweichende Prüfpunkte", en: "Failing controls" },
  control: { de: "Prüfpunkt", en: "Control" },
  severity: { de: "Schwere", en: "Severity" },
  failDevices: { de: "nicht erfüllt auf", en: "failing on" },
  errorDevices: { de: "Fehler auf", en: "error on" },
  pendingDevices: { de: "ausstehend (erster Start) auf", en: "pending (first boot) on" },
  waivers: {
    de: "Ausnahmen, die innerhalb von {n} ablaufen",
    en: "Waivers expiring within {n}",
  },
  certs: {
    de: "VPN-Zertifikate in der Erneuerungsfrist",
    en: "VPN certificates in their renewal window",
  },
  drift: { de: "Veränderungen seit der vorigen Prüfung", en: "Drift since the previous run" },
  expires: { de: "Gültig bis", en: "Expires" },
  approvedBy: { de: "Genehmigt von", en: "Approved by" },
  reason: { de: "Begründung", en: "Reason" },
  subject: { de: "Inhaber", en: "Subject" },
  serial: { de: "Seriennummer", en: "Serial" },
  window: { de: "Frist (Tage)", en: "Window (days)" },
  expired: { de: "abgelaufen", en: "expired" },
  period: { de: "Zeitraum", en: "Period" },
  changes: { de: "Änderungen", en: "Changes" },
  none: { de: "Keine.", en: "None." },
  skipped: { de: "Nicht lesbare Dateien", en: "Unreadable files" },
  absent: { de: "nicht vorhanden", en: "absent" },
} as const;

/** Counted nouns: singular and plural ("1 Gerät", "2 Geräte"). */
const nouns = {
  results: { de: ["Ergebnis", "Ergebnisse"], en: ["result", "results"] },
  devices: { de: ["Gerät", "Geräte"], en: ["device", "devices"] },
  // Dative after "innerhalb von": "1 Tag", "30 Tagen".
  days: { de: ["Tag", "Tagen"], en: ["day", "days"] },
} as const;

function table(head: string[], rows: string[][]): string {
  return `<table><thead><tr>${head.map((x) => `<th>${h(x)}</th>`).join("")}</tr></thead><tbody>\n${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join("")}</tr>`)
    .join("\n")}\n</tbody></table>`;
}

/** The fleet overview as one self-contained HTML page (inline CSS, no scripts, no requests). */
export function renderFleetHtml(overview: FleetOverview, lang: Lang = "de"): string {
  const w = (k: keyof typeof words) => words[k][lang];
  const count = (n: number, noun: keyof typeof nouns) =>
    countOf(n, nouns[noun][lang][0], nouns[noun][lang][1]);
  const none = `<p class="muted">${h(w("none"))}</p>`;
  const status = (s: string) =>
    s === "absent" ? w("absent") : (statusLabel[s as keyof typeof statusLabel]?.[lang] ?? s);
  const out = [
    "<!DOCTYPE html>",
    `<html lang="${lang}"><head><meta charset="utf-8">`,
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    `<title>${h(w("title"))}</title><style>${css}</style></head><body>`,
    `<h1>${h(w("title"))}</h1>`,
    `<p>${h(w("generated"))}: ${h(formatDate(overview.generatedAt, lang))} · ${h(count(overview.results, "results"))} · ${h(count(overview.devices, "devices"))}</p>`,
  ];
  for (const m of overview.municipalities) {
    out.push(`<section id="m-${h(m.name)}"><h2>${h(m.name)}</h2>`);
    out.push(
      `<p>${h(w("controller"))}: ${h(m.controller ?? "—")} · ${h(count(m.devices, "devices"))}, ${m.compliantDevices} ${h(w("compliant"))}</p>`,
    );
    out.push(`<h3>${h(w("failing"))}</h3>`);
    out.push(
      m.controls.length === 0
        ? none
        : table(
            [w("control"), w("severity"), w("failDevices"), w("errorDevices"), w("pendingDevices")],
            m.controls.map((c) => [
              `<code>${h(c.id)}</code> ${h(c.title)}`,
              h(severityLabel[c.severity][lang]),
              h(c.failing.join(", ")),
              h(c.erroring.join(", ")),
              h(c.pending.join(", ")),
            ]),
          ),
    );
    out.push(`<h3>${h(w("waivers").replace("{n}", count(overview.waiverDays, "days")))}</h3>`);
    out.push(
      m.expiringWaivers.length === 0
        ? none
        : table(
            [w("device"), w("control"), w("expires"), w("approvedBy"), w("reason")],
            m.expiringWaivers.map((x) => [
              h(x.hostname),
              `<code>${h(x.control)}</code>`,
              x.expired
                ? `<span class="bad">${h(x.expires)} (${h(w("expired"))})</span>`
                : h(x.expires),
              h(x.approvedBy),
              h(x.reason),
            ]),
          ),
    );
    out.push(`<h3>${h(w("certs"))}</h3>`);
    out.push(
      m.expiringCertificates.length === 0
        ? none
        : table(
            [w("device"), w("subject"), w("serial"), w("expires"), w("window")],
            m.expiringCertificates.map((c) => [
              h(c.hostname),
              h(c.subject),
              `<code>${h(c.serialNumber)}</code>`,
              c.expired
                ? `<span class="bad">${h(formatDate(c.notAfter, lang, false))} (${h(w("expired"))})</span>`
                : h(formatDate(c.notAfter, lang, false)),
              String(c.renewBeforeDays),
            ]),
          ),
    );
    out.push(`<h3>${h(w("drift"))}</h3>`);
    out.push(
      m.drift.length === 0
        ? none
        : table(
            [w("device"), w("period"), w("changes")],
            m.drift.map((d) => [
              h(d.hostname),
              `${h(formatDate(d.from, lang, false))} → ${h(formatDate(d.to, lang, false))}`,
              d.changes
                .map(
                  (c) => `<code>${h(c.control)}</code>: ${h(status(c.from))} → ${h(status(c.to))}`,
                )
                .join("<br>"),
            ]),
          ),
    );
    out.push("</section>");
  }
  if (overview.skipped.length > 0) {
    out.push(`<h2>${h(w("skipped"))}</h2>`);
    out.push(
      table(
        ["file", w("reason")],
        overview.skipped.map((s) => [h(s.file), h(s.reason)]),
      ),
    );
  }
  out.push("</body></html>", "");
  return out.join("\n");
}
