/**
 * A hardened Bürgerkoffer laptop as files: a root tree (buildRoot) with a real config file
 * for every automatable control, a LUKS2 image made with the real cryptsetup, the VPN
 * client certificate issued by the example test CA through src/pki, and the municipality
 * profile (YAML, with its certificates) that attests the controls a machine cannot show.
 * `koffer verify --root ROOT --disk DISK --profile PROFILE` judges it exactly as it would
 * judge a golden image.
 *
 * Weak variants change one thing each (see {@link LaptopOptions}). The hardened base is
 * built once per test process and copied (`cp -a`) per variant; LUKS images are cached by
 * their shape in `$TMPDIR/run-cache-laptop/` (the run's own TMPDIR, removed at its end by
 * test/setup/tmp-guard.ts) and shared read-only.
 */
import { execa } from "execa";
import { createHash, generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import {
  appendFile,
  chmod,
  copyFile,
  cp,
  mkdir,
  readFile,
  rename,
  rm,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  certificateFromPem,
  issueCertificate,
  readPrivateKey,
  TR02102_SIGNATURE_HORIZON,
} from "../../src/pki/build.js";
import { escrowRecoveryKey } from "../../src/pki/escrow.js";
import { installCertificate, requestCertificate, signRequest } from "../../src/pki/lifecycle.js";
import { readPkcs12 } from "../../src/pki/pkcs12.js";
import { makeLuksImage, tokenJson, type LuksImageOptions } from "./luks.js";
import { buildRoot, type DpkgPackage } from "./root-tree.js";
import { tempDir } from "./tmp.js";

/** One weakening each; all off = the hardened laptop. */
export interface LaptopOptions {
  /** LUKS1 header instead of LUKS2 (LUKS1 has no tokens: no TPM2 or recovery token). */
  luks1?: boolean;
  /** The recovery (passphrase) keyslot derives its key with PBKDF2. */
  pbkdf2?: boolean;
  /** AES-XTS with a 256-bit key (AES-128) instead of 512. */
  xts256?: boolean;
  /** A second account `mallory` in the sudo group. */
  extraSudoUser?: boolean;
  /** openssh-server installed, ssh.service enabled, PasswordAuthentication yes. */
  sshdWithPasswords?: boolean;
  /** usbguard not installed: no package, no unit, no configuration. */
  usbguardMissing?: boolean;
  /** rules.conf additionally allows every mass-storage interface. */
  usbguardAllowsMassStorage?: boolean;
  /** The VPN client certificate is RSA-2048, expired, issued by a foreign CA. */
  expiredForeignRsa2048Cert?: boolean;
  /** WireGuard (wireguard-tools, /etc/wireguard/wg0.conf) instead of strongSwan. */
  wireguard?: boolean;
  /** systemd-coredump stores core dumps, no core limit. */
  coreDumps?: boolean;
  /** No tmpfs for /tmp: it lives on the root file system. */
  tmpOnDisk?: boolean;
  /** gdm3 logs the citizen-office account in automatically. */
  autologin?: boolean;
  /** The tunnel carries only 10.0.0.0/8 (split tunnel): the rest, IPv6 included, goes around it. */
  splitTunnel?: boolean;
}

export interface Laptop {
  /** The root tree (`--root`). */
  root: string;
  /** The LUKS image of the root volume (`--disk`); shared and read-only. */
  disk: string;
  /** The municipality profile (`--profile`), next to its certs/ directory. */
  profilePath: string;
  /** The directory holding root, profile and certificates (removed at process exit). */
  dir: string;
  /** UUID of the LUKS volume. */
  uuid: string;
}

export const laptopHostname = "koffer-07";
const repo = fileURLToPath(new URL("../../", import.meta.url));
const exampleCerts = join(repo, "examples", "certs");

let processBase: string | null = null;
function baseDir(): string {
  if (processBase === null) {
    // Removed after the test file (test/setup/remove-temp-dirs.ts): an "exit" handler never
    // ran when vitest ended its worker, and every run left a tree behind.
    processBase = tempDir("laptops");
  }
  return processBase;
}

/** The Debian packages of the hardened laptop: exactly the approved set and what it needs. */
export const laptopPackages: readonly string[] = [
  "base-files",
  "systemd",
  "sudo",
  "apparmor",
  "auditd",
  "nftables",
  "usbguard",
  "strongswan-swanctl",
  "charon-systemd",
  "libstrongswan",
  "libstrongswan-standard-plugins",
  "unattended-upgrades",
  "pcscd",
  "libifd-cyberjack6",
  "firefox-esr",
  "libreoffice-writer",
  "cups",
  "cups-daemon",
  "systemd-timesyncd",
  "systemd-coredump",
  "cryptsetup",
  "tpm2-tools",
  "ca-certificates",
];

const desktopOwners: Record<string, string> = {
  "firefox-esr": "/usr/share/applications/firefox-esr.desktop",
  "libreoffice-writer": "/usr/share/applications/libreoffice-writer.desktop",
  cups: "/usr/share/applications/cups.desktop",
};

/** strongSwan's plugins as Debian 12 splits them (VPN-01 asks for gcm/openssl and hmac). */
const strongswanPlugins: Record<string, string[]> = {
  libstrongswan: ["aes", "gmp", "hmac", "sha2", "x509", "pem", "pkcs1", "pkcs8"],
  "libstrongswan-standard-plugins": ["openssl", "gcm"],
};
const pluginFile = (plugin: string) => `/usr/lib/ipsec/plugins/libstrongswan-${plugin}.so`;

/** usbguard rules.conf in the canonical form usbguard 1.1.2 prints. */
export const laptopUsbRules = [
  "allow id 0c4b:0501 with-interface 0b:00:00",
  "allow id 080b:0010",
  "allow id 080b:0002",
  "allow id 2133:0001",
  "reject with-interface all-of { 08:*:* 03:00:* }",
];

const files: Record<string, string> = {
  "/etc/hostname": `${laptopHostname}\n`,
  "/etc/machine-id": "0123456789abcdef0123456789abcdef\n",
  "/etc/os-release":
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n',
  // Disk: root on the LUKS2 mapping, swap on a dm-crypt mapping with a fresh random key per boot.
  "/etc/fstab": [
    "# <file system> <mount point> <type> <options> <dump> <pass>",
    "/dev/mapper/cryptroot / ext4 errors=remount-ro 0 1",
    "UUID=1234-ABCD /boot/efi vfat umask=0077 0 1",
    "tmpfs /tmp tmpfs nosuid,nodev,noexec,mode=1777 0 0",
    "tmpfs /var/tmp tmpfs nosuid,nodev,noexec,mode=1777 0 0",
    "/dev/mapper/cryptroot /home none bind,nosuid,nodev,noexec 0 0",
    "/dev/mapper/cryptswap none swap sw 0 0",
    "",
  ].join("\n"),
  "/etc/systemd/sleep.conf.d/koffer.conf":
    "[Sleep]\nAllowHibernation=no\nAllowHybridSleep=no\nAllowSuspendThenHibernate=no\n",
  "/etc/default/grub":
    'GRUB_DEFAULT=0\nGRUB_TIMEOUT=0\nGRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`\nGRUB_CMDLINE_LINUX_DEFAULT="quiet"\nGRUB_CMDLINE_LINUX="intel_iommu=on iommu=force"\n',
  // VPN: IKEv2 with TR-02102-3 proposals, full tunnel, gateway pinned to the municipality CA.
  "/etc/swanctl/swanctl.conf": "include conf.d/*.conf\n",
  "/etc/swanctl/conf.d/koffer.conf": `connections {
  rathaus {
    version = 2
    remote_addrs = vpn.meerane.example
    proposals = aes256gcm16-prfsha384-ecp384
    vips = 0.0.0.0,::
    local {
      auth = pubkey
      certs = ${laptopHostname}.pem
      id = "CN=${laptopHostname}, OU=Buergerkoffer, O=Stadt Meerane, C=DE"
    }
    remote {
      auth = pubkey
      id = "CN=vpn.meerane.example, O=Stadt Meerane, C=DE"
      cacerts = meerane-vpn-ca.pem
    }
    children {
      all {
        local_ts = dynamic
        remote_ts = 0.0.0.0/0,::/0
        esp_proposals = aes256gcm16-ecp384
        start_action = trap
        dpd_action = restart
        mode = tunnel
      }
    }
  }
}
`,
  // USB: USBGuard with the profile's devices only.
  "/etc/usbguard/usbguard-daemon.conf":
    "RuleFile=/etc/usbguard/rules.conf\nImplicitPolicyTarget=block\nPresentDevicePolicy=apply-policy\nPresentControllerPolicy=keep\nInsertedDevicePolicy=apply-policy\nAuthorizedDefault=none\nRestoreControllerDeviceState=false\nDeviceManagerBackend=uevent\nIPCAllowedUsers=root\nIPCAllowedGroups=\nDeviceRulesWithPort=false\nAuditBackend=LinuxAudit\n",
  "/etc/modprobe.d/koffer-usb-storage.conf":
    "# USB-02: no USB mass storage\nblacklist usb_storage\ninstall usb_storage /bin/false\nblacklist uas\ninstall uas /bin/false\n",
  // Apps: signed Debian sources only.
  "/etc/apt/sources.list.d/debian.sources": [
    "Types: deb",
    "URIs: http://deb.debian.org/debian",
    "Suites: bookworm bookworm-updates",
    "Components: main",
    "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg",
    "",
    "Types: deb",
    "URIs: http://security.debian.org/debian-security",
    "Suites: bookworm-security",
    "Components: main",
    "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg",
    "",
  ].join("\n"),
  "/usr/share/applications/firefox-esr.desktop":
    "[Desktop Entry]\nName=Firefox ESR\nExec=/usr/lib/firefox-esr/firefox-esr %u\nType=Application\n",
  "/usr/share/applications/libreoffice-writer.desktop":
    "[Desktop Entry]\nName=LibreOffice Writer\nExec=libreoffice --writer %U\nType=Application\n",
  "/usr/share/applications/cups.desktop":
    "[Desktop Entry]\nName=Drucker\nNoDisplay=true\nType=Application\n",
  // Accounts.
  "/etc/passwd": [
    "root:x:0:0:root:/root:/bin/bash",
    "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin",
    "kisa-admin:x:1000:1000:KISA Administration:/home/kisa-admin:/bin/bash",
    "buergerbuero:x:1001:1001:Buergerbuero:/home/buergerbuero:/bin/bash",
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin",
    "",
  ].join("\n"),
  "/etc/group": [
    "root:x:0:",
    "daemon:x:1:",
    "adm:x:4:",
    "sudo:x:27:kisa-admin",
    "kisa-admin:x:1000:",
    "buergerbuero:x:1001:",
    "nogroup:x:65534:",
    "",
  ].join("\n"),
  "/etc/sudoers":
    'Defaults\tuse_pty\nDefaults\tsecure_path="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"\nroot\tALL=(ALL:ALL) ALL\n%sudo\tALL=(ALL:ALL) ALL\n@includedir /etc/sudoers.d\n',
  "/etc/sudoers.d/koffer": 'Defaults logfile="/var/log/sudo.log"\n',
  "/etc/login.defs": "ENCRYPT_METHOD YESCRYPT\nPASS_MAX_DAYS 99999\nUMASK 027\n",
  "/etc/security/pwquality.conf": "minlen = 12\ndictcheck = 1\n",
  "/etc/security/faillock.conf": "deny = 5\nunlock_time = 900\n",
  "/etc/pam.d/common-auth":
    "auth required pam_faillock.so preauth\nauth [success=1 default=ignore] pam_unix.so\nauth [default=die] pam_faillock.so authfail\nauth requisite pam_deny.so\nauth required pam_permit.so\n",
  "/etc/gdm3/daemon.conf": "[daemon]\nAutomaticLoginEnable = false\n\n[security]\n",
  // systemd's console getty (Debian 12, shortened): the unit every getty@ttyN instance loads.
  "/lib/systemd/system/getty@.service": [
    "[Unit]",
    "Description=Getty on %I",
    "",
    "[Service]",
    "ExecStart=-/sbin/agetty -o '-p -- \\\\u' --noclear - $TERM",
    "Type=idle",
    "Restart=always",
    "",
    "[Install]",
    "WantedBy=getty.target",
    "",
  ].join("\n"),
  "/etc/dconf/profile/user": "user-db:user\nsystem-db:local\n",
  "/etc/dconf/db/local.d/00-koffer": [
    "[org/gnome/desktop/session]",
    "idle-delay=uint32 300",
    "",
    "[org/gnome/desktop/screensaver]",
    "lock-enabled=true",
    "lock-delay=uint32 0",
    "",
    "[org/gnome/desktop/media-handling]",
    "automount=false",
    "automount-open=false",
    "",
  ].join("\n"),
  "/etc/dconf/db/local.d/locks/koffer": [
    "/org/gnome/desktop/session/idle-delay",
    "/org/gnome/desktop/screensaver/lock-enabled",
    "/org/gnome/desktop/screensaver/lock-delay",
    "/org/gnome/desktop/media-handling/automount",
    "/org/gnome/desktop/media-handling/automount-open",
    "",
  ].join("\n"),
  // Network: inbound and outbound drop; only IKE and ESP (and DHCP) leave outside the tunnel.
  "/etc/nftables.conf": `#!/usr/sbin/nft -f
flush ruleset

table inet koffer {
  chain input {
    type filter hook input priority filter; policy drop;
    ct state established,related accept
    iif "lo" accept
    icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert } accept
  }
  chain output {
    type filter hook output priority filter; policy drop;
    oif "lo" accept
    udp dport { 500, 4500 } accept
    udp dport 67 accept
    rt ipsec exists accept
  }
  chain forward {
    type filter hook forward priority filter; policy drop;
  }
}
`,
  // Assigned by the gateway: strongSwan's resolve plugin marks its lines.
  "/etc/resolv.conf": "nameserver 10.20.0.53   # by strongSwan\n",
  // Updates.
  "/etc/apt/apt.conf.d/20auto-upgrades":
    'APT::Periodic::Update-Package-Lists "1";\nAPT::Periodic::Unattended-Upgrade "1";\n',
  "/etc/apt/apt.conf.d/50unattended-upgrades":
    'Unattended-Upgrade::Origins-Pattern {\n        "origin=Debian,codename=${distro_codename},label=Debian-Security";\n};\n',
  // Logging and time.
  "/etc/audit/rules.d/koffer.rules": [
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
    "",
  ].join("\n"),
  "/etc/systemd/journald.conf.d/koffer.conf": "[Journal]\nStorage=persistent\nSystemMaxUse=500M\n",
  "/etc/systemd/timesyncd.conf.d/koffer.conf": "[Time]\nNTP=10.20.0.1\n",
  // Data.
  "/etc/sysctl.d/90-koffer.conf": "kernel.sysrq = 0\nfs.suid_dumpable = 0\n",
  "/etc/systemd/coredump.conf.d/koffer.conf": "[Coredump]\nStorage=none\nProcessSizeMax=0\n",
  "/etc/security/limits.d/koffer.conf": "* hard core 0\n",
  "/etc/cups/cupsd.conf": [
    "LogLevel warn",
    "PreserveJobFiles No",
    "PreserveJobHistory No",
    "Listen localhost:631",
    "Listen /run/cups/cups.sock",
    "Browsing No",
    "DefaultAuthType Basic",
    "<Location />",
    "  Order allow,deny",
    "</Location>",
    "",
  ].join("\n"),
};

const enabled = [
  "nftables.service",
  "usbguard.service",
  "auditd.service",
  "apparmor.service",
  "systemd-timesyncd.service",
  "pcscd.socket",
  "strongswan.service",
  "apt-daily.timer",
  "apt-daily-upgrade.timer",
  "unattended-upgrades.service",
];
const masked = [
  "bluetooth.service",
  "hibernate.target",
  "hybrid-sleep.target",
  "suspend-then-hibernate.target",
];

/** The profile the laptop is judged against: Meerane-like, every attest control attested. */
export function laptopProfileYaml(): string {
  const attest = (control: string, statement: string) =>
    `    - control: ${control}\n      by: Erika Mustermann (KISA)\n      date: 2026-01-15\n      statement: ${statement}\n`;
  return `apiVersion: koffer/v1
kind: Profile
metadata:
  name: meerane
  title: Mobiler Bürgerkoffer – Stadt Meerane
  controller: Stadt Meerane
  processor: KISA
  dataProtectionOfficer:
    name: Datenschutzbeauftragte(r) Stadt Meerane
    email: datenschutz@meerane.example
  processingRecords:
    - { id: VVT-07, title: Pass- und Personalausweiswesen }
    - { id: VVT-08, title: Meldewesen }
  protectionNeeds: { confidentiality: high, integrity: high, availability: normal }
extends: [koffer:baseline]
spec:
  disk:
    recovery: { escrowCertificate: certs/test-escrow.pem }
  vpn:
    gateway: vpn.meerane.example
    gatewayId: "CN=vpn.meerane.example, O=Stadt Meerane, C=DE"
    caCertificate: certs/test-vpn-ca.pem
    certificate:
      subject: "CN={hostname}, OU=Buergerkoffer, O=Stadt Meerane, C=DE"
  devices:
    allow:
      - name: REINER SCT cyberJack RFID komfort
        role: eid-reader
        usb: "0c4b:0501"
        packages: [pcscd, libifd-cyberjack6]
        services: [pcscd.socket]
      - name: Cross Match fingerprint scanner
        role: fingerprint-scanner
        usb: ["080b:0010", "080b:0002"]
        certified: true
      - name: signotec Sigma
        role: signature-pad
        usb: "2133:0001"
  apps:
    allow: [firefox-esr, libreoffice-writer, cups]
  accounts:
    admins: [kisa-admin]
    users: [buergerbuero]
  logging:
    ntpServers: ["10.20.0.1"]
  attestations:
${attest("BOOT-01", "Secure Boot im Firmware-Setup aktiviert (Abbild ohne laufende Firmware).")}${attest("BOOT-03", "Firmware-Passwort gesetzt, Booten nur von der internen SSD.")}${attest("APP-04", "AppArmor und Positivliste ersetzen einen Virenscanner.")}${attest("ACC-06", "Persönliche Konten, kein Sammelkonto.")}${attest("DATA-05", "Aussonderung nach KISA-Verfahren.")}${attest("DATA-06", "Blickschutzfilter und Kabelschloss im Koffer.")}`;
}

interface Base {
  dir: string;
  root: string;
  profilePath: string;
}

let basePromise: Promise<Base> | null = null;

/** The recovery slot 0 gets the systemd-recovery token, as systemd-cryptenroll --recovery-key does. */
async function laptopImage(o: LaptopOptions): Promise<{ path: string; uuid: string }> {
  const shape: LuksImageOptions = o.luks1
    ? { version: 1 }
    : {
        version: 2,
        keyBits: o.xts256 ? 256 : 512,
        pbkdf: o.pbkdf2 ? "pbkdf2" : "argon2id",
        extraKeyslots: [{ pbkdf: "pbkdf2", token: { type: "systemd-tpm2", pin: true, pcrs: [7] } }],
      };
  const hash = createHash("sha256")
    .update(JSON.stringify({ laptop: 1, shape }))
    .digest("hex")
    .slice(0, 16);
  const cacheDir = join(tmpdir(), "run-cache-laptop");
  await mkdir(cacheDir, { recursive: true });
  const path = join(cacheDir, `${hash}.img`);
  const made = await makeLuksImage(shape);
  if (!existsSync(path)) {
    const temp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    try {
      await copyFile(made.path, temp);
      if (!o.luks1)
        await execa("cryptsetup", ["token", "import", temp], {
          input: JSON.stringify(tokenJson({ type: "systemd-recovery" }, "0")),
          env: { LC_ALL: "C" },
        });
      await rename(temp, path);
    } finally {
      await rm(temp, { force: true });
    }
  }
  return { path, uuid: made.uuid };
}

async function writeAt(root: string, path: string, content: string | Buffer, mode = 0o644) {
  const host = join(root, path);
  await mkdir(dirname(host), { recursive: true });
  await writeFile(host, content);
  await chmod(host, mode);
}

async function buildBase(): Promise<Base> {
  const dir = join(baseDir(), "base");
  await mkdir(join(dir, "certs"), { recursive: true });
  for (const name of ["test-vpn-ca.pem", "test-escrow.pem"])
    await copyFile(join(exampleCerts, name), join(dir, "certs", name));
  const profilePath = join(dir, "profile.yaml");
  await writeFile(profilePath, laptopProfileYaml());

  const ownedFiles = (name: string): string[] | undefined => {
    if (desktopOwners[name] !== undefined) return ["/.", "/usr", desktopOwners[name]];
    const plugins = strongswanPlugins[name];
    return plugins === undefined ? undefined : ["/.", "/usr", ...plugins.map(pluginFile)];
  };
  const packages: DpkgPackage[] = laptopPackages.map((name) => ({
    name,
    version: "1.0-1",
    files: ownedFiles(name),
  }));
  const built = await buildRoot({
    files: {
      ...files,
      ...Object.fromEntries(
        Object.values(strongswanPlugins)
          .flat()
          .map((plugin) => [pluginFile(plugin), "\x7fELF (koffer test plugin)\n"]),
      ),
      "/etc/usbguard/rules.conf": { content: `${laptopUsbRules.join("\n")}\n`, mode: 0o600 },
      "/etc/shadow": {
        content: [
          "root:!*:19700:0:99999:7:::",
          "daemon:*:19700:0:99999:7:::",
          `kisa-admin:$y$j9T$${"a".repeat(22)}$${"b".repeat(43)}:19700:0:99999:7:::`,
          `buergerbuero:$y$j9T$${"c".repeat(22)}$${"d".repeat(43)}:19700:0:99999:7:::`,
          "nobody:*:19700:0:99999:7:::",
          "",
        ].join("\n"),
        mode: 0o640,
      },
    },
    dirs: ["/var/log/journal", "/home/kisa-admin", "/home/buergerbuero"],
    packages,
    enable: enabled,
    mask: masked,
  });
  await chmod(join(built, "var/log/journal"), 0o2755);
  // buildRoot makes its roots in its own temporary directory; keep ours together.
  const root = join(dir, "root");
  await rename(built, root);
  // dconf reads only the compiled database: compile the keyfiles as `dconf update` does.
  await execa("dconf", [
    "compile",
    join(root, "etc/dconf/db/local"),
    join(root, "etc/dconf/db/local.d"),
  ]);

  // The VPN client credential: key (0600) and CSR by src/pki, signed by the example test CA.
  const ca = readPkcs12(
    await readFile(join(exampleCerts, "test-vpn-ca.p12")),
    (await readFile(join(exampleCerts, "test-vpn-ca.pass"), "utf8")).trim(),
  );
  const caPem = ca.certificates[0] as string;
  const request = await requestCertificate({
    root,
    name: laptopHostname,
    subjectTemplate: "CN={hostname}, OU=Buergerkoffer, O=Stadt Meerane, C=DE",
    hostname: laptopHostname,
    keyType: "ecdsa-p384",
  });
  const certPem = signRequest({
    csrPem: request.csrPem,
    caCertPem: caPem,
    caKey: ca.key,
    validityDays: 365,
  });
  await installCertificate({ root, name: laptopHostname, certPem, caCertPem: caPem });
  await rm(join(root, "etc/swanctl/x509req"), { recursive: true, force: true });
  await writeAt(root, "/etc/swanctl/x509ca/meerane-vpn-ca.pem", caPem);
  return { dir, root, profilePath };
}

/** Escrow record as provision writes it: the recovery key encrypted to the escrow certificate. */
async function writeEscrow(root: string, uuid: string, keyslot: string): Promise<void> {
  const certPem = await readFile(join(exampleCerts, "test-escrow.pem"), "utf8");
  const envelope = escrowRecoveryKey(randomBytes(32).toString("hex"), certPem);
  await writeAt(root, `/var/lib/koffer/escrow/${uuid}.cms`, envelope, 0o600);
  const record = {
    volumeUuid: uuid,
    keyslot,
    escrowCertificateSha256: createHash("sha256")
      .update(Buffer.from(certPem.replace(/-----[^-]+-----|\s+/g, ""), "base64"))
      .digest("hex"),
    createdAt: "2026-01-15T09:00:00.000Z",
    envelope: `${uuid}.cms`,
    format: "systemd-recovery (modhex, 8 groups of 8); CMS EnvelopedData",
  };
  await writeAt(
    root,
    `/var/lib/koffer/escrow/${uuid}.json`,
    `${JSON.stringify(record, null, 2)}\n`,
    0o600,
  );
}

async function systemctl(root: string, verb: string, units: string[]): Promise<void> {
  await execa("systemctl", [`--root=${root}`, verb, ...units], {
    env: { SYSTEMCTL_SKIP_SYSV: "1", LC_ALL: "C" },
  });
}

/** A unit file under /usr/lib/systemd/system, as a package would ship it. */
async function unitFile(root: string, name: string, body: string): Promise<void> {
  await writeAt(
    root,
    `/usr/lib/systemd/system/${name}`,
    `[Unit]\nDescription=${name} (koffer test)\n\n${body}\n[Install]\nWantedBy=multi-user.target\n`,
  );
}

async function setPackages(root: string, add: string[], remove: string[]): Promise<void> {
  const path = join(root, "var/lib/dpkg/status");
  const stanzas = (await readFile(path, "utf8"))
    .split(/\n\n+/)
    .filter((s) => s.trim() !== "")
    .filter((s) => !remove.includes(/^Package: (\S+)/m.exec(s)?.[1] ?? ""));
  for (const name of add)
    stanzas.push(
      `Package: ${name}\nStatus: install ok installed\nPriority: optional\nSection: misc\nInstalled-Size: 1\nMaintainer: koffer tests <tests@example.org>\nArchitecture: amd64\nVersion: 1.0-1\nDescription: ${name} (koffer test)`,
    );
  await writeFile(path, `${stanzas.map((s) => s.trim()).join("\n\n")}\n`);
}

/** An expired RSA-2048 client certificate issued by a CA that is not the municipality's. */
async function foreignExpiredCertificate(root: string): Promise<void> {
  const caKeys = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const day = 86_400_000;
  const caPem = issueCertificate({
    subject: "CN=Fremde VPN CA, O=Anderswo GmbH, C=DE",
    spki: new Uint8Array(caKeys.publicKey.export({ type: "spki", format: "der" })),
    issuerCert: null,
    issuerKey: caKeys.privateKey,
    notBefore: new Date(Date.now() - 800 * day),
    notAfter: TR02102_SIGNATURE_HORIZON,
    kind: "ca",
  });
  const client = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const certPem = issueCertificate({
    subject: `CN=${laptopHostname}, OU=Buergerkoffer, O=Stadt Meerane, C=DE`,
    spki: new Uint8Array(client.publicKey.export({ type: "spki", format: "der" })),
    issuerCert: certificateFromPem(caPem),
    issuerKey: caKeys.privateKey,
    notBefore: new Date(Date.now() - 400 * day),
    notAfter: new Date(Date.now() - day),
    kind: "client",
  });
  await rm(join(root, "etc/swanctl/private"), { recursive: true, force: true });
  await writeAt(
    root,
    `/etc/swanctl/private/${laptopHostname}.pem`,
    client.privateKey.export({ type: "pkcs8", format: "pem" }) as string,
    0o600,
  );
  await writeAt(root, `/etc/swanctl/x509/${laptopHostname}.pem`, certPem);
  // Sanity: the key really is RSA-2048 (a weak variant that is not weak tests nothing).
  const key = readPrivateKey(
    await readFile(join(root, "etc/swanctl/private", `${laptopHostname}.pem`), "utf8"),
  );
  if (key.asymmetricKeyDetails?.modulusLength !== 2048) throw new Error("not RSA-2048");
}

async function weaken(root: string, o: LaptopOptions): Promise<void> {
  if (o.extraSudoUser) {
    await appendFile(join(root, "etc/passwd"), "mallory:x:1002:1002::/home/mallory:/bin/bash\n");
    await appendFile(
      join(root, "etc/shadow"),
      `mallory:$y$j9T$${"e".repeat(22)}$${"f".repeat(43)}:19700:0:99999:7:::\n`,
    );
    const group = await readFile(join(root, "etc/group"), "utf8");
    await writeFile(
      join(root, "etc/group"),
      `${group.replace(/^sudo:x:27:kisa-admin$/m, "sudo:x:27:kisa-admin,mallory")}mallory:x:1002:\n`,
    );
  }
  if (o.sshdWithPasswords) {
    await setPackages(root, ["openssh-server"], []);
    await writeAt(
      root,
      "/etc/ssh/sshd_config",
      "Include /etc/ssh/sshd_config.d/*.conf\nKbdInteractiveAuthentication no\nUsePAM yes\nPasswordAuthentication yes\nX11Forwarding yes\nSubsystem sftp /usr/lib/openssh/sftp-server\n",
    );
    await unitFile(root, "ssh.service", "[Service]\nExecStart=/usr/sbin/sshd -D\n");
    await systemctl(root, "enable", ["ssh.service"]);
  }
  if (o.usbguardMissing) {
    await setPackages(root, [], ["usbguard"]);
    await systemctl(root, "disable", ["usbguard.service"]);
    await rm(join(root, "usr/lib/systemd/system/usbguard.service"), { force: true });
    await rm(join(root, "etc/usbguard"), { recursive: true, force: true });
  }
  if (o.usbguardAllowsMassStorage)
    await appendFile(join(root, "etc/usbguard/rules.conf"), "allow with-interface 08:*:*\n");
  if (o.expiredForeignRsa2048Cert) await foreignExpiredCertificate(root);
  if (o.wireguard) {
    await setPackages(root, ["wireguard-tools"], ["strongswan-swanctl", "charon-systemd"]);
    await systemctl(root, "disable", ["strongswan.service"]);
    await rm(join(root, "usr/lib/systemd/system/strongswan.service"), { force: true });
    await rm(join(root, "etc/swanctl"), { recursive: true, force: true });
    await writeAt(
      root,
      "/etc/wireguard/wg0.conf",
      `[Interface]\nAddress = 10.99.0.7/32\nPrivateKey = ${randomBytes(32).toString("base64")}\n\n[Peer]\nPublicKey = ${randomBytes(32).toString("base64")}\nEndpoint = vpn.meerane.example:51820\nAllowedIPs = 0.0.0.0/0, ::/0\n`,
      0o600,
    );
  }
  if (o.coreDumps) {
    await writeAt(
      root,
      "/etc/systemd/coredump.conf.d/koffer.conf",
      "[Coredump]\nStorage=external\nProcessSizeMax=2G\n",
    );
    await rm(join(root, "etc/security/limits.d/koffer.conf"), { force: true });
  }
  if (o.tmpOnDisk) {
    const fstab = await readFile(join(root, "etc/fstab"), "utf8");
    await writeFile(
      join(root, "etc/fstab"),
      fstab
        .split("\n")
        .filter((l) => !/^tmpfs\s+\/tmp\s/.test(l))
        .join("\n"),
    );
  }
  if (o.splitTunnel) {
    const path = join(root, "etc/swanctl/conf.d/koffer.conf");
    const conf = await readFile(path, "utf8");
    await writeFile(path, conf.replace("remote_ts = 0.0.0.0/0,::/0", "remote_ts = 10.0.0.0/8"));
  }
  if (o.autologin)
    await writeAt(
      root,
      "/etc/gdm3/daemon.conf",
      "[daemon]\nAutomaticLoginEnable = true\nAutomaticLogin = buergerbuero\n\n[security]\n",
    );
}

let counter = 0;

/** Build the hardened laptop, or one weakened by `opts`. Each call gets its own copy. */
export async function buildHardenedLaptop(opts: LaptopOptions = {}): Promise<Laptop> {
  basePromise ??= buildBase();
  const base = await basePromise;
  const image = await laptopImage(opts);
  const dir = join(baseDir(), `laptop-${++counter}`);
  await mkdir(dir, { recursive: true });
  await cp(join(base.dir, "certs"), join(dir, "certs"), { recursive: true });
  await copyFile(base.profilePath, join(dir, "profile.yaml"));
  // cp -a keeps modes, owners and the symlinks systemctl made, as on the laptop.
  await execa("cp", ["-a", base.root, join(dir, "root")]);
  const root = join(dir, "root");
  await writeAt(
    root,
    "/etc/crypttab",
    `# <target name> <source device> <key file> <options>\ncryptroot UUID=${image.uuid} none luks,discard,tpm2-device=auto\ncryptswap PARTUUID=5c1f2e4a-0b1d-4c8e-9f00-7d2a1b3c4e5f /dev/urandom swap,cipher=aes-xts-plain64,size=512\n`,
  );
  if (!opts.luks1) await writeEscrow(root, image.uuid, "0");
  await weaken(root, opts);
  return { root, disk: image.path, profilePath: join(dir, "profile.yaml"), dir, uuid: image.uuid };
}
