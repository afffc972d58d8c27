/**
 * The Debian releases koffer knows, as data: every difference between Debian 12 and
 * Debian 13 that a gatherer, check, resource, test or the demo needs is a field here, so
 * supporting a release means adding one entry, not scattering version conditions.
 *
 * Sources: the releases' own files (os-release, debian_version, package lists of a
 * `debootstrap` root built by src/demo/debian-root.ts) and strongSwan's documentation for
 * RFC 9370 additional key exchanges (ML-KEM needs strongSwan 6.0 and its `ml` plugin).
 */

/** The value of `spec.platform` in a profile. */
export type PlatformId = "debian-12" | "debian-13";
export type Codename = "bookworm" | "trixie";

export interface DebianRelease {
  platform: PlatformId;
  /** `VERSION_ID` in /etc/os-release. */
  versionId: string;
  codename: Codename;
  /** Human name for reports (the same in German and English). */
  name: string;
  /** Major version the release ships, for evidence and the notes of the demo. */
  systemdVersion: number;
  strongswanVersion: string;
  /** strongSwan parses RFC 9370 additional key exchanges (`ke1_mlkem768`); 5.9 rejects them. */
  additionalKeyExchanges: boolean;
  /**
   * Whether the release's own strongSwan packages implement ML-KEM, and if not, why: Debian
   * 13's 6.0.1 knows the keywords but is built without the `ml` plugin, and its openssl plugin
   * uses ML-KEM only from AWS-LC (OpenSSL 3.5 support came with strongSwan 6.0.2).
   */
  mlkem: { packaged: boolean; note: string };
  /** `/bin`, `/sbin`, `/lib` are symlinks into `/usr` on every installation. */
  usrMerged: boolean;
  /** The suite that carries security updates, as unattended-upgrades and sources name it. */
  securitySuite: string;
  packages: {
    /** strongSwan with swanctl and the systemd-integrated charon. */
    strongswan: readonly string[];
    /** What ML-KEM in IKEv2 needs on top of `strongswan` (empty: nothing packaged helps). */
    strongswanPostQuantum: readonly string[];
    /** The package shipping systemd-cryptsetup and systemd-cryptenroll (split out of systemd in 13). */
    systemdCryptsetup: string;
  };
  /**
   * The initrd that unlocks a LUKS2 root with its systemd-tpm2 token (TPM2 + PIN) at boot.
   * The release's default, initramfs-tools with cryptsetup-initramfs, cannot: it unlocks with
   * cryptsetup and a passphrase and ignores `tpm2-device=` ("ignoring unknown option").
   * dracut with its `systemd`, `crypt` and `tpm2-tss` modules puts systemd-cryptsetup, the
   * libcryptsetup token plugin and the TPM2 libraries into the initrd.
   */
  initrd: {
    /** The dracut version the release ships (evidence, the plan's notes). */
    dracutVersion: string;
    /**
     * Everything the dracut initrd needs from the release: dracut itself (it replaces
     * initramfs-tools), `tpm2-tools` (dracut's tpm2-tss module refuses to load without the
     * `tpm2` binary), the TPM2 libraries it copies in (their sonames are in the package names,
     * hence `t64` on Debian 13), systemd-cryptsetup with the token plugin (in `systemd` on
     * Debian 12, its own package on 13) and zstd (the initrd's compression).
     */
    packages: readonly string[];
  };
  /** Units whose role moved between releases. */
  units: {
    /**
     * The unit that loads /etc/audit/rules.d into the kernel at boot, when it is not
     * auditd.service itself: Debian 12's auditd 3.0 runs `augenrules --load` in auditd.service;
     * Debian 13's auditd 4.0 has audit-rules.service for it, which auditd.service Requires=,
     * so masking it keeps auditd from starting at all.
     */
    auditRules: string | null;
  };
  /** Files the release's own packages ship that koffer's settings must outrank. */
  files: {
    /**
     * pam_limits drop-ins that raise core limits: Debian 13's systemd ships
     * 10-coredump-debian.conf (`root hard core infinity`, which no `*` line overrides) and
     * systemd-coredump 20-coredump-debian.conf (soft limits to infinity).
     */
    coredumpLimits: readonly string[];
  };
  /** Packages on top of `debootstrap --variant=minbase` for the cached test and demo root. */
  debootstrapPackages: readonly string[];
  /** The example profile (examples/) `koffer demo --release` provisions this release with. */
  exampleProfile: string;
  /** The demo's and tests' apt download cache under ~/.cache/koffer (apt locks it per run). */
  aptArchiveCache: string;
}

/** The packages every cached root has, so gatherers have real files to read. */
const basePackages = [
  "systemd",
  "systemd-sysv",
  "systemd-timesyncd",
  "dbus",
  "sudo",
  "ca-certificates",
  "nftables",
] as const;

export const releases: Readonly<Record<PlatformId, DebianRelease>> = {
  "debian-12": {
    platform: "debian-12",
    versionId: "12",
    codename: "bookworm",
    name: "Debian 12 (bookworm)",
    systemdVersion: 252,
    strongswanVersion: "5.9",
    additionalKeyExchanges: false,
    mlkem: {
      packaged: false,
      note: "strongSwan 5.9 has no ML-KEM and no additional key exchanges",
    },
    usrMerged: true,
    securitySuite: "bookworm-security",
    packages: {
      strongswan: ["strongswan-swanctl", "charon-systemd"],
      strongswanPostQuantum: [],
      systemdCryptsetup: "systemd",
    },
    initrd: {
      dracutVersion: "059",
      packages: [
        "dracut",
        "tpm2-tools",
        "systemd",
        "libtss2-esys-3.0.2-0",
        "libtss2-mu0",
        "libtss2-rc0",
        "libtss2-tcti-device0",
        "zstd",
      ],
    },
    units: { auditRules: null },
    files: { coredumpLimits: [] },
    debootstrapPackages: basePackages,
    exampleProfile: "meerane.yaml",
    aptArchiveCache: "apt-archives",
  },
  "debian-13": {
    platform: "debian-13",
    versionId: "13",
    codename: "trixie",
    name: "Debian 13 (trixie)",
    systemdVersion: 257,
    strongswanVersion: "6.0.1",
    additionalKeyExchanges: true,
    mlkem: {
      packaged: false,
      note: "Debian 13's strongSwan 6.0.1 packages parse ML-KEM proposals but ship no ML-KEM implementation (no ml plugin; the openssl plugin supports ML-KEM with OpenSSL 3.5 only from strongSwan 6.0.2)",
    },
    usrMerged: true,
    securitySuite: "trixie-security",
    packages: {
      strongswan: ["strongswan-swanctl", "charon-systemd"],
      strongswanPostQuantum: [],
      systemdCryptsetup: "systemd-cryptsetup",
    },
    initrd: {
      dracutVersion: "106",
      packages: [
        "dracut",
        "tpm2-tools",
        "systemd-cryptsetup",
        "libtss2-esys-3.0.2-0t64",
        "libtss2-mu-4.0.1-0t64",
        "libtss2-rc0t64",
        "libtss2-tcti-device0t64",
        "zstd",
      ],
    },
    units: { auditRules: "audit-rules.service" },
    files: {
      coredumpLimits: [
        "/etc/security/limits.d/10-coredump-debian.conf",
        "/etc/security/limits.d/20-coredump-debian.conf",
      ],
    },
    // systemd-coredump: its Storage= default and soft-limit drop-in are what DATA-03 judges.
    debootstrapPackages: [...basePackages, "systemd-coredump"],
    exampleProfile: "meerane-trixie.yaml",
    aptArchiveCache: "apt-archives-trixie",
  },
};

export const platformIds = Object.keys(releases) as PlatformId[];
export const codenames = platformIds.map((id) => releases[id].codename);

/** The release of a profile's `spec.platform`. */
export function releaseOf(platform: PlatformId): DebianRelease {
  return releases[platform];
}

/** The release named by a codename (`bookworm`) or platform id (`debian-13`), if known. */
export function findRelease(name: string): DebianRelease | undefined {
  const key = name.trim().toLowerCase();
  return platformIds
    .map((id) => releases[id])
    .find((r) => r.codename === key || r.platform === key);
}

/** What a root's own files say about its release (evidence for the report). */
export interface DetectedRelease {
  /** The known release, or null for anything else (another distribution, testing, sid). */
  platform: PlatformId | null;
  id: string | null;
  versionId: string | null;
  codename: string | null;
  /** /etc/debian_version: "12.12", "13.2", or "trixie/sid" on testing. */
  debianVersion: string | null;
  prettyName: string | null;
  source: string;
}

/**
 * Judge the release from /etc/os-release fields and /etc/debian_version. A point release
 * in debian_version must agree with VERSION_ID; a `codename/sid` debian_version (testing or
 * unstable) is no stable release even when os-release claims one.
 */
export function detectRelease(
  osRelease: Record<string, string>,
  debianVersion: string | null,
  source = "/etc/os-release",
): DetectedRelease {
  const id = osRelease["ID"] ?? null;
  const versionId = osRelease["VERSION_ID"] ?? null;
  const codename = osRelease["VERSION_CODENAME"] ?? null;
  const dv = debianVersion?.trim() || null;
  const base = {
    id,
    versionId,
    codename,
    debianVersion: dv,
    prettyName: osRelease["PRETTY_NAME"] ?? null,
    source: dv === null ? source : `${source}, /etc/debian_version`,
  };
  const match = platformIds
    .map((p) => releases[p])
    .find(
      (r) =>
        id === "debian" &&
        versionId === r.versionId &&
        (codename === null || codename === r.codename) &&
        (dv === null || dv.split(".")[0] === r.versionId),
    );
  return { ...base, platform: match?.platform ?? null };
}
