/**
 * The shape of one control (STYLE.md §1): `{ meta, evaluate }` in src/checks/<id>.ts.
 * Checks are pure: they read the profile and the facts and return findings.
 */
import type { Facts, FactArea } from "../facts/types.js";
import type { Profile, Severity } from "../profiles/types.js";
import type { Art32Letter, ControlKind, Evidence, Localized, SdmGoal } from "../report/types.js";

export interface ControlMeta {
  id: string; // "DISK-01"
  kind: ControlKind;
  title: Localized;
  description: Localized;
  severity: Severity;
  /** Basis references, e.g. ["BSI SYS.3.1.A13", "BSI TR-02102-1", "DSGVO Art. 32 Abs. 1 lit. a"]. */
  references: string[];
  sdmGoals: SdmGoal[];
  art32: Art32Letter[];
  /** Fact areas read; a gather error in one of them turns the result into `error`. */
  facts: FactArea[];
  /** Message templates keyed by message id; `{{name}}` placeholders; one grammar: "Expected X, found Y." */
  messages: Record<string, Localized>;
  /** What `provision` changes to fix it, or null when a person must act. */
  fix: Localized | null;
}

/**
 * One finding. A control returns one or more; the worst status wins:
 * error > fail > pending > skip > not-applicable > pass. `pending`: what the control asks is
 * installed to happen on the device itself and has not happened yet (TPM2+PIN enrolment at
 * first boot) — not a pass, and not a failure of what koffer could do.
 */
export interface Finding {
  status: "pass" | "fail" | "pending" | "skip" | "not-applicable" | "error";
  messageId: string;
  data?: Record<string, string | number>;
  evidence?: Evidence[];
}

/** The answer of a certificate path verifier (src/pki/path.ts `verifyCertificatePath`). */
export interface PathVerdict {
  valid: boolean;
  reason: string | null;
  code: string | null;
}

/** The shape of src/pki/path.ts `verifyCertificatePath`, injected so checks need not import it. */
export type CertificatePathVerifier = (input: {
  leaf: string;
  intermediates?: string[];
  trustAnchors: string[];
  crls?: string[];
  at: Date;
  purpose: "client" | "server" | "any";
}) => PathVerdict;

export interface EvaluateContext {
  /** The run's clock (injected so tests and reports are reproducible). */
  now: Date;
  /**
   * The municipality's VPN CA as the profile names it (`spec.vpn.caCertificate`), read by the
   * caller because checks never read files. Absent: chain and CA-pinning parts cannot be judged.
   */
  vpnCa?: { pem: string; sha256: string; subject: string } | null;
  /** Certificate path verification (VPN-04); absent: the chain part is reported as not judged. */
  verifyPath?: CertificatePathVerifier;
}

export interface Control {
  meta: ControlMeta;
  evaluate(profile: Profile, facts: Facts, context: EvaluateContext): Finding[];
}
