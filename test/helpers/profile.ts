/**
 * A complete, valid Profile literal (src/profiles/types.ts) with the baseline's values and
 * a Meerane-like municipality, for tests that judge facts without loading YAML.
 */
import type { Profile } from "../../src/profiles/types.js";

type DeepPartial<T> = T extends (infer U)[]
  ? U[]
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

/** Deep merge: objects merge, arrays and scalars replace. */
export function merge<T>(base: T, overrides: DeepPartial<T> | undefined): T {
  if (overrides === undefined) return base;
  if (Array.isArray(base) || typeof base !== "object" || base === null) return overrides as T;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(overrides as Record<string, unknown>)) {
    const current = out[key];
    out[key] =
      value !== null &&
      typeof value === "object" &&
      !Array.isArray(value) &&
      current !== null &&
      typeof current === "object" &&
      !Array.isArray(current)
        ? merge(current, value as never)
        : value;
  }
  return out as T;
}

/** The attest controls and BOOT-01 (offline image), attested by a named person. */
export const attestedControls = ["BOOT-01", "BOOT-03", "APP-04", "ACC-06", "DATA-05", "DATA-06"];

export function makeProfile(overrides?: DeepPartial<Profile>): Profile {
  const profile: Profile = {
    apiVersion: "koffer/v1",
    kind: "Profile",
    metadata: {
      name: "meerane",
      title: "Mobiler Bürgerkoffer – Stadt Meerane",
      controller: "Stadt Meerane",
      processor: "KISA",
      dataProtectionOfficer: {
        name: "Datenschutzbeauftragte(r) Stadt Meerane",
        email: "datenschutz@meerane.example",
      },
      processingRecords: [
        { id: "VVT-07", title: "Pass- und Personalausweiswesen" },
        { id: "VVT-08", title: "Meldewesen" },
      ],
      protectionNeeds: { confidentiality: "high", integrity: "high", availability: "normal" },
    },
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
        gateway: "vpn.meerane.example",
        gatewayId: "CN=vpn.meerane.example, O=Stadt Meerane, C=DE",
        proposals: { ike: ["aes256gcm16-prfsha384-ecp384"], esp: ["aes256gcm16-ecp384"] },
        remoteNetworks: ["0.0.0.0/0", "::/0"],
        alwaysOn: true,
        killSwitch: true,
        certificate: {
          subject: "CN={hostname}, OU=Buergerkoffer, O=Stadt Meerane, C=DE",
          key: "ecdsa-p384",
          validityDays: 365,
          renewBeforeDays: 30,
        },
      },
      devices: {
        default: "block",
        allow: [
          {
            name: "REINER SCT cyberJack RFID komfort",
            role: "eid-reader",
            usb: ["0c4b:0501"],
            packages: ["pcscd", "libifd-cyberjack6"],
            services: ["pcscd.socket"],
          },
          {
            name: "Cross Match fingerprint scanner",
            role: "fingerprint-scanner",
            usb: ["080b:0010", "080b:0002"],
            certified: true,
          },
          { name: "signotec Sigma", role: "signature-pad", usb: ["2133:0001"] },
        ],
        blockMassStorage: true,
      },
      apps: {
        allow: ["firefox-esr", "libreoffice-writer", "cups"],
        deny: ["openssh-server", "x11vnc", "anydesk", "teamviewer", "gcc", "wireguard-tools"],
        desktopApps: "strict",
      },
      accounts: {
        admins: ["kisa-admin"],
        users: ["buergerbuero"],
        autologin: false,
        screenLockSeconds: 300,
      },
      network: { inboundDefault: "deny", ssh: false, bluetooth: false },
      updates: { unattended: true },
      logging: { auditd: true, persistentJournal: true, timeSync: true, ntpServers: ["10.20.0.1"] },
      data: { tmpOnTmpfs: true, coreDumps: false, printJobRetention: false },
      attestations: attestedControls.map((control) => ({
        control,
        by: "Erika Mustermann (KISA)",
        date: "2026-01-15",
        statement: `${control} geprüft und bestätigt`,
      })),
    },
    waivers: [],
    source: {
      file: "/profiles/meerane.yaml",
      sha256: "0".repeat(64),
      extends: ["koffer:baseline"],
    },
  };
  return merge(profile, overrides);
}
