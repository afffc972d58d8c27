/**
 * The Result: one run's verdict, the single input of every renderer.
 * `koffer/result/v1` — fields named in ARCHITECTURE.md never change; new ones may be added.
 */
import type { Severity } from "../profiles/types.js";

export type Status = "pass" | "fail" | "error" | "waived" | "not-applicable" | "skip";
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
}

export interface ResultSummary {
  compliant: boolean;
  pass: number;
  fail: number;
  error: number;
  waived: number;
  notApplicable: number;
  skip: number;
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
  };
  facts: { sha256: string } | null;
  startedAt: string;
  finishedAt: string;
  lang: Lang;
  summary: ResultSummary;
  controls: ControlResult[];
  /** Readiness checks (reader drivers, pcscd, VPN config loads): not security controls. */
  readiness: { id: string; title: Localized; ok: boolean; detail: string }[];
}
