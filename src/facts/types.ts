/**
 * Facts: a plain JSON snapshot of one laptop, gathered once per run.
 *
 * This file is the contract between gatherers (src/facts/<area>.ts) and checks
 * (src/checks/*.ts). Gatherers fill it; checks only read it. Everything here is
 * JSON-serialisable so a snapshot can be saved (`koffer facts --out`) and judged later.
 *
 * Conventions:
 * - A fact read from the target's files is always present (a missing file is
 *   represented by its absence or by defaults, never by `undefined` for the area).
 * - A fact that only a running machine can show (firmware, live sockets, kernel
 *   state) is a {@link Live}: on an offline root it is `{ available: false, reason }`,
 *   and a check reports `skip` with that reason.
 * - `source` names where a value was read (a path on the target or a command).
 */

export type Live<T> =
  { available: true; value: T; source: string } | { available: false; reason: string };

/** File metadata as found on the target. */
export interface FileMeta {
  path: string;
  mode: number; // permission bits, e.g. 0o600
  uid: number;
  gid: number;
}

/**
 * One step of an effective value's source chain: a place that set the value (file, line,
 * value) or a place the consuming program did not read, with the reason in `note`
 * ("overridden", "not read: /etc/sysctl.d/99-sysctl.conf missing", "masked by …").
 */
export interface ChainLink {
  file: string;
  line?: number;
  value?: string;
  note: string;
}

/**
 * A `key=value` configuration value as the consuming program ends up with it (the
 * effective value), with where it came from. `chain` (optional, absent in older
 * snapshots) lists every place that assigned the key in the order the program reads
 * them, the winner last, plus the places it did not read and why: the evidence a
 * reviewer needs to see why the value is what it is.
 */
export interface Setting {
  value: string;
  source: string; // "path:line"
  chain?: ChainLink[];
}

export type UnitState =
  | "enabled"
  | "enabled-runtime"
  | "linked"
  | "alias"
  | "masked"
  | "masked-runtime"
  | "static"
  | "indirect"
  | "disabled"
  | "generated"
  | "transient"
  | "bad"
  | "not-found";

// ─── disk ────────────────────────────────────────────────────────────────────

export interface CrypttabEntry {
  name: string;
  device: string; // "UUID=…", "/dev/…", "PARTUUID=…"
  keyFile: string | null; // null for "none" or "-"
  options: string[];
  source: string;
}

export interface FstabEntry {
  spec: string;
  file: string;
  vfstype: string;
  options: string[];
  source: string;
}

export interface LuksKeyslot {
  id: string;
  type: string; // "luks2" (keyslot type) or "luks1"
  keyBytes: number; // volume key size in bytes (64 = 512-bit XTS)
  kdf: {
    type: string; // "argon2id" | "argon2i" | "pbkdf2"
    hash?: string;
    iterations?: number;
    time?: number;
    memory?: number; // KiB
    cpus?: number;
  };
  priority?: string;
}

export interface LuksToken {
  id: string;
  type: string; // "systemd-tpm2", "systemd-recovery", "systemd-fido2", "koffer-recovery" …
  keyslots: string[];
  tpm2Pin?: boolean;
  tpm2Pcrs?: number[];
}

export interface LuksSegment {
  id: string;
  type: string; // "crypt"
  encryption: string; // "aes-xts-plain64"
  /** Volume key size in bytes where the header states it apart from keyslots (LUKS1 "MK bits"). */
  keyBytes?: number;
  sectorSize?: number;
  integrity?: string;
  /** LUKS2: byte offset of the segment on the device. */
  offset?: number;
  /** LUKS2: the segment's length in bytes, or "dynamic" (up to the end of the device). */
  size?: number | "dynamic";
}

export interface LuksVolume {
  /** The image file or block device, as given (path on the host for `--disk`). */
  device: string;
  uuid: string | null;
  /** Name of the crypttab entry whose device matches this volume's UUID or path. */
  crypttabName: string | null;
  version: 1 | 2 | null;
  keyslots: LuksKeyslot[];
  tokens: LuksToken[];
  segments: LuksSegment[];
  /** LUKS2 `config.requirements.mandatory` (unknown requirements make a volume unusable). */
  requirements: string[];
  /**
   * Bytes of encrypted data (the crypt segments: device size minus the data offset for a
   * "dynamic" segment), when the device size could be read. Re-encryption estimates use it.
   */
  dataBytes?: number;
  /** Set when the header could not be read or is damaged; the volume then counts as unverifiable. */
  error?: string;
  source: string; // e.g. "cryptsetup luksDump --dump-json-metadata IMG"
}

/** A live block device (lsblk), local target only. */
export interface BlockDevice {
  name: string;
  /** The kernel's name (`dm-1` for an LV or crypt mapping), which /proc/swaps shows; absent in older snapshots. */
  kname?: string;
  path: string;
  type: string; // "disk" | "part" | "crypt" | "lvm" | "loop" | "rom"
  fstype: string | null;
  mountpoints: string[];
  uuid: string | null;
  children: BlockDevice[];
}

/** Written by koffer when it escrows a recovery key (DISK-05); read back as evidence. */
export interface EscrowRecord {
  volumeUuid: string;
  keyslot: string;
  escrowCertificateSha256: string;
  createdAt: string;
  source: string;
}

/**
 * The first-boot TPM2+PIN enrolment koffer installs on an image without a reachable TPM
 * (koffer-tpm2-enrol.service + /usr/lib/koffer/tpm2-enrol + /etc/koffer/tpm2-enrol.conf).
 * The unit's enablement is in the services area (`unitFiles["koffer-tpm2-enrol.service"]`).
 */
export interface FirstBootEnrolFacts {
  /** The script, when it is a regular file. */
  script: string | null;
  /** The unit file in /etc/systemd/system, when present. */
  unit: string | null;
  /** Volumes the config names: NAME DEVICE PCRS, with the line they come from. */
  volumes: { name: string; device: string; pcrs: number[]; source: string }[];
  /** First line of the marker the script writes when done (/var/lib/koffer/tpm2-enrolled). */
  done: string | null;
  /** The last failure the script noted (/var/lib/koffer/tpm2-enrol.failed), one line, no secret. */
  failure: { text: string; source: string } | null;
}

export interface DiskFacts {
  crypttab: CrypttabEntry[];
  fstab: FstabEntry[];
  volumes: LuksVolume[];
  blockDevices: Live<BlockDevice[]>;
  /** Active swap (live) — `swapon --show`. */
  activeSwap: Live<{ name: string; type: string }[]>;
  /** `AllowHibernation=` etc. from /etc/systemd/sleep.conf(.d). */
  sleepConf: Record<string, Setting>;
  /** Files matched by KEYFILE_PATTERN in /etc/cryptsetup-initramfs/conf-hook, or key files found in the initramfs. */
  initramfsKeyFiles: string[];
  escrowRecords: EscrowRecord[];
  /** Whether zram swap is configured (zram-tools / systemd-zram-generator). */
  zramSwap: boolean;
  /** The first-boot enrolment, when any part of it is on the target (absent in older snapshots). */
  firstBootEnrol?: FirstBootEnrolFacts | null;
}

// ─── boot ────────────────────────────────────────────────────────────────────

export interface BootFacts {
  secureBoot: Live<boolean>;
  tpm: Live<{ present: boolean; version: number | null }>;
  /** Kernel command line: live /proc/cmdline, or GRUB_CMDLINE_LINUX(+_DEFAULT) from /etc/default/grub. */
  kernelCmdline: { value: string[]; source: string; chain?: ChainLink[] } | null;
  efiBootEntries: Live<string[]>;
  /**
   * The initrds in /boot, listed from the host (src/facts/initrd.ts). Absent in snapshots
   * taken before koffer looked at initrds.
   */
  initrds?: InitrdFacts[];
}

/** Which program built an initrd, told from its contents. */
export type InitrdGenerator =
  "dracut" | "initramfs-tools+cryptsetup" | "initramfs-tools" | "unknown";

/** Paths inside the initrd of what a systemd-tpm2 token unlock needs (null: missing). */
export interface InitrdCapabilities {
  systemdCryptsetup: string | null;
  /** libcryptsetup's token plugin `cryptsetup/libcryptsetup-token-systemd-tpm2.so`. */
  tpm2TokenPlugin: string | null;
  tss2Esys: string | null;
  tss2TctiDevice: string | null;
}

/** One initrd of the target, as the host's cpio lister saw it. */
export interface InitrdFacts {
  /** /boot/initrd.img-<kver> */
  path: string;
  kver: string;
  /** The initrd of the kernel the boot loader starts by default. */
  default: boolean;
  generator: InitrdGenerator;
  /** Compression of each part in order ("none" for the early microcode cpio, then "zstd" …). */
  parts: string[];
  entries: number;
  capabilities: InitrdCapabilities;
  /** The crypttab inside the initrd (dracut: /etc/crypttab; cryptsetup-initramfs: /cryptroot/crypttab). */
  crypttab: { path: string; entries: { name: string; options: string[] }[] } | null;
  /** Why it could not be listed (truncated, over the budget, unsupported compression …). */
  error?: string;
  source: string;
}

// ─── vpn ─────────────────────────────────────────────────────────────────────

/** A parsed swanctl.conf section tree: `{ key: value | section }`. */
export interface SwanctlSection {
  [key: string]: string | SwanctlSection;
}

export interface SwanctlChild {
  name: string;
  localTs: string[];
  remoteTs: string[];
  espProposals: string[];
  startAction: string | null;
  dpdAction: string | null;
  mode: string | null;
}

export interface SwanctlConnection {
  name: string;
  version: string | null; // "2", "1", "0" (any) or null (default 0 = any)
  remoteAddrs: string[];
  proposals: string[];
  local: { auth: string | null; certs: string[]; id: string | null }[];
  remote: { auth: string | null; id: string | null; cacerts: string[] }[];
  children: SwanctlChild[];
  source: string;
}

/** A parsed X.509 certificate (public data only). */
export interface CertificateInfo {
  path: string;
  pem: string;
  subject: string; // RFC 4514-like, "CN=…, O=…, C=DE"
  issuer: string;
  serial: string;
  notBefore: string; // ISO
  notAfter: string; // ISO
  keyType: "rsa" | "ec" | "ed25519" | "ed448" | "dsa" | "unknown";
  keyBits: number;
  curve?: string; // "P-256", "P-384", "P-521", "brainpoolP256r1" …
  signatureAlgorithm: string; // "sha384WithRSAEncryption", "ecdsa-with-SHA384", "sha1WithRSAEncryption" …
  sha256Fingerprint: string;
  isCa: boolean;
  extendedKeyUsage: string[]; // "clientAuth", "serverAuth" …
  file: FileMeta;
}

/** A private key file: never its content, only where it is and who may read it. */
export interface PrivateKeyFile {
  path: string;
  file: FileMeta;
  /** Key type when it could be read without a passphrase. */
  keyType?: "rsa" | "ec" | "ed25519" | "unknown";
  encrypted?: boolean;
}

/** What the installed strongSwan can do: its packages and the plugins charon loads. */
export interface StrongswanPlugins {
  /** strongSwan packages installed (dpkg `ii`): libstrongswan, libstrongswan-standard-plugins … */
  packages: { name: string; version: string }[];
  /** Plugins whose shared object is in the plugin directory, and whether charon loads them. */
  plugins: { name: string; loaded: boolean; source: string }[];
}

export interface VpnFacts {
  strongswanInstalled: boolean;
  /** null when strongSwan is not installed or the facts predate this field. */
  strongswanPlugins?: StrongswanPlugins | null;
  swanctl: { files: string[]; connections: SwanctlConnection[]; parseErrors: string[] };
  /** Legacy /etc/ipsec.conf connections with `keyexchange=ikev1|ike`. */
  legacyIpsec: { name: string; keyexchange: string; source: string }[];
  certificates: CertificateInfo[]; // /etc/swanctl/x509/*
  caCertificates: CertificateInfo[]; // /etc/swanctl/x509ca/*
  privateKeys: PrivateKeyFile[]; // /etc/swanctl/{private,ecdsa,rsa,pkcs8}/*
  /** WireGuard configs, NetworkManager VPN/wireguard connections, OpenVPN configs, PPTP/L2TP. */
  otherTunnels: { type: "wireguard" | "openvpn" | "pptp" | "l2tp" | "ikev1"; source: string }[];
  csrs: string[]; // paths of pending CSRs written by koffer
}

// ─── usb ─────────────────────────────────────────────────────────────────────

/** One USBGuard rule as parsed by src/facts/usbguard-rules.ts. */
export interface UsbRuleFact {
  target: "allow" | "block" | "reject" | "match" | "device";
  canonical: string;
  /** `vvvv:pppp` with `*` wildcards, when the rule has an id attribute with one value. */
  ids: string[];
  /** with-interface values, e.g. ["08:*:*"], and the set operator. */
  withInterface: { operator: string; values: string[] } | null;
  hasSerial: boolean;
  hasHash: boolean;
  source: string; // "path:line"
}

export interface UsbFacts {
  usbguardInstalled: boolean;
  daemonConf: Record<string, Setting>; // ImplicitPolicyTarget, PresentDevicePolicy, RuleFile, RuleFolder …
  rules: UsbRuleFact[];
  ruleErrors: { source: string; message: string }[];
  /** modprobe.d: modules blacklisted or installed as /bin/false|/bin/true. */
  modprobeBlocked: string[];
  /** Attached devices (live sysfs). */
  attached: Live<{ id: string; name: string; interfaces: string[]; serial: string | null }[]>;
}

// ─── apps ────────────────────────────────────────────────────────────────────

export interface PackageFact {
  name: string;
  version: string;
  /** dpkg's three-letter status; only "ii" counts as installed. */
  status: string;
  arch?: string;
}

export interface DesktopEntry {
  path: string;
  name: string;
  exec: string | null;
  noDisplay: boolean;
  hidden: boolean;
  /** Owning package from dpkg's file lists, null if no package owns it. */
  package: string | null;
  /** The entry with the same desktop-file id earlier in XDG_DATA_DIRS that hides this one. */
  shadowedBy?: string;
  /**
   * Why a GNOME session does not list it although it is neither NoDisplay nor Hidden
   * (TryExec or the Exec program not found, OnlyShowIn/NotShowIn, not an application).
   */
  notShown?: string;
}

export interface AptSource {
  types: string[]; // deb, deb-src
  uris: string[];
  suites: string[];
  components: string[];
  trusted: boolean;
  signedBy: string | null;
  source: string;
  /** Options set that let apt accept it unsigned or weakly signed (allow-insecure …). */
  weakened?: string[];
}

export interface AppsFacts {
  /** Every package in the dpkg status database (any status); use installed() helpers for `ii`. */
  packages: PackageFact[];
  desktopEntries: DesktopEntry[];
  aptSources: AptSource[];
  /**
   * The sources files apt reads (Dir::Etc::sourcelist and the parts of Dir::Etc::sourceparts
   * apt takes), with their text for the provisioner, and the parts it skips.
   */
  aptSourceFiles?: {
    path: string;
    format: "one-line" | "deb822";
    text: string;
    mode: number;
    uid: number;
    gid: number;
  }[];
  aptSourcesIgnored?: string[];
  /**
   * apt.conf settings that make apt accept unsigned repositories or packages for every source
   * (Acquire::AllowInsecureRepositories, APT::Get::AllowUnauthenticated …), where set.
   */
  aptAuthentication?: Record<string, Setting>;
  apparmor: { kernelEnabled: Live<boolean>; profilesEnforced: Live<number> };
  caCertificatesConf: { enabled: string[]; disabled: string[] } | null;
  /** Firefox/Chromium enterprise policies found, parsed JSON by path. */
  browserPolicies: { path: string; policies: unknown }[];
}

// ─── services ────────────────────────────────────────────────────────────────

export interface ServicesFacts {
  /** `systemctl --root … is-enabled UNIT` for every unit of interest. */
  unitFiles: Record<string, UnitState>;
  /** `systemctl is-active` (live only). */
  active: Live<Record<string, string>>;
}

// ─── accounts ────────────────────────────────────────────────────────────────

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

export interface ShadowEntry {
  name: string;
  /** Only the hash scheme and lock state, never the hash. */
  locked: boolean; // password field starts with "!" or "*"
  empty: boolean;
  scheme: string | null; // "yescrypt" ($y$), "sha512" ($6$), "md5" ($1$), …
  /** The day (since 1970-01-01) the account expires (shadow field 8); absent = never. */
  expireDay?: number;
}

export interface SudoRule {
  who: string; // "%sudo", "alice", "ALL"
  spec: string; // "ALL=(ALL:ALL) ALL"
  source: string;
}

export interface AccountsFacts {
  passwd: PasswdEntry[];
  shadow: ShadowEntry[];
  groups: { name: string; gid: number; members: string[] }[];
  sudoRules: SudoRule[];
  sudoDefaults: { value: string; source: string }[];
  loginDefs: Record<string, Setting>;
  pwquality: Record<string, Setting>;
  faillock: Record<string, Setting>;
  /** PAM modules referenced in /etc/pam.d/common-auth etc., e.g. "pam_faillock.so". */
  pamModules: Record<string, string[]>;
  autologin: { kind: "gdm3" | "lightdm" | "sddm" | "getty"; user: string | null; source: string }[];
  /** dconf system databases: key path ("org/gnome/desktop/session/idle-delay") → value, and locked keys. */
  dconf: {
    profileUserHasSystemDb: boolean;
    keys: Record<string, Setting>;
    locks: string[];
    /**
     * The compiled databases the profile names: dconf reads only these binary files, never
     * the keyfiles, so a keyfile newer than its database has no effect yet.
     */
    databases?: DconfDatabase[];
  };
}

// ─── network ─────────────────────────────────────────────────────────────────

export interface DconfDatabase {
  name: string;
  /** /etc/dconf/db/NAME */
  path: string;
  /** mtime of the compiled database (ms), null when there is none. */
  compiledMs: number | null;
  /** The newest keyfile or lock file of NAME.d, null when the directory is empty. */
  newestSource: string | null;
  newestSourceMs: number | null;
}

export interface NftChain {
  family: string; // "inet", "ip", "ip6"
  table: string;
  name: string;
  hook: string | null; // "input", "output", "forward" …
  policy: string | null; // "drop", "accept"
  rules: string[]; // rule text as written (nftables.conf) or rendered from JSON
  /** "FILE:LINE" of each rule, parallel to `rules`, when read from files (not from `nft -j`). */
  sites?: string[];
}

export interface NetworkFacts {
  /** Ruleset from the live kernel (`nft -j list ruleset`) or /etc/nftables.conf. */
  nftables: { chains: NftChain[]; source: string; parseErrors: string[] };
  listeners: Live<{ proto: string; address: string; port: number; process: string | null }[]>;
  /** Effective sshd settings (first match wins), lower-case keys, from sshd_config(.d). */
  sshd: Record<string, Setting>;
  /**
   * Settings inside sshd `Match` blocks (lower-case keys): they apply to the connections the
   * criteria select, overriding `sshd`. Absent in older snapshots.
   */
  sshdMatch?: { criteria: string; key: string; value: string; source: string }[];
  /**
   * /etc/resolv.conf; `vpnPushed` are the servers strongSwan's resolve plugin wrote there
   * (lines marked `# by strongSwan`): assigned by the gateway, reached through the tunnel.
   */
  resolvConf: { nameservers: string[]; source: string; vpnPushed?: string[] } | null;
  /**
   * /etc/hosts: names the laptop resolves without DNS (the VPN gateway's name must be here when
   * the kill switch lets no DNS out before the tunnel). Absent in older snapshots.
   */
  hosts?: { address: string; names: string[]; source: string }[];
  resolved: Record<string, Setting>;
  networkManager: {
    id: string;
    type: string;
    autoconnect: boolean;
    ssid?: string;
    apn?: string;
    vpnService?: string;
    source: string;
  }[];
  rfkill: Live<{ type: string; soft: boolean; hard: boolean }[]>;
}

// ─── updates, logging, data ──────────────────────────────────────────────────

export interface UpdatesFacts {
  osRelease: Record<string, string>; // ID, VERSION_ID, VERSION_CODENAME, PRETTY_NAME
  /**
   * The release judged from os-release and /etc/debian_version (src/platform/releases.ts).
   * Absent in older snapshots.
   */
  release?: import("../platform/releases.js").DetectedRelease;
  /** Merged apt configuration of interest: APT::Periodic::*, Unattended-Upgrade::*. */
  aptConf: Record<string, Setting>;
  unattendedUpgradesOrigins: string[];
  fwupd: Live<{ pendingSecurityUpdates: number }>;
}

export interface LoggingFacts {
  auditRules: { rule: string; source: string }[];
  journald: Record<string, Setting>;
  journalDir: FileMeta | null; // /var/log/journal
  timesyncd: Record<string, Setting>;
  chrony: { servers: string[]; source: string } | null;
  timeSynchronized: Live<boolean>;
  rsyslogForwarding: string[];
}

export interface DataFacts {
  /** Merged sysctl from sysctl.d files (file order as systemd-sysctl applies them). */
  sysctl: Record<string, Setting>;
  /** sysctl files systemd-sysctl does not read, and why (absent in older snapshots). */
  sysctlNotRead?: ChainLink[];
  /** Live kernel values for the same keys, where readable. */
  sysctlLive: Live<Record<string, string>>;
  coredump: Record<string, Setting>;
  /** `* hard core 0` style entries from limits.conf(.d). */
  coreLimits: { domain: string; type: string; value: string; source: string }[];
  cupsd: Record<string, Setting>;
  cupsdListen: string[];
  /** Capture-type files (photos, fingerprints, scans) found in persistent places. */
  captureFiles: { path: string; size: number; mtime: string }[];
  /** Live mounts (findmnt) for /tmp /var/tmp /home /media. */
  mounts: Live<{ target: string; fstype: string; options: string[] }[]>;
}

export type FactArea =
  | "disk"
  | "boot"
  | "vpn"
  | "usb"
  | "apps"
  | "services"
  | "accounts"
  | "network"
  | "updates"
  | "logging"
  | "data";

export interface Facts {
  schema: "koffer/facts/v1";
  gatheredAt: string;
  tool: { name: "koffer"; version: string };
  target: { kind: "local" | "root" | "ssh"; hostname: string; location: string };
  host: { hostname: string; machineId: string | null; serialNumber: string | null };
  disk: DiskFacts;
  boot: BootFacts;
  vpn: VpnFacts;
  usb: UsbFacts;
  apps: AppsFacts;
  services: ServicesFacts;
  accounts: AccountsFacts;
  network: NetworkFacts;
  updates: UpdatesFacts;
  logging: LoggingFacts;
  data: DataFacts;
  /** A gatherer that failed leaves its area at defaults and records why; checks reading it report `error`. */
  gatherErrors: { area: FactArea; message: string }[];
  /**
   * The files koffer manages, as found (src/facts/managed.ts): `null` = absent. Lets the
   * planner tell byte-identical files from merely equivalent ones. Absent in older snapshots.
   */
  managedFiles?: Record<string, ManagedFile | null>;
}

/** A managed file's identity; `text` only for files koffer edits line by line (fstab, login.defs …). */
export interface ManagedFile {
  sha256: string;
  mode: number;
  uid: number;
  gid: number;
  text?: string;
}

/** What every gatherer gets besides the target. */
export interface GatherContext {
  /** The profile, when known: adds its devices' services and packages to what is looked at. */
  profile: import("../profiles/types.js").Profile | null;
  now: Date;
}
