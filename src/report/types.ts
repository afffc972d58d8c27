/**
 * The Result: one run's verdict, the single input of every renderer.
 * `koffer/result/v1` — fields named in ARCHITECTURE.md never change; new ones may be added.
 */
import type { Level, Severity } from "../profiles/types.js";

/**
 * `pending`: what the control asks is installed to happen on the device itself and has not
 * happened yet (DISK-04: TPM2+PIN enrolment at first boot). Not a pass; `verify` exits 1 on it
 * unless `--pending=ok` (image pipelines).
 */
export type Status = "pass" | "fail" | "error" | "waived" | "not-applicable" | "skip" | "pending";
export type Lang = "de" | "en";
export type Localized = Record<Lang, string>;
export type Art32Letter = "a" | "b" | "c" | "d";
export type SdmGoal =
  | "datenminimierung"
  | "verfuegbarkeit"
  | "integritaet"
  | "vertraulichkeit"
  | "nichtverkettung"
  | "transparenz"
  | "intervenierbarkeit";
export type ControlKind = "auto" | "attest" | "situational";

export interface Evidence {
  /** What was looked at, e.g. "/etc/crypttab", "LUKS volume disk.img". */
  subject: string;
  expected: string;
  actual: string;
  /** Where it was read: a path (with line) on the target or a command. */
  source?: string;
}

export interface WaiverRecord {
  reason: string;
  author: string;
  approvedBy: string;
  risk: "low" | "medium" | "high";
  expires: string;
  expired: boolean;
}

export interface ControlResult {
  id: string;
  title: string; // in the result's language
  titles: Localized;
  severity: Severity;
  kind: ControlKind;
  status: Status;
  references: string[]; // "BSI SYS.3.1.A13", "BSI TR-02102-1", "DSGVO Art. 32 Abs. 1 lit. a"
  sdmGoals: SdmGoal[];
  art32: Art32Letter[];
  evidence: Evidence[];
  /** Rendered message in the result's language (first finding's), and the ids/data behind it. */
  message: string;
  messages: { id: string; data: Record<string, string | number>; text: Localized }[];
  waiver: WaiverRecord | null;
  /** For `skip`, `not-applicable`, `error`: why. */
  reason?: string;
  attestation?: { by: string; date: string; statement: string };
  /**
   * The control's requirement text (`meta.description`), both languages. Optional, additive:
   * evaluate should copy it from the control's meta so the report's "Anforderung" column is filled.
   */
  description?: Localized;
  /**
   * What `provision` changes to fix it (`meta.fix`), or null when a person must act.
   * Optional, additive: evaluate should copy it so the report's Maßnahmenplan can be written.
   */
  fix?: Localized | null;
}

export interface ResultSummary {
  compliant: boolean;
  pass: number;
  fail: number;
  error: number;
  waived: number;
  notApplicable: number;
  skip: number;
  /** Controls waiting for the device's first boot; absent in results written before it existed (read as 0). */
  pending: number;
}

/** Which release a run judged: `platform` is null for a release koffer does not know. */
export interface TargetRelease {
  platform: string | null;
  name: string;
  debianVersion: string | null;
}

export interface Result {
  schema: "koffer/result/v1";
  tool: { name: "koffer"; version: string; catalogueVersion: string };
  profile: {
    name: string;
    title?: string;
    sha256: string;
    controller?: string;
    processor?: string;
  };
  target: {
    kind: "local" | "root" | "ssh";
    hostname: string;
    serialNumber?: string | null;
    location?: string;
    /** The operating system release judged (from the target's os-release and debian_version). */
    release?: TargetRelease;
  };
  facts: { sha256: string } | null;
  startedAt: string;
  finishedAt: string;
  lang: Lang;
  summary: ResultSummary;
  controls: ControlResult[];
  /** Readiness checks (reader drivers, pcscd, VPN config loads): not security controls. */
  readiness: { id: string; title: Localized; ok: boolean; detail: string }[];
  /**
   * What the data-protection officer's report needs beyond the verdicts (REPORT.md §3–13).
   * Optional and additive: evaluate fills it from the profile (devices, VVT records, protection
   * needs, DPO, served areas, waivers) and the facts (certificates, software); callers may add
   * `history` (earlier runs of the same device) and `plan` (what provision would change).
   * Renderers print "nicht angegeben / not stated" for anything absent.
   */
  context?: ResultContext;
}

/** A certificate found on the device, as the report's Anlagen and the fleet merge show it. */
export interface ResultCertificate {
  /** `vpn-client` is the one `report merge` watches for its renewal window. */
  role: "vpn-client" | "vpn-ca" | "escrow" | "other";
  subject: string;
  issuer: string;
  serialNumber: string;
  notBefore: string;
  notAfter: string;
  /** e.g. "ecdsa-p256", "rsa-3072". */
  keyType?: string;
  /** SHA-256 fingerprint of the DER, hex. */
  sha256?: string;
  /** The profile's `vpn.certificate.renewBeforeDays` for the VPN client certificate. */
  renewBeforeDays?: number;
}

/** Context for the report (see {@link Result.context}). Every field is optional. */
export interface ResultContext {
  /** Inventory number of the laptop (Inventarnummer), where the municipality keeps one. */
  inventoryNumber?: string;
  /** The profile's device inventory (`spec.devices.allow`). */
  devices?: {
    name: string;
    role: string;
    usb: string[];
    serial?: string;
    certified?: boolean;
  }[];
  /** The profile's VVT records (`metadata.processingRecords`). */
  processingRecords?: { id: string; title: string; dataCategories?: string[] }[];
  protectionNeeds?: { confidentiality: Level; integrity: Level; availability: Level };
  dataProtectionOfficer?: { name: string; email?: string };
  servedAreas?: string[];
  /** Every waiver of the profile, including those whose control passed. */
  waivers?: (WaiverRecord & { control: string })[];
  certificates?: ResultCertificate[];
  /** Installed packages (dpkg `ii`), name and version. */
  software?: { name: string; version: string }[];
  /** Earlier runs of this device, oldest first (Art. 32 lit. d: regular review). */
  history?: { startedAt: string; compliant: boolean; fail: number; resultSha256?: string }[];
  /** What provision would change (from `koffer plan`); otherwise the controls' fix texts are used. */
  plan?: { control?: string; description: Localized }[];
}
