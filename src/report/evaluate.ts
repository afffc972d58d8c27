/**
 * Evaluation: run every control of the catalogue over one facts snapshot and turn the
 * findings into the Result (ARCHITECTURE.md). Pure apart from hashing; never throws for
 * a misbehaving control — that control becomes `error` and the run goes on.
 */
import { createHash } from "node:crypto";
import { controls as catalogue, catalogueVersion } from "../checks/index.js";
import type {
  CertificatePathVerifier,
  Control,
  EvaluateContext,
  Finding,
} from "../checks/types.js";
import { attestationFor, installed, unitOn, unitState } from "../checks/util.js";
import type { Facts } from "../facts/types.js";
import { localizeData } from "../i18n/evidence.js";
import { formatMessage, countOf } from "../i18n/format.js";
import { verifyCertificatePath } from "../pki/path.js";
import { releaseOf } from "../platform/releases.js";
import type { Profile, Waiver } from "../profiles/types.js";
import { version } from "../version.js";
import type {
  ControlResult,
  Lang,
  Localized,
  Result,
  ResultCertificate,
  ResultContext,
  ResultSummary,
  Status,
  WaiverRecord,
} from "./types.js";

export interface EvaluateOptions {
  /** The run's clock: waivers, certificate validity and timestamps are judged against it. */
  now: Date;
  /** Language of `title` and `message` (both languages are always kept). Default German. */
  lang?: Lang;
  /** When gathering started; defaults to `now`. */
  startedAt?: Date;
  /** The municipality VPN CA the profile names (read by the caller; checks never read files). */
  vpnCa?: EvaluateContext["vpnCa"];
  /** Certificate path verifier; defaults to src/pki/path.ts `verifyCertificatePath`. */
  verifyPath?: CertificatePathVerifier;
  /** The controls to run; defaults to the whole catalogue (tests pass a throwing one). */
  controls?: readonly Control[];
}

/** error > fail > pending > skip > not-applicable > pass (checks/types.ts). */
const rank: Record<Finding["status"], number> = {
  pass: 0,
  "not-applicable": 1,
  skip: 2,
  pending: 3,
  fail: 4,
  error: 5,
};

const controlErrorText = (detail: string): Localized => ({
  de: `Prüfpunkt konnte nicht ausgewertet werden: ${detail}`,
  en: `The control could not be evaluated: ${detail}`,
});

/** End of the waiver's `expires` day in UTC: a waiver holds through that whole day. */
function waiverEnd(waiver: Waiver): Date {
  return new Date(`${waiver.expires}T23:59:59.999Z`);
}

function waiverRecord(waiver: Waiver, now: Date): WaiverRecord {
  return {
    reason: waiver.reason,
    author: waiver.author,
    approvedBy: waiver.approvedBy,
    risk: waiver.risk,
    expires: waiver.expires,
    expired: now > waiverEnd(waiver),
  };
}

/** The waiver that decides a control: a valid one if any, else the latest expired one. */
function pickWaiver(profile: Profile, id: string, now: Date): Waiver | undefined {
  const all = profile.waivers.filter((w) => w.control === id);
  const valid = all.filter((w) => now <= waiverEnd(w));
  const pool = valid.length > 0 ? valid : all;
  return pool.sort((a, b) => b.expires.localeCompare(a.expires))[0];
}

function errorResult(lang: Lang, text: Localized, messageId: string): Partial<ControlResult> {
  return {
    status: "error",
    evidence: [],
    message: text[lang],
    messages: [{ id: messageId, data: {}, text }],
    reason: text[lang],
  };
}

/** Evaluate one control into its ControlResult. */
export function evaluateControl(
  control: Control,
  profile: Profile,
  facts: Facts,
  context: EvaluateContext,
  lang: Lang,
): ControlResult {
  const meta = control.meta;
  const base: ControlResult = {
    id: meta.id,
    title: meta.title[lang],
    titles: meta.title,
    severity: meta.severity,
    kind: meta.kind,
    status: "error",
    references: meta.references,
    sdmGoals: meta.sdmGoals,
    art32: meta.art32,
    evidence: [],
    message: "",
    messages: [],
    waiver: null,
    description: meta.description,
    fix: meta.fix,
  };
  const gatherErrors = facts.gatherErrors.filter((e) => meta.facts.includes(e.area));
  if (gatherErrors.length > 0) {
    const detail = gatherErrors.map((e) => `${e.area}: ${e.message}`).join("; ");
    const text: Localized = {
      de: `Fakten nicht erhoben (${detail})`,
      en: `Facts could not be gathered (${detail})`,
    };
    return { ...base, ...errorResult(lang, text, "gatherError") };
  }
  let findings: Finding[];
  try {
    findings = control.evaluate(profile, facts, context);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return { ...base, ...errorResult(lang, controlErrorText(detail), "controlError") };
  }
  if (!Array.isArray(findings) || findings.length === 0)
    return {
      ...base,
      ...errorResult(lang, controlErrorText("no findings"), "controlError"),
    };

  const worst = findings.reduce(
    (w, f) => (rank[f.status] > rank[w] ? f.status : w),
    "pass" as Finding["status"],
  );
  const decisive = findings.filter((f) => f.status === worst);
  // Decisive findings first so `message` and the first evidence explain the status.
  const ordered = [...decisive, ...findings.filter((f) => f.status !== worst)];
  const messages = ordered.map((f) => {
    const template = meta.messages[f.messageId];
    const data = f.data ?? {};
    const text: Localized =
      template === undefined
        ? { de: `(unbekannte Meldung ${f.messageId})`, en: `(unknown message ${f.messageId})` }
        : // Data values are machine values ("not installed"); German text renders them in German.
          {
            de: formatMessage(template.de, localizeData(data, "de")),
            en: formatMessage(template.en, data),
          };
    return { id: f.messageId, data, text };
  });
  const first = messages[0] as ControlResult["messages"][number];
  const result: ControlResult = {
    ...base,
    status: worst,
    evidence: decisive.flatMap((f) => f.evidence ?? []),
    message: first.text[lang],
    messages,
  };
  if (worst === "skip" || worst === "not-applicable" || worst === "error" || worst === "pending")
    result.reason = first.text[lang];
  if (worst === "pass") {
    const attestation = attestationFor(profile, meta.id);
    if (attestation !== undefined && (meta.kind === "attest" || first.id === "attested"))
      result.attestation = {
        by: attestation.by,
        date: attestation.date,
        statement: attestation.statement,
      };
  }
  return result;
}

/** Apply the profile's waivers to a control result (fail → waived while valid). */
function applyWaiver(
  result: ControlResult,
  profile: Profile,
  now: Date,
  lang: Lang,
): ControlResult {
  if (result.status !== "fail") return result;
  const waiver = pickWaiver(profile, result.id, now);
  if (waiver === undefined) return result;
  const record = waiverRecord(waiver, now);
  if (!record.expired) return { ...result, status: "waived", waiver: record };
  const note: Localized = {
    de: `Ausnahme abgelaufen am ${waiver.expires}; `,
    en: `Waiver expired on ${waiver.expires}; `,
  };
  return { ...result, waiver: record, message: note[lang] + result.message };
}

function summarise(results: ControlResult[]): ResultSummary {
  const count = (s: Status) => results.filter((r) => r.status === s).length;
  const summary = {
    pass: count("pass"),
    fail: count("fail"),
    error: count("error"),
    waived: count("waived"),
    notApplicable: count("not-applicable"),
    skip: count("skip"),
    pending: count("pending"),
  };
  // Pending is not compliant yet: the device is not protected as the profile asks until it happened.
  return {
    compliant: summary.fail === 0 && summary.error === 0 && summary.pending === 0,
    ...summary,
  };
}

/** Readiness: what the suitcase needs to work, reported beside the controls. */
export function readiness(profile: Profile, facts: Facts): Result["readiness"] {
  const items: Result["readiness"] = [];
  for (const device of profile.spec.devices.allow) {
    const packages = device.packages ?? [];
    const services = device.services ?? [];
    if (packages.length === 0 && services.length === 0) continue;
    const missing = packages.filter((p) => !installed(facts, p));
    const off = services.filter((s) => !unitOn(unitState(facts, s), { staticCounts: true }));
    const detail = [
      missing.length > 0
        ? `missing packages: ${missing.join(", ")}`
        : `packages installed: ${packages.join(", ") || "none needed"}`,
      off.length > 0
        ? `not enabled: ${off.map((s) => `${s} (${unitState(facts, s)})`).join(", ")}`
        : `enabled: ${services.join(", ") || "none needed"}`,
    ].join("; ");
    items.push({
      id: `device:${device.name}`,
      title: {
        de: `Treiber und Dienste für ${device.name}`,
        en: `Drivers and services for ${device.name}`,
      },
      ok: missing.length === 0 && off.length === 0,
      detail,
    });
  }
  const swan = facts.vpn.swanctl;
  items.push({
    id: "vpn-config",
    title: { de: "VPN-Konfiguration lädt", en: "VPN configuration loads" },
    ok: swan.parseErrors.length === 0 && swan.connections.length > 0,
    detail:
      swan.parseErrors.length > 0
        ? swan.parseErrors.join("; ")
        : `${countOf(swan.connections.length, "connection", "connections")} in ${swan.files.join(", ") || "no file"}`,
  });
  const sync = facts.logging.timeSynchronized;
  // Offline targets cannot show the clock state; leave the item out rather than guess.
  if (sync.available)
    items.push({
      id: "time-sync",
      title: { de: "Zeit synchronisiert", en: "Time synchronised" },
      ok: sync.value,
      detail: `${sync.value ? "synchronised" : "not synchronised"} (${sync.source})`,
    });
  return items;
}

function keyLabel(c: Facts["vpn"]["certificates"][number]): string {
  if (c.keyType === "ec")
    return `ecdsa-${(c.curve ?? String(c.keyBits)).toLowerCase().replace(/^p-/, "p")}`;
  return `${c.keyType}-${c.keyBits}`;
}

function reportContext(profile: Profile, facts: Facts, now: Date): ResultContext {
  const certificates: ResultCertificate[] = [
    ...facts.vpn.certificates
      .filter((c) => !c.isCa)
      .map((c) => ({ c, role: "vpn-client" as const })),
    ...facts.vpn.caCertificates.map((c) => ({ c, role: "vpn-ca" as const })),
  ].map(({ c, role }) => ({
    role,
    subject: c.subject,
    issuer: c.issuer,
    serialNumber: c.serial,
    notBefore: c.notBefore,
    notAfter: c.notAfter,
    keyType: keyLabel(c),
    sha256: c.sha256Fingerprint,
    ...(role === "vpn-client"
      ? { renewBeforeDays: profile.spec.vpn.certificate.renewBeforeDays }
      : {}),
  }));
  const context: ResultContext = {
    devices: profile.spec.devices.allow.map((d) => ({
      name: d.name,
      role: d.role,
      usb: d.usb,
      ...(d.serial !== undefined ? { serial: d.serial } : {}),
      ...(d.certified !== undefined ? { certified: d.certified } : {}),
    })),
    waivers: profile.waivers.map((w) => ({ control: w.control, ...waiverRecord(w, now) })),
    certificates,
    software: facts.apps.packages
      .filter((p) => p.status === "ii")
      .map((p) => ({ name: p.name, version: p.version })),
  };
  const m = profile.metadata;
  if (m.processingRecords !== undefined) context.processingRecords = m.processingRecords;
  if (m.protectionNeeds !== undefined) context.protectionNeeds = m.protectionNeeds;
  if (m.dataProtectionOfficer !== undefined)
    context.dataProtectionOfficer = m.dataProtectionOfficer;
  if (m.servedAreas !== undefined) context.servedAreas = m.servedAreas;
  return context;
}

/** SHA-256 (hex) of the facts snapshot as JSON, so a report names exactly what it judged. */
export function factsSha256(facts: Facts): string {
  return createHash("sha256").update(JSON.stringify(facts)).digest("hex");
}

/**
 * Evaluate the whole catalogue for one profile and one facts snapshot.
 *
 * - a control whose fact areas failed to gather is `error` (never a guess);
 * - a control that throws is `error` for itself only;
 * - a valid waiver turns `fail` into `waived`; an expired one leaves `fail` and says so;
 * - `summary.compliant` is true only with no `fail`, no `error` and no `pending`.
 */
export function evaluate(profile: Profile, facts: Facts, options: EvaluateOptions): Result {
  const lang = options.lang ?? "de";
  const now = options.now;
  const context: EvaluateContext = { now };
  if (options.vpnCa !== undefined) context.vpnCa = options.vpnCa;
  context.verifyPath = options.verifyPath ?? verifyCertificatePath;
  const results = (options.controls ?? catalogue).map((control) =>
    applyWaiver(evaluateControl(control, profile, facts, context, lang), profile, now, lang),
  );
  const profileInfo: Result["profile"] = {
    name: profile.metadata.name,
    sha256: profile.source.sha256,
  };
  if (profile.metadata.title !== undefined) profileInfo.title = profile.metadata.title;
  if (profile.metadata.controller !== undefined)
    profileInfo.controller = profile.metadata.controller;
  if (profile.metadata.processor !== undefined) profileInfo.processor = profile.metadata.processor;
  return {
    schema: "koffer/result/v1",
    tool: { name: "koffer", version: version(), catalogueVersion },
    profile: profileInfo,
    target: {
      kind: facts.target.kind,
      hostname: facts.host.hostname || facts.target.hostname,
      serialNumber: facts.host.serialNumber,
      location: facts.target.location,
      ...judgedRelease(facts),
    },
    facts: { sha256: factsSha256(facts) },
    startedAt: (options.startedAt ?? now).toISOString(),
    finishedAt: now.toISOString(),
    lang,
    summary: summarise(results),
    controls: results,
    readiness: readiness(profile, facts),
    context: reportContext(profile, facts, now),
  };
}

/** The release the facts show, for the report's cover; nothing for snapshots without it. */
function judgedRelease(facts: Facts): { release?: Result["target"]["release"] } {
  const r = facts.updates.release;
  if (r === undefined) return {};
  const known = r.platform === null ? undefined : releaseOf(r.platform);
  const name =
    known?.name ?? r.prettyName ?? ([r.id, r.versionId].filter(Boolean).join(" ") || "unknown");
  return { release: { platform: r.platform, name, debianVersion: r.debianVersion } };
}
