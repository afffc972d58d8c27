/**
 * The built-in profile `koffer:baseline`: the catalogue's defaults (CONTROLS.md) for
 * everything a municipality does not have to decide itself. A municipal profile
 * extends it and adds what the baseline cannot know: metadata, VPN gateway and CA,
 * escrow certificate, devices, accounts.
 */
import type { ProfileSpec } from "./types.js";

/** The name under which profiles extend the baseline. */
export const baselineName = "koffer:baseline";

/** The baseline as a profile document (no metadata: a profile's metadata is its own). */
export interface BaselineDocument {
  apiVersion: "koffer/v1";
  kind: "Profile";
  spec: ProfileSpec;
}

/** Remote-access servers, remote-desktop tools, insecure VPNs and compilers (NET-02, APP-02, VPN-01). */
const deniedPackages = [
  "openssh-server",
  "telnetd",
  "inetutils-telnetd",
  "rsh-server",
  "x11vnc",
  "tigervnc-standalone-server",
  "tightvncserver",
  "xrdp",
  "anydesk",
  "teamviewer",
  "rustdesk",
  "samba",
  "avahi-daemon",
  "wireguard",
  "wireguard-tools",
  "pptp-linux",
  "network-manager-pptp",
  "gcc",
  "g++",
  "clang",
  "build-essential",
];

/** Built-in `koffer:baseline`. Frozen: callers get copies from the loader. */
export const baseline: BaselineDocument = deepFreeze({
  apiVersion: "koffer/v1",
  kind: "Profile",
  spec: {
    platform: "debian-12",
    disk: {
      encryption: "luks2",
      cipher: "aes-xts-plain64",
      keyBits: 512,
      pbkdf: "argon2id",
      unlock: "tpm2+pin",
      tpm2Pcrs: [7],
      swap: "encrypted",
      hibernation: false,
    },
    boot: { secureBoot: true },
    vpn: {
      type: "ipsec",
      // TR-02102-3: AES-GCM with 128-bit ICV, SHA-384 PRF, NIST P-384; PFS in the CHILD_SA.
      proposals: { ike: ["aes256gcm16-prfsha384-ecp384"], esp: ["aes256gcm16-ecp384"] },
      remoteNetworks: ["0.0.0.0/0", "::/0"],
      alwaysOn: true,
      killSwitch: true,
      certificate: {
        subject: "CN={hostname}",
        key: "ecdsa-p384",
        validityDays: 365,
        renewBeforeDays: 30,
      },
    },
    devices: { default: "block", allow: [], blockMassStorage: true },
    apps: { allow: [], deny: deniedPackages, desktopApps: "strict" },
    accounts: { admins: [], users: [], autologin: false, screenLockSeconds: 300 },
    network: { inboundDefault: "deny", ssh: false, bluetooth: false },
    updates: { unattended: true },
    logging: { auditd: true, persistentJournal: true, timeSync: true },
    data: { tmpOnTmpfs: true, coreDumps: false, printJobRetention: false },
    attestations: [],
  },
});

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object") {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
