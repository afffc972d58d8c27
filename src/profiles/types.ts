/**
 * The typed profile after loading: merged with everything it extends, paths resolved.
 * The JSON Schema in schema/profile.schema.json is the published form of this shape;
 * a test keeps the two in step.
 */
import type { Problem } from "../errors.js";
import type { PlatformId } from "../platform/releases.js";

export type Level = "normal" | "high" | "very-high";
export type Severity = "critical" | "high" | "medium" | "low";
export type PostQuantum = "off" | "preferred" | "required";
export type VpnKeyType = "ecdsa-p256" | "ecdsa-p384" | "rsa-3072" | "rsa-4096";
export type DeviceRole =
  | "eid-reader"
  | "card-reader"
  | "fingerprint-scanner"
  | "signature-pad"
  | "camera"
  | "document-scanner"
  | "printer"
  | "lte-modem"
  | "hid"
  | "other";

export interface ProfileMetadata {
  name: string;
  title?: string;
  controller?: string;
  processor?: string;
  servedAreas?: string[];
  dataProtectionOfficer?: { name: string; email?: string };
  processingRecords?: { id: string; title: string; dataCategories?: string[] }[];
  protectionNeeds?: { confidentiality: Level; integrity: Level; availability: Level };
}

export interface DiskSpec {
  encryption: "luks2";
  cipher: "aes-xts-plain64";
  keyBits: 512;
  pbkdf: "argon2id";
  unlock: "tpm2+pin" | "passphrase";
  tpm2Pcrs: number[];
  /** Absolute path after loading (resolved against the profile's directory). */
  recovery?: { escrowCertificate: string };
  swap: "encrypted" | "none";
  hibernation: boolean;
}

export interface VpnSpec {
  type: "ipsec";
  gateway?: string;
  gatewayId?: string;
  /** Absolute path after loading. */
  caCertificate?: string;
  proposals: { ike: string[]; esp: string[] };
  /**
   * Hybrid IKEv2 key exchange, a classical group plus ML-KEM (RFC 9370): `required` = every
   * proposal is hybrid; `preferred` = the first IKE proposal is; absent or `off` = no demand.
   */
  postQuantum?: PostQuantum;
  remoteNetworks: string[];
  alwaysOn: boolean;
  killSwitch: boolean;
  certificate: {
    subject: string;
    key: VpnKeyType;
    validityDays: number;
    renewBeforeDays: number;
  };
}

export interface DeviceSpec {
  name: string;
  role: DeviceRole;
  /** Normalised to a list of `vvvv:pppp` (lower-case hex). */
  usb: string[];
  serial?: string;
  /** USB interface classes the device exposes, `cc:ss:pp` with `*` wildcards, e.g. `0b:00:00`. */
  interfaces?: string[];
  packages?: string[];
  services?: string[];
  /** Certified for capture under TR-03104/AKNV (USB-04). */
  certified?: boolean;
}

export interface DevicesSpec {
  default: "block";
  allow: DeviceSpec[];
  blockMassStorage: boolean;
}

export interface AppsSpec {
  allow: string[];
  deny: string[];
  desktopApps: "strict" | "off";
}

export interface AccountsSpec {
  admins: string[];
  users: string[];
  autologin: boolean;
  screenLockSeconds: number;
  password?: { minLength: number; lockoutAttempts: number };
}

export interface NetworkSpec {
  inboundDefault: "deny";
  ssh: boolean;
  /** The laptop's address inside the tunnel; sshd listens only there (NET-03). Required with `ssh: true`. */
  sshListenAddress?: string;
  bluetooth: boolean;
  /** Approved uplinks (VPN-08); absent = not applicable. */
  uplinks?: { apn?: string[]; wlans?: string[] };
}

export interface UpdatesSpec {
  unattended: boolean;
  /** Firmware updates checked with fwupd (UPD-03); absent = not applicable. */
  firmware?: boolean;
}

export interface LoggingSpec {
  auditd: boolean;
  persistentJournal: boolean;
  timeSync: boolean;
  /** Central log forwarding through the tunnel (LOG-03); absent = not applicable. */
  forwardTo?: string;
  ntpServers?: string[];
}

export interface DataSpec {
  tmpOnTmpfs: boolean;
  coreDumps: boolean;
  printJobRetention: boolean;
  /** Browser hardening for a web Fachverfahren (DATA-04); absent = not applicable. */
  browser?: { name: "firefox-esr" | "chromium" };
}

/** An organisational control attested by a named person (kind `attest` in CONTROLS.md). */
export interface Attestation {
  control: string;
  by: string;
  date: string;
  statement: string;
}

export interface ProfileSpec {
  /** The Debian release (src/platform/releases.ts holds what differs between them). */
  platform: PlatformId;
  disk: DiskSpec;
  boot: { secureBoot: boolean };
  vpn: VpnSpec;
  devices: DevicesSpec;
  apps: AppsSpec;
  accounts: AccountsSpec;
  network: NetworkSpec;
  updates: UpdatesSpec;
  logging: LoggingSpec;
  data: DataSpec;
  attestations: Attestation[];
}

export interface Waiver {
  control: string;
  reason: string;
  author: string;
  approvedBy: string;
  risk: "low" | "medium" | "high";
  /** ISO date `YYYY-MM-DD`; the waiver holds until the end of that day (UTC). */
  expires: string;
}

export interface Profile {
  apiVersion: "koffer/v1";
  kind: "Profile";
  metadata: ProfileMetadata;
  spec: ProfileSpec;
  waivers: Waiver[];
  /** Where the profile came from: absolute path of the file, the chain of files it extends, SHA-256 of its bytes. */
  source: { file: string; sha256: string; extends: string[] };
}

/** What loading a profile yields: the profile when it is valid, and every problem found. */
export interface LoadResult {
  profile: Profile | null;
  problems: Problem[];
}
