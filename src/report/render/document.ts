/**
 * The data-protection officer's report as a document model (REPORT.md §1–13). HTML and
 * Markdown serialise the same model, so both carry exactly the same sections and headings.
 */
import { evidenceText } from "../../i18n/evidence.js";
import type { ControlResult, Lang, Localized, Result, SdmGoal, Status } from "../types.js";
import {
  levelLabel,
  notStated,
  riskLabel,
  severityLabel,
  severityOrder,
  statusLabel,
} from "./labels.js";
import type { RenderOptions } from "./options.js";
import { countOf } from "../../i18n/format.js";

export interface Cell {
  text: string;
  /** A status renders as a coloured mark. */
  status?: Status;
  /** Monospace (hashes, ids, paths). */
  code?: boolean;
}
export type Block =
  | {
      kind: "p";
      text: string;
      className?: "note" | "verdict-pass" | "verdict-fail" | "verdict-limited" | "test-material";
    }
  | { kind: "dl"; items: [string, Cell][] }
  | { kind: "table"; head: string[]; rows: Cell[][]; className?: string }
  | { kind: "list"; items: string[]; className?: "columns" }
  | { kind: "h3"; text: string; pageBreak?: boolean }
  | { kind: "signature-lines"; labels: string[] };
export interface Section {
  id: string;
  heading: string;
  blocks: Block[];
  /** Start the section on a new printed page. */
  pageBreak?: boolean;
}
export interface ReportDocument {
  lang: Lang;
  title: string;
  subtitle: string;
  sections: Section[];
  controlIds: string[];
}

const L = (de: string, en: string): Localized => ({ de, en });

/** The symbol shown before a status in HTML and Markdown. */
export const statusMark: Record<string, string> = {
  pass: "✔",
  fail: "✘",
  error: "!",
  waived: "~",
  "not-applicable": "–",
  skip: "?",
  pending: "…",
};

export const headings = {
  cover: L(
    "Prüfbericht „Mobiler Bürgerkoffer“ – Technische und organisatorische Maßnahmen (Art. 32 DSGVO)",
    "Audit report “Mobile citizen-office suitcase” – Technical and organisational measures (Art. 32 GDPR)",
  ),
  summary: L("Zusammenfassung", "Summary"),
  scope: L("Prüfgegenstand und Geltungsbereich", "Object and scope of the audit"),
  vvt: L(
    "Bezug zum Verzeichnis von Verarbeitungstätigkeiten",
    "Relation to the record of processing activities",
  ),
  protection: L("Schutzbedarf", "Protection requirements"),
  criteria: L("Prüfmaßstab", "Audit criteria"),
  art32: L("Maßnahmen nach Art. 32 Abs. 1 DSGVO", "Measures under Art. 32(1) GDPR"),
  sdm: L(
    "Zuordnung zu den Gewährleistungszielen des SDM",
    "Mapping to the protection goals of the SDM",
  ),
  results: L("Einzelergebnisse", "Individual results"),
  deviations: L("Abweichungen und genehmigte Ausnahmen", "Deviations and approved waivers"),
  plan: L("Maßnahmenplan", "Action plan"),
  loss: L("Vorgehen bei Verlust oder Diebstahl", "Procedure in case of loss or theft"),
  annex: L("Anlagen", "Annexes"),
};

const art32Titles: Record<"a" | "b" | "c" | "d", Localized> = {
  a: L(
    "Verschlüsselung und Pseudonymisierung (lit. a)",
    "Encryption and pseudonymisation (point (a))",
  ),
  b: L(
    "Vertraulichkeit, Integrität, Verfügbarkeit und Belastbarkeit (lit. b)",
    "Confidentiality, integrity, availability and resilience (point (b))",
  ),
  c: L("Wiederherstellbarkeit (lit. c)", "Restoring availability (point (c))"),
  d: L(
    "Verfahren zur regelmäßigen Überprüfung, Bewertung und Evaluierung (lit. d)",
    "Regular testing, assessment and evaluation (point (d))",
  ),
};

const sdmGoals: [SdmGoal, Localized][] = [
  ["datenminimierung", L("Datenminimierung", "Data minimisation")],
  ["verfuegbarkeit", L("Verfügbarkeit", "Availability")],
  ["integritaet", L("Integrität", "Integrity")],
  ["vertraulichkeit", L("Vertraulichkeit", "Confidentiality")],
  ["nichtverkettung", L("Nichtverkettung", "Unlinkability")],
  ["transparenz", L("Transparenz", "Transparency")],
  ["intervenierbarkeit", L("Intervenierbarkeit", "Intervenability")],
];

const roleLabel: Record<string, Localized> = {
  "eid-reader": L("eID-Kartenlesegerät", "eID card reader"),
  "card-reader": L("Kartenlesegerät", "card reader"),
  "fingerprint-scanner": L("Fingerabdruckscanner", "fingerprint scanner"),
  "signature-pad": L("Unterschriftenpad", "signature pad"),
  camera: L("Kamera", "camera"),
  "document-scanner": L("Dokumentenscanner", "document scanner"),
  printer: L("Drucker", "printer"),
  "lte-modem": L("LTE-Modem", "LTE modem"),
  hid: L("Eingabegerät", "input device"),
  other: L("sonstiges Gerät", "other device"),
};

/**
 * Test material: a certificate (or CA) whose name says TEST or NICHT PRODUKTIV, as every CA
 * and signer that `koffer ca init` / `koffer ca issue-signer` make does. Such a certificate
 * proves nothing about a production laptop, so the cover says so.
 */
export function isTestMaterial(name: string | undefined): boolean {
  return (
    name !== undefined &&
    /\bTEST\b|NICHT[\s_-]*PRODUKTIV|NOT[\s_-]+FOR[\s_-]+PRODUCTION/i.test(name)
  );
}

const certRole: Record<string, Localized> = {
  "vpn-client": L("VPN-Client-Zertifikat", "VPN client certificate"),
  "vpn-ca": L("VPN-CA", "VPN CA"),
  escrow: L("Hinterlegungszertifikat", "escrow certificate"),
  other: L("Zertifikat", "certificate"),
};

/** "1 Anforderung" / "2 Anforderungen": German plural by count. */
const requirements = (n: number): Localized =>
  L(countOf(n, "Anforderung", "Anforderungen"), countOf(n, "requirement", "requirements"));

const unique = (items: string[]) => [...new Set(items)];

/**
 * The halves of a message in the one grammar "Erwartet X, gefunden Y." / "Expected X, found Y.":
 * [X, Y], or [null, null] when the message has another shape.
 */
export function splitMessage(text: string, lang: Lang): [string | null, string | null] {
  const re =
    lang === "de"
      ? /^Erwartet (.+?), gefunden:? (.+?)\.?$/s
      : /^Expected (.+?), found:? (.+?)\.?$/s;
  const m = re.exec(text);
  if (!m) return [null, null];
  return [m[1] as string, m[2] as string];
}

/** Format an ISO timestamp as the reader expects it, in UTC (the report must not depend on the viewer's zone). */
export function formatDate(iso: string, lang: Lang, withTime = true): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number) => String(n).padStart(2, "0");
  const date =
    lang === "de"
      ? `${p(d.getUTCDate())}.${p(d.getUTCMonth() + 1)}.${d.getUTCFullYear()}`
      : `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}`;
  return withTime ? `${date} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())} UTC` : date;
}

function bySeverity(a: ControlResult, b: ControlResult): number {
  return severityOrder.indexOf(a.severity) - severityOrder.indexOf(b.severity);
}

const st = (c: ControlResult, lang: Lang): Cell => ({
  text: statusLabel[c.status][lang],
  status: c.status,
});
const code = (text: string): Cell => ({ text, code: true });
const plain = (text: string): Cell => ({ text });

/** Build the report document from a Result. Pure: everything comes from the Result and options. */
export function buildDocument(result: Result, options: RenderOptions = {}): ReportDocument {
  const lang: Lang = options.lang ?? "de";
  const tr = (l: Localized) => l[lang];
  const ctx = result.context ?? {};
  const none = tr(notStated);
  const title = (c: ControlResult) => c.titles[lang] ?? c.title;
  const message = (c: ControlResult) => c.messages[0]?.text[lang] ?? c.message;
  const s = result.summary;
  const byId = new Map(result.controls.map((c) => [c.id, c]));
  const sections: Section[] = [];

  // 1. Cover. The verdict never claims more than was checked: skipped controls limit it.
  const limited = s.compliant && s.skip > 0;
  // Nothing failed, only what the device does at its first boot is outstanding.
  const onlyPending = !s.compliant && s.fail === 0 && s.error === 0 && (s.pending ?? 0) > 0;
  const verdict = onlyPending
    ? L(
        `Noch nicht konform – ${requirements(s.pending).de} beim ersten Start ausstehend`,
        `Not compliant yet – ${requirements(s.pending).en} pending at first boot`,
      )
    : !s.compliant
      ? L("Nicht konform – Abweichungen festgestellt", "Not compliant – deviations found")
      : limited
        ? L(
            `Konform, mit Einschränkungen: ${requirements(s.skip).de} nicht prüfbar`,
            `Compliant, with limitations: ${requirements(s.skip).en} could not be checked`,
          )
        : L(
            "Konform – alle anwendbaren Prüfpunkte erfüllt oder mit genehmigter Ausnahme",
            "Compliant – every applicable control passed or is waived",
          );
  const verdictStatus: Status = onlyPending
    ? "pending"
    : !s.compliant
      ? "fail"
      : limited
        ? "skip"
        : "pass";
  const verdictClass = onlyPending
    ? "verdict-limited"
    : !s.compliant
      ? "verdict-fail"
      : limited
        ? "verdict-limited"
        : "verdict-pass";
  const sig = options.source?.signature;
  const sigStatus: Record<string, Localized> = {
    valid: L("gültig signiert", "validly signed"),
    invalid: L("Signatur UNGÜLTIG", "signature INVALID"),
    unsigned: L("nicht signiert", "not signed"),
    "not-checked": L("signiert, nicht geprüft", "signed, not checked"),
  };
  // Test material is named on the cover, where the reader decides whether to trust the rest.
  const testMaterial: string[] = [];
  for (const c of ctx.certificates ?? [])
    if (isTestMaterial(c.subject) || isTestMaterial(c.issuer))
      testMaterial.push(
        `${tr(certRole[c.role] ?? certRole.other!)} ${c.subject}` +
          (c.issuer !== c.subject ? ` (${tr(L("ausgestellt von", "issued by"))} ${c.issuer})` : ""),
      );
  if (sig?.signer && (isTestMaterial(sig.signer) || isTestMaterial(sig.signerIssuer)))
    testMaterial.push(
      `${tr(L("Unterzeichner", "Signer"))} ${sig.signer}` +
        (sig.signerIssuer ? ` (${tr(L("ausgestellt von", "issued by"))} ${sig.signerIssuer})` : ""),
    );
  const testNotice = L(
    "Testmaterial — nicht für den Produktivbetrieb",
    "Test material — not for production use",
  );
  sections.push({
    id: "pruefbericht",
    heading: tr(headings.cover),
    blocks: [
      {
        kind: "dl",
        items: [
          [tr(L("Gerät (Hostname)", "Device (hostname)")), code(result.target.hostname)],
          [tr(L("Seriennummer", "Serial number")), plain(result.target.serialNumber ?? none)],
          ...(result.target.release
            ? [
                [
                  tr(L("Betriebssystem (geprüft)", "Operating system (judged)")),
                  plain(
                    result.target.release.name +
                      (result.target.release.debianVersion
                        ? ` – debian_version ${result.target.release.debianVersion}`
                        : ""),
                  ),
                ] satisfies [string, Cell],
              ]
            : []),
          [tr(L("Inventarnummer", "Inventory number")), plain(ctx.inventoryNumber ?? none)],
          [tr(L("Verantwortliche Stelle", "Controller")), plain(result.profile.controller ?? none)],
          [tr(L("Auftragsverarbeiter", "Processor")), plain(result.profile.processor ?? none)],
          [
            tr(L("Datenschutzbeauftragte/r", "Data protection officer")),
            plain(
              ctx.dataProtectionOfficer
                ? ctx.dataProtectionOfficer.name +
                    (ctx.dataProtectionOfficer.email ? ` <${ctx.dataProtectionOfficer.email}>` : "")
                : none,
            ),
          ],
          [tr(L("Prüfdatum", "Date of audit")), plain(formatDate(result.startedAt, lang))],
          [
            tr(L("Prüfwerkzeug und Katalogversion", "Audit tool and catalogue version")),
            plain(
              `koffer ${result.tool.version}, ${tr(L("Katalog", "catalogue"))} ${result.tool.catalogueVersion}`,
            ),
          ],
          [
            tr(L("Profil", "Profile")),
            plain(`${result.profile.title ?? result.profile.name} (${result.profile.name})`),
          ],
          [tr(L("Profil SHA-256", "Profile SHA-256")), code(result.profile.sha256)],
          [tr(L("Gesamtergebnis", "Overall result")), { text: tr(verdict), status: verdictStatus }],
          [
            tr(L("Signatur", "Signature")),
            sig
              ? {
                  text: tr(sigStatus[sig.status] ?? notStated),
                  status:
                    sig.status === "valid" ? "pass" : sig.status === "invalid" ? "fail" : "skip",
                }
              : plain(tr(sigStatus.unsigned ?? notStated)),
          ],
        ],
      },
      ...(testMaterial.length > 0
        ? [
            {
              kind: "p" as const,
              className: "test-material" as const,
              text: `${tr(testNotice)}: ${testMaterial.join("; ")}.`,
            },
          ]
        : []),
    ],
  });

  // 2. Summary
  const counts: [Status, number][] = [
    ["pass", s.pass],
    ["fail", s.fail],
    ["waived", s.waived],
    ["not-applicable", s.notApplicable],
    ["error", s.error],
    ["skip", s.skip],
    ...((s.pending ?? 0) > 0 ? [["pending", s.pending] as [Status, number]] : []),
  ];
  const critical = result.controls
    .filter((c) => c.status === "fail" || c.status === "error")
    .sort(bySeverity);
  const unchecked = result.controls.filter((c) => c.status === "skip").sort(bySeverity);
  const pendingControls = result.controls.filter((c) => c.status === "pending").sort(bySeverity);
  const waivers =
    ctx.waivers ??
    result.controls.flatMap((c) => (c.waiver ? [{ control: c.id, ...c.waiver }] : []));
  /** What a profile waiver did in this run: applied to a failing control, or not needed. */
  const waiverUse = (w: { control: string; expired: boolean }): Localized => {
    const c = byId.get(w.control);
    if (w.expired) return L("abgelaufen – nicht angewendet", "expired – not applied");
    if (c?.status === "waived") return L("angewendet", "applied");
    if (c?.status === "pass")
      return L("nicht benötigt (Prüfpunkt erfüllt)", "not needed (control passed)");
    return L("nicht angewendet", "not applied");
  };
  const applied = waivers.filter((w) => byId.get(w.control)?.status === "waived").length;
  const uncheckedBlock: Block =
    unchecked.length === 0
      ? {
          kind: "p",
          text: tr(
            L(
              "Alle anwendbaren Prüfpunkte konnten auf diesem Prüfziel geprüft werden.",
              "Every applicable control could be checked on this target.",
            ),
          ),
        }
      : {
          kind: "table",
          head: [
            tr(L("Prüfpunkt", "Control")),
            tr(L("Schwere", "Severity")),
            tr(L("Anforderung", "Requirement")),
            tr(L("Grund", "Reason")),
          ],
          rows: unchecked.map((c) => [
            code(c.id),
            plain(severityLabel[c.severity][lang]),
            plain(title(c)),
            plain(c.reason ?? message(c)),
          ]),
        };
  sections.push({
    id: "zusammenfassung",
    heading: tr(headings.summary),
    blocks: [
      {
        kind: "p",
        text: tr(verdict) + ".",
        className: verdictClass,
      },
      {
        kind: "table",
        className: "counts",
        head: [tr(L("Bewertung", "Assessment")), tr(L("Anzahl", "Count"))],
        rows: counts.map(([status, n]) => [
          { text: statusLabel[status][lang], status },
          plain(String(n)),
        ]),
      },
      ...(waivers.length > 0
        ? [
            {
              kind: "p" as const,
              className: "note" as const,
              text: tr(
                L(
                  `Im Profil genehmigte Ausnahmen: ${waivers.length}, davon auf einen nicht erfüllten Prüfpunkt angewendet: ${applied} (Einzelheiten in Abschnitt 10).`,
                  `Waivers approved in the profile: ${waivers.length}, applied to a failing control: ${applied} (details in section 10).`,
                ),
              ),
            },
          ]
        : []),
      { kind: "h3", text: tr(L("Abweichungen, kritische zuerst", "Deviations, critical first")) },
      critical.length === 0
        ? { kind: "p", text: tr(L("Keine Abweichungen.", "No deviations.")) }
        : {
            kind: "table",
            head: [
              tr(L("Prüfpunkt", "Control")),
              tr(L("Schwere", "Severity")),
              tr(L("Bewertung", "Assessment")),
              tr(L("Befund", "Finding")),
            ],
            rows: critical.map((c) => [
              code(c.id),
              plain(severityLabel[c.severity][lang]),
              st(c, lang),
              plain(`${title(c)}: ${message(c) || c.reason || ""}`.replace(/: $/, "")),
            ]),
          },
      ...(pendingControls.length > 0
        ? [
            {
              kind: "h3" as const,
              text: tr(L("Ausstehend beim ersten Start", "Pending at first boot")),
            },
            {
              kind: "p" as const,
              className: "note" as const,
              text: tr(
                L(
                  "Diese Prüfpunkte werden erst auf dem Gerät selbst erfüllt (ein eingerichteter Dienst erledigt es beim ersten Start); bis dahin ist das Gerät nicht konform.",
                  "These controls are met only on the device itself (an installed unit does it at first boot); until then the device is not compliant.",
                ),
              ),
            },
            {
              kind: "table" as const,
              head: [
                tr(L("Prüfpunkt", "Control")),
                tr(L("Schwere", "Severity")),
                tr(L("Befund", "Finding")),
              ],
              rows: pendingControls.map((c): Cell[] => [
                code(c.id),
                plain(severityLabel[c.severity][lang]),
                { text: message(c) || c.reason || title(c), status: "pending" },
              ]),
            },
          ]
        : []),
      {
        kind: "h3",
        text: tr(L("Nicht geprüft (nicht prüfbar)", "Not checked (could not be checked)")),
      },
      uncheckedBlock,
    ],
  });

  // 3. Scope
  const devices = ctx.devices ?? [];
  sections.push({
    id: "pruefgegenstand",
    heading: tr(headings.scope),
    blocks: [
      {
        kind: "p",
        text: tr(
          L(
            `Geprüft wurde das Gerät ${result.target.hostname} (Prüfziel: ${result.target.kind}${result.target.location ? `, Standort: ${result.target.location}` : ""}) gegen das Profil „${result.profile.title ?? result.profile.name}“.`,
            `The device ${result.target.hostname} (target: ${result.target.kind}${result.target.location ? `, location: ${result.target.location}` : ""}) was audited against the profile “${result.profile.title ?? result.profile.name}”.`,
          ),
        ),
      },
      {
        kind: "h3",
        text: tr(L("Peripherie (freigegebene Geräte)", "Peripherals (approved devices)")),
      },
      devices.length === 0
        ? { kind: "p", text: none }
        : {
            kind: "table",
            head: [
              tr(L("Gerät", "Device")),
              tr(L("Art", "Role")),
              tr(L("USB-IDs", "USB ids")),
              tr(L("Seriennummer", "Serial number")),
              tr(L("zertifiziert (TR-03104)", "certified (TR-03104)")),
            ],
            rows: devices.map((d) => [
              plain(d.name),
              plain(roleLabel[d.role]?.[lang] ?? d.role),
              code(d.usb.join(", ")),
              plain(d.serial ?? "—"),
              plain(
                d.certified === undefined
                  ? "—"
                  : d.certified
                    ? tr(L("ja", "yes"))
                    : tr(L("nein", "no")),
              ),
            ]),
          },
      ...(ctx.servedAreas && ctx.servedAreas.length > 0
        ? [
            { kind: "h3" as const, text: tr(L("Einsatzgebiete", "Areas served")) },
            { kind: "list" as const, items: ctx.servedAreas },
          ]
        : []),
      { kind: "h3", text: tr(L("Nicht Gegenstand der Prüfung", "Out of scope")) },
      {
        kind: "p",
        text: tr(
          L(
            "Server, Fachverfahren, VPN-Gateway und die Netze des IT-Dienstleisters sind nicht Gegenstand dieses Berichts; ebenso organisatorische Maßnahmen, soweit sie nicht als Bestätigung (Attest) aufgeführt sind.",
            "Servers, specialist applications, the VPN gateway and the IT service provider's networks are out of scope; so are organisational measures unless listed as an attestation.",
          ),
        ),
      },
    ],
  });

  // 4. VVT
  const records = ctx.processingRecords ?? [];
  const biometric = records.some((r) =>
    (r.dataCategories ?? []).some((d) => /biometr|fingerabdr|fingerprint|lichtbild|photo/i.test(d)),
  );
  sections.push({
    id: "vvt",
    heading: tr(headings.vvt),
    blocks: [
      records.length === 0
        ? { kind: "p", text: none }
        : {
            kind: "table",
            head: [
              tr(L("VVT-Nr.", "Record no.")),
              tr(L("Verarbeitungstätigkeit", "Processing activity")),
              tr(L("Datenkategorien", "Data categories")),
            ],
            rows: records.map((r) => [
              code(r.id),
              plain(r.title),
              plain((r.dataCategories ?? []).join(", ") || "—"),
            ]),
          },
      ...(biometric
        ? [
            {
              kind: "p" as const,
              className: "note" as const,
              text: tr(
                L(
                  "Verarbeitet werden auch biometrische Daten zur eindeutigen Identifizierung (Lichtbild, Fingerabdrücke): besondere Kategorien personenbezogener Daten nach Art. 9 Abs. 1 DSGVO.",
                  "Biometric data for unique identification (photo, fingerprints) are processed too: special categories of personal data under Art. 9(1) GDPR.",
                ),
              ),
            },
          ]
        : []),
      {
        kind: "p",
        text: tr(
          L(
            "Dieser Bericht dient als allgemeine Beschreibung der technischen und organisatorischen Maßnahmen gemäß Art. 30 Abs. 1 lit. g DSGVO für die genannten Verarbeitungstätigkeiten.",
            "This report serves as the general description of the technical and organisational measures under Art. 30(1)(g) GDPR for the processing activities listed.",
          ),
        ),
      },
    ],
  });

  // 5. Protection needs
  const pn = ctx.protectionNeeds;
  sections.push({
    id: "schutzbedarf",
    heading: tr(headings.protection),
    blocks: [
      pn
        ? {
            kind: "table",
            head: [
              tr(L("Schutzziel", "Protection goal")),
              tr(L("Schutzbedarf", "Protection requirement")),
            ],
            rows: [
              [
                plain(tr(L("Vertraulichkeit", "Confidentiality"))),
                plain(levelLabel[pn.confidentiality][lang]),
              ],
              [plain(tr(L("Integrität", "Integrity"))), plain(levelLabel[pn.integrity][lang])],
              [
                plain(tr(L("Verfügbarkeit", "Availability"))),
                plain(levelLabel[pn.availability][lang]),
              ],
            ],
          }
        : { kind: "p", text: none },
      {
        kind: "p",
        className: "note",
        text: tr(
          L(
            "Schutzbedarfskategorien normal / hoch / sehr hoch nach BSI-Standard 200-2, wie im Profil festgelegt.",
            "Protection requirement categories normal / high / very high per BSI Standard 200-2, as set in the profile.",
          ),
        ),
      },
    ],
  });

  // 6. Criteria
  const refs = [...new Set(result.controls.flatMap((c) => c.references))].sort();
  sections.push({
    id: "pruefmassstab",
    heading: tr(headings.criteria),
    blocks: [
      {
        kind: "list",
        items: [
          tr(
            L(
              "Datenschutz-Grundverordnung (DSGVO), insbesondere Art. 5, 9, 25, 30, 32–34",
              "General Data Protection Regulation (GDPR), in particular Art. 5, 9, 25, 30, 32–34",
            ),
          ),
          tr(
            L(
              "Landesdatenschutzgesetz des Landes der Verantwortlichen Stelle",
              "The data protection act of the controller's Land",
            ),
          ),
          tr(
            L(
              "Passgesetz (PassG) und Personalausweisgesetz (PAuswG); BSI TR-03104",
              "Passport Act (PassG) and Identity Card Act (PAuswG); BSI TR-03104",
            ),
          ),
          tr(L("BSI IT-Grundschutz-Kompendium", "BSI IT-Grundschutz Compendium")),
          tr(
            L(
              `BSI TR-02102-1 bis -4 in der Fassung, die der Prüfkatalog ${result.tool.catalogueVersion} zugrunde legt`,
              `BSI TR-02102-1 to -4 in the version catalogue ${result.tool.catalogueVersion} is based on`,
            ),
          ),
          tr(
            L(
              "Standard-Datenschutzmodell (SDM) der Datenschutzkonferenz",
              "Standard Data Protection Model (SDM) of the German data protection conference",
            ),
          ),
        ],
      },
      ...(refs.length > 0
        ? [
            {
              kind: "p" as const,
              text:
                tr(L("Im Einzelnen herangezogen: ", "Referenced in detail: ")) +
                refs.join("; ") +
                ".",
            },
          ]
        : []),
    ],
  });

  // 7. Art. 32
  const art32Blocks: Block[] = [];
  for (const letter of ["a", "b", "c", "d"] as const) {
    const list = result.controls.filter((c) => c.art32.includes(letter));
    art32Blocks.push({
      kind: "h3",
      text: `7.${"abcd".indexOf(letter) + 1} ${tr(art32Titles[letter])}`,
    });
    if (letter === "d")
      art32Blocks.push({
        kind: "p",
        text: tr(
          L(
            "Dieser Bericht ist selbst Teil des Verfahrens zur regelmäßigen Überprüfung: die Prüfung ist wiederholbar und beruht auf demselben Profil und Prüfkatalog.",
            "This report is itself part of the regular review: the audit is repeatable and based on the same profile and catalogue.",
          ),
        ),
      });
    if (list.length > 0)
      art32Blocks.push({
        kind: "table",
        head: [
          tr(L("Prüfpunkt", "Control")),
          tr(L("Maßnahme", "Measure")),
          tr(L("Bewertung", "Assessment")),
        ],
        rows: list.map((c) => [code(c.id), plain(title(c)), st(c, lang)]),
      });
    else if (letter !== "d")
      art32Blocks.push({
        kind: "p",
        text: tr(L("Keine Prüfpunkte zugeordnet.", "No controls mapped.")),
      });
    if (letter === "d") {
      const history = ctx.history ?? [];
      art32Blocks.push(
        history.length === 0
          ? {
              kind: "p",
              text: tr(L("Frühere Prüfläufe: keine bekannt.", "Earlier runs: none known.")),
            }
          : {
              kind: "table",
              head: [
                tr(L("Frühere Prüfung", "Earlier run")),
                tr(L("Ergebnis", "Result")),
                tr(L("Abweichungen", "Deviations")),
              ],
              rows: history.map((h) => [
                plain(formatDate(h.startedAt, lang)),
                {
                  text: h.compliant
                    ? tr(L("konform", "compliant"))
                    : tr(L("nicht konform", "not compliant")),
                  status: h.compliant ? "pass" : "fail",
                },
                plain(String(h.fail)),
              ]),
            },
      );
    }
  }
  sections.push({ id: "art32", heading: tr(headings.art32), blocks: art32Blocks });

  // 8. SDM matrix
  sections.push({
    id: "sdm",
    heading: tr(headings.sdm),
    blocks: [
      {
        kind: "table",
        className: "matrix",
        head: [tr(L("Prüfpunkt", "Control")), ...sdmGoals.map(([, l]) => tr(l))],
        rows: result.controls.map((c) => [
          code(c.id),
          ...sdmGoals.map(([goal]) => plain(c.sdmGoals.includes(goal) ? "●" : "")),
        ]),
      },
    ],
  });

  // 9. Individual results
  sections.push({
    id: "einzelergebnisse",
    heading: tr(headings.results),
    pageBreak: true,
    blocks: [
      {
        kind: "table",
        className: "results",
        head: [
          tr(L("Prüfpunkt", "Control")),
          tr(L("Anforderung", "Requirement")),
          tr(L("Grundlage", "Basis")),
          tr(L("Soll", "Expected")),
          tr(L("Ist (Befund)", "Actual (finding)")),
          tr(L("Bewertung", "Assessment")),
          tr(L("Nachweis", "Evidence")),
        ],
        rows: result.controls.map((c) => {
          const value = (v: string) => evidenceText(v, lang);
          // Soll and Ist come from the evidence; a control without evidence states them in its
          // message ("Erwartet X, gefunden Y."), whose halves go to their own columns.
          const [wanted, seen] = splitMessage(message(c), lang);
          const expected = c.evidence.map((e) => value(e.expected)).filter(Boolean);
          const actual = c.evidence.map((e) => value(e.actual)).filter(Boolean);
          if (expected.length === 0 && wanted) expected.push(wanted);
          // An errored or unchecked control has no trustworthy observation: show why.
          const finding =
            c.status === "error" ||
            c.status === "skip" ||
            c.status === "not-applicable" ||
            c.status === "pending"
              ? (c.reason ?? message(c))
              : actual.length > 0
                ? unique(actual).join("; ")
                : (seen ?? message(c));
          const proof = c.attestation
            ? `${tr(L("Bestätigt von", "Attested by"))} ${c.attestation.by}, ${c.attestation.date}: ${c.attestation.statement}`
            : unique(c.evidence.map((e) => e.source ?? e.subject)).join("; ");
          return [
            code(c.id),
            plain(c.description?.[lang] ?? title(c)),
            plain(c.references.join("; ") || "—"),
            plain(unique(expected).join("; ") || "—"),
            plain(finding || "—"),
            st(c, lang),
            { text: proof || "—", code: !c.attestation && proof !== "" },
          ];
        }),
      },
    ],
  });

  // 10. Deviations and waivers
  const deviations = critical;
  sections.push({
    id: "abweichungen",
    heading: tr(headings.deviations),
    blocks: [
      { kind: "h3", text: tr(L("Abweichungen", "Deviations")) },
      deviations.length === 0
        ? { kind: "p", text: tr(L("Keine Abweichungen.", "No deviations.")) }
        : {
            kind: "list",
            items: deviations.map(
              (c) =>
                `${c.id} (${severityLabel[c.severity][lang]}, ${statusLabel[c.status][lang]}): ${title(c)}` +
                (message(c) || c.reason ? ` – ${message(c) || c.reason}` : ""),
            ),
          },
      {
        kind: "h3",
        text: tr(L("Nicht geprüft (nicht prüfbar)", "Not checked (could not be checked)")),
      },
      uncheckedBlock,
      { kind: "h3", text: tr(L("Genehmigte Ausnahmen", "Approved waivers")) },
      waivers.length === 0
        ? { kind: "p", text: tr(L("Keine Ausnahmen.", "No waivers.")) }
        : {
            kind: "table",
            head: [
              tr(L("Prüfpunkt", "Control")),
              tr(L("Begründung", "Reason")),
              tr(L("Verfasst von", "Author")),
              tr(L("Genehmigt von", "Approved by")),
              tr(L("Risiko", "Risk")),
              tr(L("Gültig bis", "Expires")),
              tr(L("In diesem Lauf", "In this run")),
            ],
            rows: waivers.map((w) => [
              code(w.control),
              plain(w.reason),
              plain(w.author),
              plain(w.approvedBy),
              plain(riskLabel[w.risk][lang]),
              w.expired
                ? { text: `${w.expires} (${tr(L("abgelaufen", "expired"))})`, status: "fail" }
                : plain(w.expires),
              plain(tr(waiverUse(w))),
            ]),
          },
    ],
  });

  // 11. Action plan
  const uncheckedRow = (c: ControlResult): Cell[] => [
    code(c.id),
    plain(
      tr(
        L(
          `Nachweis ergänzen: am laufenden Gerät prüfen oder im Profil bestätigen (Attest) – ${title(c)}`,
          `Complete the evidence: check on the running laptop or attest it in the profile – ${title(c)}`,
        ),
      ),
    ),
    plain(tr(L("Verantwortliche Stelle / IT", "Controller / IT"))),
  ];
  const planRows: Cell[][] = [
    ...(ctx.plan
      ? ctx.plan.map((p) => [
          code(p.control ?? "—"),
          plain(p.description[lang]),
          plain("koffer provision"),
        ])
      : critical.map((c) => [
          code(c.id),
          plain(
            c.status === "error"
              ? tr(
                  L(
                    `Prüfung wiederholen, nachdem die Ursache behoben ist: ${c.reason ?? message(c)}`,
                    `Repeat the audit once the cause is fixed: ${c.reason ?? message(c)}`,
                  ),
                )
              : (c.fix?.[lang] ??
                  tr(L(`Manuell beheben: ${title(c)}`, `Fix by hand: ${title(c)}`))),
          ),
          plain(
            c.status === "fail" && c.fix
              ? "koffer provision"
              : tr(L("Verantwortliche Stelle / IT", "Controller / IT")),
          ),
        ])),
    // What could not be checked is not "nothing to do": someone must bring the evidence.
    ...unchecked.map(uncheckedRow),
  ];
  sections.push({
    id: "massnahmenplan",
    heading: tr(headings.plan),
    blocks: [
      planRows.length === 0
        ? { kind: "p", text: tr(L("Keine Maßnahmen erforderlich.", "No action required.")) }
        : {
            kind: "table",
            head: [
              tr(L("Prüfpunkt", "Control")),
              tr(L("Maßnahme", "Action")),
              tr(L("Durch", "By")),
            ],
            rows: planRows,
          },
    ],
  });

  // 12. Loss or theft
  const lossItem = (id: string, label: Localized): Cell[] => {
    const c = byId.get(id);
    return [
      plain(tr(label)),
      code(id),
      c ? st(c, lang) : plain(tr(L("nicht geprüft", "not audited"))),
    ];
  };
  const shown = (id: string) => byId.get(id)?.status === "pass";
  const unintelligible = shown("DISK-01") && shown("DISK-04") && shown("DATA-01");
  const vpnCert = (ctx.certificates ?? []).find((c) => c.role === "vpn-client");
  sections.push({
    id: "verlust",
    heading: tr(headings.loss),
    blocks: [
      {
        kind: "table",
        head: [
          tr(L("Nachweis", "Evidence")),
          tr(L("Prüfpunkt", "Control")),
          tr(L("Bewertung", "Assessment")),
        ],
        rows: [
          lossItem("DISK-01", L("Datenträgerverschlüsselung aktiv", "Disk encryption active")),
          lossItem("DISK-04", L("Entsperrung nur mit TPM und PIN", "Unlock only with TPM and PIN")),
          lossItem(
            "DATA-01",
            L("Keine lokal gespeicherten Antragsdaten", "No applicant data stored locally"),
          ),
          lossItem("DISK-05", L("Wiederherstellungsschlüssel hinterlegt", "Recovery key escrowed")),
        ],
      },
      {
        kind: "p",
        className: unintelligible ? "verdict-pass" : "verdict-fail",
        text: unintelligible
          ? tr(
              L(
                "Nach dem Stand dieser Prüfung sind die Daten auf dem Gerät für Unbefugte unzugänglich (Art. 34 Abs. 3 lit. a DSGVO). Ob eine Meldung nach Art. 33 DSGVO innerhalb von 72 Stunden erforderlich ist, entscheidet die Verantwortliche Stelle.",
                "As of this audit the data on the device are unintelligible to unauthorised persons (Art. 34(3)(a) GDPR). Whether a notification under Art. 33 GDPR within 72 hours is needed is the controller's decision.",
              ),
            )
          : tr(
              L(
                "Die Nachweise belegen nicht, dass die Daten auf dem Gerät für Unbefugte unzugänglich sind. Bei Verlust ist von einem Risiko auszugehen: Meldung nach Art. 33 DSGVO binnen 72 Stunden prüfen, Benachrichtigung nach Art. 34 DSGVO erwägen.",
                "The evidence does not show that the data on the device are unintelligible to unauthorised persons. On loss, assume a risk: consider notification under Art. 33 GDPR within 72 hours and communication under Art. 34 GDPR.",
              ),
            ),
      },
      {
        kind: "list",
        items: [
          tr(
            L(
              "Verlust unverzüglich der Verantwortlichen Stelle und der/dem Datenschutzbeauftragten melden (Verlustmeldung).",
              "Report the loss to the controller and the data protection officer at once.",
            ),
          ),
          vpnCert
            ? tr(
                L(
                  `VPN-Zertifikat sperren: ${vpnCert.subject}, Seriennummer ${vpnCert.serialNumber}, Aussteller ${vpnCert.issuer}.`,
                  `Revoke the VPN certificate: ${vpnCert.subject}, serial number ${vpnCert.serialNumber}, issuer ${vpnCert.issuer}.`,
                ),
              )
            : tr(
                L(
                  "VPN-Zertifikat des Geräts sperren (Zertifikat im Ergebnis nicht erfasst).",
                  "Revoke the device's VPN certificate (not recorded in the result).",
                ),
              ),
          tr(
            L(
              "Konten des Geräts am Fachverfahren sperren; Wiederherstellungsschlüssel nicht herausgeben.",
              "Lock the device's accounts at the specialist application; do not hand out the recovery key.",
            ),
          ),
        ],
      },
    ],
  });

  // 13. Annexes
  const certs = ctx.certificates ?? [];
  const software = ctx.software ?? [];
  sections.push({
    id: "anlagen",
    heading: tr(headings.annex),
    pageBreak: true,
    blocks: [
      { kind: "h3", text: tr(L("Prüfsummen", "Hashes")) },
      {
        kind: "dl",
        items: [
          [tr(L("Profil (SHA-256)", "Profile (SHA-256)")), code(result.profile.sha256)],
          [tr(L("Fakten (SHA-256)", "Facts (SHA-256)")), code(result.facts?.sha256 ?? none)],
        ],
      },
      { kind: "h3", text: tr(L("Zertifikate", "Certificates")) },
      certs.length === 0
        ? { kind: "p", text: none }
        : {
            kind: "table",
            head: [
              tr(L("Zweck", "Role")),
              tr(L("Inhaber", "Subject")),
              tr(L("Aussteller", "Issuer")),
              tr(L("Seriennummer", "Serial")),
              tr(L("Gültig", "Valid")),
              tr(L("Schlüssel", "Key")),
              "SHA-256",
            ],
            rows: certs.map((c) => [
              plain(c.role),
              plain(c.subject),
              plain(c.issuer),
              code(c.serialNumber),
              plain(
                `${formatDate(c.notBefore, lang, false)} – ${formatDate(c.notAfter, lang, false)}`,
              ),
              plain(c.keyType ?? "—"),
              code(c.sha256 ?? "—"),
            ]),
          },
      ...(result.readiness.length > 0
        ? [
            { kind: "h3" as const, text: tr(L("Einsatzbereitschaft", "Readiness")) },
            {
              kind: "table" as const,
              head: [
                tr(L("Prüfung", "Check")),
                tr(L("Ergebnis", "Result")),
                tr(L("Detail", "Detail")),
              ],
              rows: result.readiness.map((r): Cell[] => [
                plain(r.title[lang]),
                {
                  text: r.ok ? "OK" : tr(L("nicht bereit", "not ready")),
                  status: r.ok ? "pass" : "fail",
                },
                plain(evidenceText(r.detail, lang)),
              ]),
            },
          ]
        : []),
      { kind: "h3", text: tr(L("Signatur und Freigabe", "Signature and approval")) },
      {
        kind: "dl",
        items: [
          [
            tr(L("Signaturstatus", "Signature state")),
            sig
              ? {
                  text:
                    tr(sigStatus[sig.status] ?? notStated) + (sig.reason ? ` (${sig.reason})` : ""),
                  status:
                    sig.status === "valid" ? "pass" : sig.status === "invalid" ? "fail" : "skip",
                }
              : plain(tr(sigStatus.unsigned ?? notStated)),
          ],
          ...(sig?.signer
            ? [[tr(L("Unterzeichner", "Signer")), plain(sig.signer)] as [string, Cell]]
            : []),
          ...(sig?.signingTime
            ? [
                [
                  tr(L("Signaturzeitpunkt", "Signing time")),
                  plain(formatDate(sig.signingTime, lang)),
                ] as [string, Cell],
              ]
            : []),
          [
            tr(L("SHA-256 des JSON-Ergebnisses", "SHA-256 of the JSON result")),
            code(options.source?.sha256 ?? none),
          ],
        ],
      },
      {
        kind: "signature-lines",
        labels: [
          tr(L("Ort, Datum", "Place, date")),
          tr(L("Freigabe Verantwortliche Stelle", "Approval by the controller")),
          tr(
            L(
              "Kenntnisnahme Datenschutzbeauftragte/r",
              "Acknowledged by the data protection officer",
            ),
          ),
        ],
      },
      // The package list is long (hundreds of lines): an appendix after the signature block,
      // printed in columns, so it neither separates the findings from the signatures nor fills
      // pages of a one-column table.
      {
        kind: "h3",
        pageBreak: true,
        text: tr(
          L(
            `Anhang: Softwareinventar (${countOf(software.length, "Paket", "Pakete")}, dpkg)`,
            `Appendix: software inventory (${countOf(software.length, "package", "packages")}, dpkg)`,
          ),
        ),
      },
      software.length === 0
        ? { kind: "p", text: none }
        : {
            kind: "list",
            className: "columns",
            items: software.map((p) => `${p.name} ${p.version}`),
          },
    ],
  });

  return {
    lang,
    title: tr(headings.cover),
    subtitle: `${result.profile.title ?? result.profile.name} · ${result.target.hostname} · ${formatDate(result.startedAt, lang)}`,
    sections,
    controlIds: result.controls.map((c) => c.id),
  };
}
