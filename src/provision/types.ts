/**
 * Provisioning is plan, then apply (STYLE.md §10). A Change is data: printable,
 * diffable, serialisable as JSON (`koffer plan --format json` → `{ "changes": [...] }`).
 * Resources (one per area) compute changes from profile and facts; the apply engine
 * executes them through a Target, idempotently, with backups and a journal.
 */

interface ChangeBase {
  /** The resource (area) that planned it: "usbguard", "nftables", "accounts" … */
  resource: string;
  /** One line a technician reads in the plan. */
  summary: string;
  /** Control ids this change fixes. */
  controls: string[];
}

export interface WriteFileChange extends ChangeBase {
  kind: "write-file";
  path: string;
  /** UTF-8 text, or base64 when `encoding` is "base64". */
  content: string;
  encoding?: "utf8" | "base64";
  mode: number;
  uid: number;
  gid: number;
  /**
   * A configuration test run after writing (`sshd -t`): on the running machine, or in the
   * sandbox for an image (`image`, when it differs there). When it fails, the previous file is put back and the change fails.
   * On a running machine `reload` is then reloaded (or restarted) if it runs, and must still
   * run afterwards, else the previous file is put back and the unit reloaded again.
   */
  check?: { command: string[]; image?: string[]; reload?: string };
  /**
   * On a running machine, the command that puts the written file into effect at once (before
   * any later change relies on it); an image takes the file at boot. When it fails, the
   * previous file is put back and the change fails.
   */
  activate?: string[];
}

export interface RemoveFileChange extends ChangeBase {
  kind: "remove-file";
  path: string;
}

export interface PackagesChange extends ChangeBase {
  kind: "install-packages" | "purge-packages";
  packages: string[];
}

export interface UnitChange extends ChangeBase {
  kind: "enable-unit" | "disable-unit" | "mask-unit" | "unmask-unit";
  unit: string;
}

export interface GroupMembershipChange extends ChangeBase {
  kind: "set-group-members";
  group: string;
  /** The complete member list afterwards. */
  members: string[];
}

export interface LockAccountChange extends ChangeBase {
  kind: "lock-account";
  user: string;
  /**
   * Also expire the account (shadow field 8 = 1, as `usermod -e 1`): a locked password alone
   * still lets an SSH key or another PAM method in; an expired account passes no PAM account
   * check (login, sshd, su, cron, systemd --user).
   */
  expire?: boolean;
}

/**
 * Comment out lines of a file koffer does not own that override a value koffer's own file sets
 * (a later sysctl.d file, an earlier sshd drop-in): verify judges the effective value, so
 * provision must make koffer's value the effective one. Each line must still set `key` when
 * the change is applied, else nothing is changed (the file moved on since the facts).
 */
export interface DisableLinesChange extends ChangeBase {
  kind: "disable-lines";
  path: string;
  /** 1-based line numbers and the key each one sets. */
  lines: { line: number; key: string }[];
  /** The file format's comment marker. */
  comment: "#" | "//";
  /** See {@link WriteFileChange.activate}: puts the remaining settings into effect at once. */
  activate?: string[];
}

export interface KeyslotChange extends ChangeBase {
  kind: "luks-convert-keyslot" | "luks-remove-keyslot";
  /** Disk image or block device (host path). */
  device: string;
  keyslot: string;
}

export interface RecoveryKeyChange extends ChangeBase {
  kind: "luks-add-recovery-key";
  device: string;
  volumeUuid: string;
  /** Absolute path of the escrow certificate the recovery key is encrypted to. */
  escrowCertificate: string;
}

/**
 * Re-encrypt a volume whose data segment uses a weak key or cipher (DISK-02) to
 * aes-xts-plain64 with a 512-bit volume key (`cryptsetup reencrypt`), re-wrapping the keyslots
 * koffer holds a key for; or resume one that was interrupted (LUKS2 requirement
 * `online-reencrypt-v2`). It rewrites every data sector, so applying it needs a confirmation
 * beyond `--yes`.
 */
export interface ReencryptChange extends ChangeBase {
  kind: "luks-reencrypt";
  /** Disk image or block device (host path). */
  device: string;
  /** The opened dm-crypt mapping of a running laptop (online re-encryption), else null (offline). */
  activeName: string | null;
  /** An interrupted re-encryption is resumed (`--resume-only`) instead of started. */
  resume: boolean;
  /** What the data segment uses now (null when resuming: the header describes both). */
  from: { cipher: string; keyBits: number } | null;
  to: { cipher: "aes-xts-plain64"; keyBits: 512 };
  /** Encrypted bytes to rewrite, when the device size is known. */
  dataBytes: number | null;
  /** Throughput the estimate assumes (MiB/s): measured, or a conservative figure. */
  mibPerSecond: number;
  /** Estimated duration in seconds (dataBytes / mibPerSecond), null when the size is unknown. */
  estimateSeconds: number | null;
  /** Applying needs `--confirm-reencrypt` or a typed "yes" at a terminal; `--yes` is not enough. */
  confirmation: "explicit";
}

export interface Tpm2EnrolChange extends ChangeBase {
  kind: "tpm2-enrol";
  device: string;
  pcrs: number[];
}

/**
 * Switch the initrd to one that can use the systemd-tpm2 token: install dracut with what its
 * `systemd`, `crypt` and `tpm2-tss` modules need, regenerate the initrd of every installed
 * kernel, prove each one has the token support, and refresh the boot loader where it runs.
 */
export interface InitrdTpm2Change extends ChangeBase {
  kind: "initrd-tpm2";
  /** The release's packages for it (src/platform/releases.ts `initrd.packages`). */
  packages: string[];
  /** Kernel versions whose initrd is regenerated (as found when planning). */
  kernels: string[];
}

export interface CertificateChange extends ChangeBase {
  kind: "vpn-certificate";
  /** "issue" with a CA at hand; "request" writes a CSR and leaves VPN-03/04 failing. */
  action: "issue" | "request";
  name: string;
}

/** Compile a dconf system database from its keyfiles and locks (`dconf compile`). */
export interface DconfCompileChange extends ChangeBase {
  kind: "compile-dconf";
  /** The database name: /etc/dconf/db/NAME from /etc/dconf/db/NAME.d/. */
  database: string;
}

export type Change =
  | WriteFileChange
  | DconfCompileChange
  | RemoveFileChange
  | PackagesChange
  | UnitChange
  | GroupMembershipChange
  | LockAccountChange
  | DisableLinesChange
  | KeyslotChange
  | RecoveryKeyChange
  | ReencryptChange
  | Tpm2EnrolChange
  | InitrdTpm2Change
  | CertificateChange;

export type ChangeKind = Change["kind"];

/** One applied (or failed) change, as the journal records it. */
export interface JournalEntry {
  seq: number;
  at: string;
  state: "started" | "done" | "skipped" | "failed";
  change: Omit<Change, "content"> & { contentSha256?: string };
  message?: string;
}

/** What a file looked like before a run replaced it: enough to restore it byte for byte. */
export interface BackupRecord {
  path: string;
  existed: boolean;
  mode?: number;
  uid?: number;
  gid?: number;
  sha256?: string;
  /** File name of the copy inside the run's backup directory. */
  copy?: string;
  /** Its size in bytes, when larger than the default read budget (an initrd). */
  size?: number;
  /** The path was a symbolic link to this (as stored): rollback makes it a link again. */
  symlink?: string;
}
