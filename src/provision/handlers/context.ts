/**
 * What the handlers for packages, LUKS keyslots, TPM2 and the VPN certificate share in
 * one provision run: the secrets the technician supplied (held in memory only), the
 * options of the run, and notes about work left for later (TPM2 enrolment on first
 * boot, a certificate request waiting for the CA) that the summary reports.
 */
import type { KeyObject } from "node:crypto";
import type { Profile } from "../../profiles/types.js";
import type { ReencryptChange } from "../types.js";

/** A step deliberately left for later; not a failure of the run. */
export interface DeferredNote {
  resource: string;
  kind:
    | "tpm2-first-boot"
    | "certificate-request"
    | "recovery-key-escrowed"
    | "reencrypt-unconfirmed"
    | "reencrypt-header-backup"
    | "initrd-bootloader";
  message: string;
  /** A file the technician needs (CSR, escrow envelope), as a target path. */
  path?: string;
}

export interface HandlerOptions {
  profile: Profile;
  /** The disk passphrase that opens the current passphrase keyslot(s). */
  passphrase?: string;
  /** TCTI spec for systemd-cryptenroll (`swtpm:host=127.0.0.1,port=2321`, `device:/dev/tpmrm0`, `auto`). */
  tpm2Device?: string;
  /** The PIN that TPM2 unlocking will ask for. */
  tpm2Pin?: string;
  /** The municipality CA, when the technician brought it (`--ca-p12`). */
  ca?: { certPem: string; key: KeyObject };
  /** Host name of the laptop for the certificate subject (default: the target's /etc/hostname). */
  hostname?: string;
  /**
   * Host directory bind-mounted over the chroot's /var/cache/apt/archives, so .debs are
   * downloaded once across runs (tests, the demo). Absent: apt uses the root's own cache.
   */
  aptArchives?: string;
  /**
   * PBKDF cost of new keyslots: "default" lets cryptsetup benchmark (seconds per slot, as on
   * a laptop); "fast" (KOFFER_TEST_PBKDF=fast) is for tests only — 4 iterations, 32 MiB.
   */
  pbkdfCost: "default" | "fast";
  /** Local directory that receives a copy of each escrow envelope (`--out-dir`). */
  escrowCopyDir?: string;
  /** Log a line of progress (apt output is not streamed; this names the step). */
  log?: (line: string) => void;
  /**
   * A re-encryption (`luks-reencrypt`) may run: true with `--confirm-reencrypt`, or a question
   * asked per volume at a terminal. Absent or false: the change is skipped (DISK-02 keeps failing).
   */
  confirmReencrypt?: boolean | ((change: ReencryptChange) => Promise<boolean>);
  /** The volume's recovery key, when the technician brought it: its keyslot is re-wrapped too. */
  recoveryKey?: string;
  /**
   * Hot zone of a re-encryption in MiB (default 32): the data rewritten between two metadata
   * commits, and what a graceful stop (SIGINT/SIGTERM) finishes before it exits.
   */
  reencryptHotzoneMiB?: number;
  /**
   * While an online re-encryption runs: call `onInterrupt` on the run's Ctrl-C/SIGTERM instead
   * of ending koffer (the handler stops cryptsetup at a safe point first). Returns the release.
   */
  trapInterrupt?: (onInterrupt: () => void) => () => void;
  /** Progress of a running re-encryption, from cryptsetup's `--progress-json` lines. */
  onReencryptProgress?: (progress: ReencryptProgress) => void;
}

/** One progress report of `cryptsetup reencrypt --progress-json`. */
export interface ReencryptProgress {
  device: string;
  /** Bytes done of `totalBytes`. */
  doneBytes: number;
  totalBytes: number;
  bytesPerSecond: number;
  etaSeconds: number;
}

/** Mutable state of one run, shared by all handlers. */
export interface HandlerState {
  options: HandlerOptions;
  notes: DeferredNote[];
  /** `apt-get update` ran in this run already (lists are refreshed once per run). */
  aptUpdated: boolean;
  /** Recovery keys added in this run, by volume UUID: usable to prove a slot still opens. */
  recoveryKeys: Map<string, string>;
  /** Devices whose TPM2+PIN token this run enrolled (the only proof a passphrase may go). */
  tpm2Enrolled: Set<string>;
  /**
   * Devices this run re-encrypted: cryptsetup gave every re-wrapped keyslot a new number, so
   * keyslot numbers planned before the re-encryption are stale (absent in older callers).
   */
  reencrypted?: Set<string>;
}

/** The PBKDF arguments for a new or converted passphrase keyslot. */
export function pbkdfArgs(cost: HandlerOptions["pbkdfCost"]): string[] {
  return cost === "fast"
    ? ["--pbkdf=argon2id", "--pbkdf-force-iterations=4", "--pbkdf-memory=32768"]
    : ["--pbkdf=argon2id"];
}

/** The PBKDF cost the environment asks for: only the exact value "fast" lowers it. */
export function pbkdfCostFromEnv(env: NodeJS.ProcessEnv): HandlerOptions["pbkdfCost"] {
  return env.KOFFER_TEST_PBKDF === "fast" ? "fast" : "default";
}
