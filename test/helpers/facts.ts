/**
 * A complete Facts literal of a fully hardened Bürgerkoffer laptop as an offline `root`
 * target shows it (live-only facts unavailable), and helpers for weak variants.
 * Checks are pure, so their tests pass literals like these — no mocks.
 */
import type {
  CertificateInfo,
  Facts,
  FirstBootEnrolFacts,
  InitrdFacts,
  Live,
  LuksVolume,
  Setting,
} from "../../src/facts/types.js";
import { releases } from "../../src/platform/releases.js";
import { merge } from "./profile.js";

type DeepPartial<T> = T extends (infer U)[]
  ? U[]
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

export const offline = {
  available: false,
  reason: "offline root image: no running kernel",
} as const;
export function unavailable<T>(): Live<T> {
  return { ...offline };
}
export function live<T>(value: T, source = "live"): Live<T> {
  return { available: true, value, source };
}

/** `key → Setting` from plain pairs, all read from one file. */
export function settings(source: string, pairs: Record<string, string>): Record<string, Setting> {
  return Object.fromEntries(
    Object.entries(pairs).map(([k, v], i) => [k, { value: v, source: `${source}:${i + 1}` }]),
  );
}

export const rootUuid = "6a3c5e0f-1b7e-4c1e-9a53-1f3a2a7d9e01";

/** The hardened root volume: LUKS2, AES-XTS-512, argon2id recovery slot, TPM2+PIN token. */
export function hardenedVolume(overrides?: DeepPartial<LuksVolume>): LuksVolume {
  const volume: LuksVolume = {
    device: "/images/koffer-07.img",
    uuid: rootUuid,
    crypttabName: "cryptroot",
    version: 2,
    keyslots: [
      {
        id: "0",
        type: "luks2",
        keyBytes: 64,
        kdf: { type: "argon2id", time: 4, memory: 1048576, cpus: 4 },
      },
      {
        id: "1",
        type: "luks2",
        keyBytes: 64,
        kdf: { type: "pbkdf2", hash: "sha512", iterations: 1000 },
      },
    ],
    tokens: [
      { id: "0", type: "systemd-recovery", keyslots: ["0"] },
      { id: "1", type: "systemd-tpm2", keyslots: ["1"], tpm2Pin: true, tpm2Pcrs: [7] },
    ],
    segments: [{ id: "0", type: "crypt", encryption: "aes-xts-plain64", sectorSize: 512 }],
    requirements: [],
    source: "cryptsetup luksDump --dump-json-metadata /images/koffer-07.img",
  };
  return merge(volume, overrides);
}

/** A client certificate record (public data); the PEM is a placeholder unless given. */
export function clientCertificate(overrides?: Partial<CertificateInfo>): CertificateInfo {
  return {
    path: "/etc/swanctl/x509/koffer-07.pem",
    pem: "",
    subject: "CN=koffer-07, OU=Buergerkoffer, O=Stadt Meerane, C=DE",
    issuer: "CN=Meerane VPN CA, O=Stadt Meerane, C=DE",
    serial: "1001",
    notBefore: "2026-01-01T00:00:00.000Z",
    notAfter: "2026-12-31T00:00:00.000Z",
    keyType: "ec",
    keyBits: 384,
    curve: "P-384",
    signatureAlgorithm: "ecdsa-with-SHA384",
    sha256Fingerprint: "aa".repeat(32),
    isCa: false,
    extendedKeyUsage: ["clientAuth"],
    file: { path: "/etc/swanctl/x509/koffer-07.pem", mode: 0o644, uid: 0, gid: 0 },
    ...overrides,
  };
}

export function caCertificate(overrides?: Partial<CertificateInfo>): CertificateInfo {
  return clientCertificate({
    path: "/etc/swanctl/x509ca/meerane-vpn-ca.pem",
    subject: "CN=Meerane VPN CA, O=Stadt Meerane, C=DE",
    issuer: "CN=Meerane VPN CA, O=Stadt Meerane, C=DE",
    serial: "1",
    notAfter: "2035-12-31T00:00:00.000Z",
    isCa: true,
    extendedKeyUsage: [],
    sha256Fingerprint: "cc".repeat(32),
    file: { path: "/etc/swanctl/x509ca/meerane-vpn-ca.pem", mode: 0o644, uid: 0, gid: 0 },
    ...overrides,
  });
}

/** What Debian's initramfs-tools + cryptsetup-initramfs build: no token support at all. */
export function stockInitrd(overrides: Partial<InitrdFacts> = {}): InitrdFacts {
  return hardenedInitrd({
    generator: "initramfs-tools+cryptsetup",
    capabilities: {
      systemdCryptsetup: null,
      tpm2TokenPlugin: null,
      tss2Esys: null,
      tss2TctiDevice: null,
    },
    crypttab: { path: "/cryptroot/crypttab", entries: [{ name: "cryptroot", options: ["luks"] }] },
    ...overrides,
  });
}

/** The default kernel's initrd as dracut builds it for TPM2+PIN (what koffer provisions). */
export function hardenedInitrd(overrides: Partial<InitrdFacts> = {}): InitrdFacts {
  return {
    path: "/boot/initrd.img-6.1.0-28-amd64",
    kver: "6.1.0-28-amd64",
    default: true,
    generator: "dracut",
    parts: ["none", "zstd"],
    entries: 2113,
    capabilities: {
      systemdCryptsetup: "usr/lib/systemd/systemd-cryptsetup",
      tpm2TokenPlugin: "usr/lib/x86_64-linux-gnu/cryptsetup/libcryptsetup-token-systemd-tpm2.so",
      tss2Esys: "usr/lib/x86_64-linux-gnu/libtss2-esys.so.0.0.0",
      tss2TctiDevice: "usr/lib/x86_64-linux-gnu/libtss2-tcti-device.so.0.0.0",
    },
    crypttab: {
      path: "/etc/crypttab",
      entries: [{ name: "cryptroot", options: ["luks", "discard", "tpm2-device=auto"] }],
    },
    source: "/boot/initrd.img-6.1.0-28-amd64",
    ...overrides,
  };
}

/** The clock the hardened facts are judged at (the client certificate is valid then). */
export const judgedAt = new Date("2026-06-01T10:00:00Z");

const pkg = (name: string, version = "1.0") => ({ name, version, status: "ii", arch: "amd64" });

export const hardenedPackages = [
  "base-files",
  "systemd",
  "sudo",
  "apparmor",
  "auditd",
  "nftables",
  "usbguard",
  "strongswan-swanctl",
  "charon-systemd",
  "libstrongswan-standard-plugins",
  "unattended-upgrades",
  "pcscd",
  "libifd-cyberjack6",
  "firefox-esr",
  "libreoffice-writer",
  "cups",
  "cups-daemon",
  "udisks2",
  "systemd-timesyncd",
  "systemd-coredump",
  "cryptsetup",
  "tpm2-tools",
  // The initrd that uses the TPM2 token (DISK-04): dracut and what it copies in.
  ...releases["debian-12"].initrd.packages.filter((n) => n !== "systemd" && n !== "tpm2-tools"),
].map((n) => pkg(n));

export function hardenedFacts(overrides?: DeepPartial<Facts>): Facts {
  const facts: Facts = {
    schema: "koffer/facts/v1",
    gatheredAt: judgedAt.toISOString(),
    tool: { name: "koffer", version: "0.1.0" },
    target: { kind: "root", hostname: "koffer-07", location: "/srv/images/koffer-07" },
    host: {
      hostname: "koffer-07",
      machineId: "0123456789abcdef0123456789abcdef",
      serialNumber: null,
    },
    disk: {
      crypttab: [
        {
          name: "cryptroot",
          device: `UUID=${rootUuid}`,
          keyFile: null,
          options: ["luks", "discard", "tpm2-device=auto"],
          source: "/etc/crypttab:1",
        },
      ],
      fstab: [
        {
          spec: "/dev/mapper/cryptroot",
          file: "/",
          vfstype: "ext4",
          options: ["errors=remount-ro"],
          source: "/etc/fstab:1",
        },
        {
          spec: "UUID=1234-ABCD",
          file: "/boot/efi",
          vfstype: "vfat",
          options: ["umask=0077"],
          source: "/etc/fstab:2",
        },
        {
          spec: "tmpfs",
          file: "/tmp",
          vfstype: "tmpfs",
          options: ["nosuid", "nodev", "noexec", "mode=1777"],
          source: "/etc/fstab:3",
        },
        {
          spec: "tmpfs",
          file: "/var/tmp",
          vfstype: "tmpfs",
          options: ["nosuid", "nodev", "noexec", "mode=1777"],
          source: "/etc/fstab:4",
        },
        {
          spec: "/dev/mapper/cryptroot",
          file: "/home",
          vfstype: "none",
          options: ["bind", "nosuid", "nodev", "noexec"],
          source: "/etc/fstab:5",
        },
      ],
      volumes: [hardenedVolume()],
      blockDevices: unavailable(),
      activeSwap: unavailable(),
      sleepConf: settings("/etc/systemd/sleep.conf.d/koffer.conf", {
        AllowHibernation: "no",
        AllowHybridSleep: "no",
        AllowSuspendThenHibernate: "no",
      }),
      initramfsKeyFiles: [],
      escrowRecords: [
        {
          volumeUuid: rootUuid,
          keyslot: "0",
          escrowCertificateSha256: "ee".repeat(32),
          createdAt: "2026-01-15T09:00:00Z",
          source: "/var/lib/koffer/escrow/cryptroot.json",
        },
      ],
      zramSwap: true,
    },
    boot: {
      secureBoot: unavailable(),
      tpm: unavailable(),
      kernelCmdline: {
        value: ["quiet", "intel_iommu=on", "iommu=force"],
        source: "/etc/default/grub:6",
      },
      efiBootEntries: unavailable(),
      initrds: [hardenedInitrd()],
    },
    vpn: {
      strongswanInstalled: true,
      swanctl: {
        files: ["/etc/swanctl/conf.d/koffer.conf"],
        connections: [
          {
            name: "rathaus",
            version: "2",
            remoteAddrs: ["vpn.meerane.example"],
            proposals: ["aes256gcm16-prfsha384-ecp384"],
            local: [
              {
                auth: "pubkey",
                certs: ["koffer-07.pem"],
                id: "CN=koffer-07, OU=Buergerkoffer, O=Stadt Meerane, C=DE",
              },
            ],
            remote: [
              {
                auth: "pubkey",
                id: "CN=vpn.meerane.example, O=Stadt Meerane, C=DE",
                cacerts: ["meerane-vpn-ca.pem"],
              },
            ],
            children: [
              {
                name: "all",
                localTs: ["dynamic"],
                remoteTs: ["0.0.0.0/0", "::/0"],
                espProposals: ["aes256gcm16-ecp384"],
                startAction: "trap",
                dpdAction: "restart",
                mode: "tunnel",
              },
            ],
            source: "/etc/swanctl/conf.d/koffer.conf:1",
          },
        ],
        parseErrors: [],
      },
      legacyIpsec: [],
      certificates: [clientCertificate()],
      caCertificates: [caCertificate()],
      privateKeys: [
        {
          path: "/etc/swanctl/ecdsa/koffer-07.key",
          file: { path: "/etc/swanctl/ecdsa/koffer-07.key", mode: 0o600, uid: 0, gid: 0 },
          keyType: "ec",
          encrypted: false,
        },
      ],
      otherTunnels: [],
      csrs: [],
    },
    usb: {
      usbguardInstalled: true,
      daemonConf: settings("/etc/usbguard/usbguard-daemon.conf", {
        RuleFile: "/etc/usbguard/rules.conf",
        ImplicitPolicyTarget: "block",
        PresentDevicePolicy: "apply-policy",
        InsertedDevicePolicy: "apply-policy",
        AuditBackend: "LinuxAudit",
      }),
      rules: [
        {
          target: "allow",
          canonical: "allow id 0c4b:0501 with-interface 0b:00:00",
          ids: ["0c4b:0501"],
          withInterface: { operator: "equals", values: ["0b:00:00"] },
          hasSerial: false,
          hasHash: false,
          source: "/etc/usbguard/rules.conf:1",
        },
        {
          target: "allow",
          canonical: "allow id 080b:0010",
          ids: ["080b:0010"],
          withInterface: null,
          hasSerial: false,
          hasHash: false,
          source: "/etc/usbguard/rules.conf:2",
        },
        {
          target: "allow",
          canonical: "allow id 080b:0002",
          ids: ["080b:0002"],
          withInterface: null,
          hasSerial: false,
          hasHash: false,
          source: "/etc/usbguard/rules.conf:3",
        },
        {
          target: "allow",
          canonical: "allow id 2133:0001",
          ids: ["2133:0001"],
          withInterface: null,
          hasSerial: false,
          hasHash: false,
          source: "/etc/usbguard/rules.conf:4",
        },
        {
          target: "reject",
          canonical: "reject with-interface all-of { 08:*:* 03:00:* }",
          ids: [],
          withInterface: { operator: "all-of", values: ["08:*:*", "03:00:*"] },
          hasSerial: false,
          hasHash: false,
          source: "/etc/usbguard/rules.conf:5",
        },
      ],
      ruleErrors: [],
      modprobeBlocked: ["usb_storage", "uas"],
      attached: unavailable(),
    },
    apps: {
      packages: hardenedPackages,
      desktopEntries: [
        {
          path: "/usr/share/applications/firefox-esr.desktop",
          name: "Firefox ESR",
          exec: "/usr/lib/firefox-esr/firefox-esr %u",
          noDisplay: false,
          hidden: false,
          package: "firefox-esr",
        },
        {
          path: "/usr/share/applications/libreoffice-writer.desktop",
          name: "LibreOffice Writer",
          exec: "libreoffice --writer %U",
          noDisplay: false,
          hidden: false,
          package: "libreoffice-writer",
        },
        {
          path: "/usr/share/applications/cups.desktop",
          name: "Drucker",
          exec: null,
          noDisplay: true,
          hidden: false,
          package: "cups",
        },
      ],
      aptSources: [
        {
          types: ["deb"],
          uris: ["http://deb.debian.org/debian"],
          suites: ["bookworm", "bookworm-updates"],
          components: ["main"],
          trusted: false,
          signedBy: "/usr/share/keyrings/debian-archive-keyring.gpg",
          source: "/etc/apt/sources.list.d/debian.sources:1",
        },
        {
          types: ["deb"],
          uris: ["http://security.debian.org/debian-security"],
          suites: ["bookworm-security"],
          components: ["main"],
          trusted: false,
          signedBy: "/usr/share/keyrings/debian-archive-keyring.gpg",
          source: "/etc/apt/sources.list.d/debian.sources:7",
        },
      ],
      apparmor: { kernelEnabled: unavailable(), profilesEnforced: unavailable() },
      caCertificatesConf: null,
      browserPolicies: [],
    },
    services: {
      unitFiles: {
        "nftables.service": "enabled",
        "usbguard.service": "enabled",
        "auditd.service": "enabled",
        "apparmor.service": "enabled",
        "systemd-timesyncd.service": "enabled",
        "pcscd.socket": "enabled",
        "strongswan.service": "enabled",
        "apt-daily.timer": "enabled",
        "apt-daily-upgrade.timer": "enabled",
        "unattended-upgrades.service": "enabled",
        "bluetooth.service": "masked",
        "hibernate.target": "masked",
        "hybrid-sleep.target": "masked",
        "suspend-then-hibernate.target": "masked",
        "ssh.service": "not-found",
        "cups-browsed.service": "not-found",
        "tmp.mount": "disabled",
      },
      active: unavailable(),
    },
    accounts: {
      passwd: [
        { name: "root", uid: 0, gid: 0, home: "/root", shell: "/bin/bash" },
        { name: "daemon", uid: 1, gid: 1, home: "/usr/sbin", shell: "/usr/sbin/nologin" },
        { name: "kisa-admin", uid: 1000, gid: 1000, home: "/home/kisa-admin", shell: "/bin/bash" },
        {
          name: "buergerbuero",
          uid: 1001,
          gid: 1001,
          home: "/home/buergerbuero",
          shell: "/bin/bash",
        },
        {
          name: "nobody",
          uid: 65534,
          gid: 65534,
          home: "/nonexistent",
          shell: "/usr/sbin/nologin",
        },
      ],
      shadow: [
        { name: "root", locked: true, empty: false, scheme: null },
        { name: "kisa-admin", locked: false, empty: false, scheme: "yescrypt" },
        { name: "buergerbuero", locked: false, empty: false, scheme: "yescrypt" },
      ],
      groups: [
        { name: "root", gid: 0, members: [] },
        { name: "sudo", gid: 27, members: ["kisa-admin"] },
        { name: "adm", gid: 4, members: [] },
        { name: "kisa-admin", gid: 1000, members: [] },
        { name: "buergerbuero", gid: 1001, members: [] },
      ],
      sudoRules: [
        { who: "root", spec: "ALL=(ALL:ALL) ALL", source: "/etc/sudoers:20" },
        { who: "%sudo", spec: "ALL=(ALL:ALL) ALL", source: "/etc/sudoers:23" },
      ],
      sudoDefaults: [
        { value: "Defaults use_pty", source: "/etc/sudoers:10" },
        { value: 'Defaults logfile="/var/log/sudo.log"', source: "/etc/sudoers.d/koffer:1" },
      ],
      loginDefs: settings("/etc/login.defs", {
        ENCRYPT_METHOD: "YESCRYPT",
        PASS_MAX_DAYS: "99999",
      }),
      pwquality: settings("/etc/security/pwquality.conf", { minlen: "12", dictcheck: "1" }),
      faillock: settings("/etc/security/faillock.conf", { deny: "5", unlock_time: "900" }),
      pamModules: {
        "common-auth": ["pam_faillock.so", "pam_unix.so", "pam_deny.so", "pam_permit.so"],
      },
      autologin: [],
      dconf: {
        profileUserHasSystemDb: true,
        keys: settings("/etc/dconf/db/local.d/00-koffer", {
          "org/gnome/desktop/session/idle-delay": "uint32 300",
          "org/gnome/desktop/screensaver/lock-enabled": "true",
          "org/gnome/desktop/screensaver/lock-delay": "uint32 0",
          "org/gnome/desktop/media-handling/automount": "false",
          "org/gnome/desktop/media-handling/automount-open": "false",
        }),
        locks: [
          "/org/gnome/desktop/session/idle-delay",
          "/org/gnome/desktop/screensaver/lock-enabled",
          "/org/gnome/desktop/screensaver/lock-delay",
          "/org/gnome/desktop/media-handling/automount",
        ],
      },
    },
    network: {
      nftables: {
        chains: [
          {
            family: "inet",
            table: "koffer",
            name: "input",
            hook: "input",
            policy: "drop",
            rules: [
              "ct state established,related accept",
              'iif "lo" accept',
              "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert } accept",
            ],
          },
          {
            family: "inet",
            table: "koffer",
            name: "output",
            hook: "output",
            policy: "drop",
            rules: [
              'oif "lo" accept',
              "udp dport { 500, 4500 } accept",
              "udp dport 67 accept",
              "rt ipsec exists accept",
            ],
          },
          {
            family: "inet",
            table: "koffer",
            name: "forward",
            hook: "forward",
            policy: "drop",
            rules: [],
          },
        ],
        source: "/etc/nftables.conf",
        parseErrors: [],
      },
      listeners: unavailable(),
      sshd: {},
      resolvConf: {
        nameservers: ["10.20.0.53"],
        source: "/etc/resolv.conf",
        vpnPushed: ["10.20.0.53"],
      },
      resolved: {},
      networkManager: [],
      rfkill: unavailable(),
    },
    updates: {
      osRelease: {
        ID: "debian",
        VERSION_ID: "12",
        VERSION_CODENAME: "bookworm",
        PRETTY_NAME: "Debian GNU/Linux 12 (bookworm)",
      },
      aptConf: settings("/etc/apt/apt.conf.d/20auto-upgrades", {
        "APT::Periodic::Update-Package-Lists": "1",
        "APT::Periodic::Unattended-Upgrade": "1",
      }),
      unattendedUpgradesOrigins: [
        "origin=Debian,codename=${distro_codename},label=Debian-Security",
      ],
      fwupd: unavailable(),
    },
    logging: {
      auditRules: [
        "-w /etc/passwd -p wa -k identity",
        "-w /etc/shadow -p wa -k identity",
        "-w /etc/group -p wa -k identity",
        "-w /etc/sudoers -p wa -k sudoers",
        "-w /etc/sudoers.d -p wa -k sudoers",
        "-w /etc/usbguard -p wa -k usbguard",
        "-w /etc/nftables.conf -p wa -k firewall",
        "-w /etc/swanctl -p wa -k vpn",
        "-a always,exit -F arch=b64 -S settimeofday,clock_settime -k time-change",
        "-a always,exit -F arch=b64 -S init_module,finit_module -k modules",
        "-a always,exit -F arch=b64 -S execve -F euid=0 -F auid>=1000 -F auid!=unset -k privileged",
      ].map((rule, i) => ({ rule, source: `/etc/audit/rules.d/koffer.rules:${i + 1}` })),
      journald: settings("/etc/systemd/journald.conf.d/koffer.conf", {
        Storage: "persistent",
        SystemMaxUse: "500M",
      }),
      journalDir: { path: "/var/log/journal", mode: 0o2755, uid: 0, gid: 101 },
      timesyncd: settings("/etc/systemd/timesyncd.conf.d/koffer.conf", { NTP: "10.20.0.1" }),
      chrony: null,
      timeSynchronized: unavailable(),
      rsyslogForwarding: [],
    },
    data: {
      sysctl: settings("/etc/sysctl.d/90-koffer.conf", {
        "kernel.sysrq": "0",
        "fs.suid_dumpable": "0",
        "net.ipv6.conf.all.disable_ipv6": "0",
      }),
      sysctlLive: unavailable(),
      coredump: settings("/etc/systemd/coredump.conf.d/koffer.conf", {
        Storage: "none",
        ProcessSizeMax: "0",
      }),
      coreLimits: [
        { domain: "*", type: "hard", value: "0", source: "/etc/security/limits.d/koffer.conf:1" },
      ],
      cupsd: settings("/etc/cups/cupsd.conf", {
        PreserveJobFiles: "No",
        PreserveJobHistory: "No",
        Browsing: "No",
      }),
      cupsdListen: ["localhost:631", "/run/cups/cups.sock"],
      captureFiles: [],
      mounts: unavailable(),
    },
    gatherErrors: [],
  };
  return merge(facts, overrides);
}

/** Replace one package list entry's status or add/remove packages (weak variants). */
export function withPackages(facts: Facts, add: string[], remove: string[] = []): Facts {
  const packages = facts.apps.packages.filter((p) => !remove.includes(p.name));
  for (const name of add) if (!packages.some((p) => p.name === name)) packages.push(pkg(name));
  return { ...facts, apps: { ...facts.apps, packages } };
}

/** No TPM2 token yet, the first-boot enrolment installed (as provision leaves an image). */
export const firstBootInstalled: FirstBootEnrolFacts = {
  script: "/usr/lib/koffer/tpm2-enrol",
  unit: "/etc/systemd/system/koffer-tpm2-enrol.service",
  volumes: [
    {
      name: "cryptroot",
      device: `/dev/disk/by-uuid/${rootUuid}`,
      pcrs: [7],
      source: "/etc/koffer/tpm2-enrol.conf:3",
    },
  ],
  done: null,
  failure: null,
};

/**
 * The hardened facts as an offline image leaves them: the root volume without its TPM2 token
 * (its keyslot is the technician's passphrase until first boot), the first-boot enrolment
 * installed (`fb` overrides parts of it) and its unit in state `unit`.
 */
export function firstBootFacts(fb: Partial<FirstBootEnrolFacts>, unit = "enabled"): Facts {
  const v = hardenedVolume();
  const facts = hardenedFacts({ disk: { volumes: [{ ...v, tokens: [v.tokens[0]!] }] } });
  facts.disk.firstBootEnrol = { ...firstBootInstalled, ...fb };
  facts.services.unitFiles["koffer-tpm2-enrol.service"] = unit as "enabled";
  return facts;
}
