import type { Lang, Status } from "../types.js";

/** What a colouring function is asked to style; the CLI maps these to chalk. */
export type StyleRole = Status | "bold" | "dim";

/** The state of the signature over the JSON a report was rendered from. */
export interface SignatureState {
  status: "valid" | "invalid" | "unsigned" | "not-checked";
  signer?: string;
  /** The signer certificate's issuer: a test CA here makes the signature test material. */
  signerIssuer?: string;
  signingTime?: string;
  reason?: string;
}

/** Options every renderer accepts; each uses what applies to it. */
export interface RenderOptions {
  /** Language of the output; defaults to the result's language (HTML and Markdown: German). */
  lang?: Lang;
  /** Colouring for the text renderer; plain when absent. */
  style?: (role: StyleRole, text: string) => string;
  /** The bytes the report was rendered from: SHA-256 (hex) and signature state (HTML, Markdown). */
  source?: { sha256: string; signature?: SignatureState };
}
