import { describe, expect, it } from "vitest";
import { countOf, formatMessage } from "../../src/i18n/format.js";
import { evidenceText } from "../../src/i18n/evidence.js";
import type { FleetOverview } from "../../src/report/merge.js";
import { renderFleetHtml } from "../../src/report/render/fleet.js";
import { renderText } from "../../src/report/render/text.js";
import { sampleResult } from "../helpers/result.js";

/** A fleet overview of one municipality with `n` devices. */
function fleet(n: number): FleetOverview {
  return {
    schema: "koffer/fleet/v1",
    generatedAt: "2026-06-01T12:00:00Z",
    waiverDays: n,
    results: n,
    devices: n,
    skipped: [],
    municipalities: [
      {
        name: "meerane",
        controller: "Stadt Meerane",
        devices: n,
        compliantDevices: n,
        controls: [],
        expiringWaivers: [],
        expiringCertificates: [],
        drift: [],
      } as unknown as FleetOverview["municipalities"][number],
    ],
  };
}

describe("counts are rendered with the right number (0 / 1 / 2)", () => {
  it("countOf and {{n|one|other}} templates", () => {
    expect([0, 1, 2].map((n) => countOf(n, "Gerät", "Geräte"))).toEqual([
      "0 Geräte",
      "1 Gerät",
      "2 Geräte",
    ]);
    expect([0, 1, 2].map((n) => formatMessage("gefunden {{n|Regel|Regeln}}.", { n }))).toEqual([
      "gefunden 0 Regeln.",
      "gefunden 1 Regel.",
      "gefunden 2 Regeln.",
    ]);
    expect(formatMessage("found {{n|rule|rules}}", { n: "1" })).toBe("found 1 rule");
    // Without a value the placeholder stays visible, as for plain placeholders.
    expect(formatMessage("found {{n|rule|rules}}")).toBe("found {{n|rule|rules}}");
  });

  it("fleet overview, German and English", () => {
    const de = [0, 1, 2].map((n) => renderFleetHtml(fleet(n), "de"));
    const en = [0, 1, 2].map((n) => renderFleetHtml(fleet(n), "en"));
    expect(de[0]).toContain("0 Ergebnisse · 0 Geräte");
    expect(de[1]).toContain("1 Ergebnis · 1 Gerät<");
    expect(de[1]).toContain("Stadt Meerane · 1 Gerät,");
    expect(de[1]).toContain("innerhalb von 1 Tag ablaufen");
    expect(de[2]).toContain("2 Ergebnisse · 2 Geräte");
    expect(de[2]).toContain("innerhalb von 2 Tagen ablaufen");
    expect(en[0]).toContain("0 results · 0 devices");
    expect(en[1]).toContain("1 result · 1 device<");
    expect(en[1]).toContain("Waivers expiring within 1 day<");
    expect(en[2]).toContain("2 results · 2 devices");
    for (const html of [...de, ...en])
      expect(html).not.toMatch(/\b1 (Geräte|Ergebnisse|devices|results)\b/);
  });

  it("the terminal report's closing line", () => {
    const result = sampleResult("compliant");
    for (const n of [1, 2]) {
      const one = { ...result, controls: result.controls.slice(0, n) };
      expect(renderText(one, { lang: "de" })).toContain(
        n === 1 ? "1 Prüfpunkt —" : "2 Prüfpunkte —",
      );
      expect(renderText(one, { lang: "en" })).toContain(n === 1 ? "1 control —" : "2 controls —");
    }
  });

  it("evidence with counted connections, in German", () => {
    expect(evidenceText("1 connection in /etc/swanctl/conf.d/koffer.conf", "de")).toBe(
      "1 Verbindung in /etc/swanctl/conf.d/koffer.conf",
    );
    expect(evidenceText("2 connections in a.conf", "de")).toBe("2 Verbindungen in a.conf");
    expect(evidenceText("0 connections in no file", "de")).toBe("0 Verbindungen in keine Datei");
  });
});
