/**
 * Facts-level scenarios: the hardened laptop and its weak variants through the whole
 * catalogue, with real certificates for the VPN chain. Asserts the EXACT failing set.
 */
import { describe, expect, it } from "vitest";
import type { Control } from "../../src/checks/types.js";
import type { Facts } from "../../src/facts/types.js";
import { evaluate } from "../../src/report/evaluate.js";
import { exitCodeFor } from "../../src/report/exit-code.js";
import {
  caCertificate,
  clientCertificate,
  hardenedFacts,
  hardenedVolume,
  withPackages,
} from "../helpers/facts.js";
import { makeProfile } from "../helpers/profile.js";
import { vpnPki } from "../checks/vpn-pki.js";

const pki = await vpnPki();
const now = new Date();
const day = 86_400_000;
const profile = makeProfile();
const client = clientCertificate({
  pem: pki.clientPem,
  notBefore: new Date(now.getTime() - day).toISOString(),
  notAfter: new Date(now.getTime() + 364 * day).toISOString(),
});
const ca = caCertificate({ pem: pki.ca.pem, sha256Fingerprint: pki.ca.sha256 });
const base = hardenedFacts({ vpn: { certificates: [client], caCertificates: [ca] } });
const judge = (facts: Facts, p = profile) => evaluate(p, facts, { now, vpnCa: pki.ca, lang: "en" });
const failing = (facts: Facts) =>
  judge(facts)
    .controls.filter((c) => c.status === "fail")
    .map((c) => c.id)
    .sort();

describe("the hardened laptop", () => {
  const result = judge(base);
  it("passes every automatable control; live-only ones skip; none fail or error", () => {
    expect(result.summary).toMatchObject({ compliant: true, fail: 0, error: 0 });
    const byStatus = (s: string) => result.controls.filter((c) => c.status === s).map((c) => c.id);
    expect(byStatus("skip")).toEqual(["BOOT-02"]);
    expect(byStatus("not-applicable").sort()).toEqual([
      "APP-05",
      "DATA-04",
      "LOG-03",
      "NET-03",
      "UPD-03",
      "VPN-08",
    ]);
    expect(result.controls).toHaveLength(50);
    expect(exitCodeFor(result)).toBe(0);
  });
  it("carries attestations and both languages", () => {
    const boot03 = result.controls.find((c) => c.id === "BOOT-03");
    expect(boot03?.attestation?.by).toBe("Erika Mustermann (KISA)");
    expect(boot03?.titles.de).not.toBe(boot03?.titles.en);
    expect(result.controls.every((c) => c.messages.every((m) => !m.text.de.includes("{{")))).toBe(
      true,
    );
  });
});

const v = hardenedVolume();
const conn = base.vpn.swanctl.connections[0]!;
const weak: [string, Facts, string[]][] = [
  ["LUKS1", { ...base, disk: { ...base.disk, volumes: [{ ...v, version: 1 }] } }, ["DISK-01"]],
  [
    "pbkdf2 keyslots",
    {
      ...base,
      disk: {
        ...base.disk,
        volumes: [
          {
            ...v,
            keyslots: v.keyslots.map((k) => ({
              ...k,
              kdf: { type: "pbkdf2", hash: "sha256", iterations: 1000 },
            })),
          },
        ],
      },
    },
    ["DISK-03"],
  ],
  [
    "256-bit XTS",
    {
      ...base,
      disk: {
        ...base.disk,
        volumes: [{ ...v, keyslots: v.keyslots.map((k) => ({ ...k, keyBytes: 32 })) }],
      },
    },
    ["DISK-02"],
  ],
  [
    "extra sudo user",
    {
      ...base,
      accounts: {
        ...base.accounts,
        passwd: [
          ...base.accounts.passwd,
          { name: "mallory", uid: 1002, gid: 1002, home: "/home/mallory", shell: "/bin/bash" },
        ],
        groups: base.accounts.groups.map((g) =>
          g.name === "sudo" ? { ...g, members: [...g.members, "mallory"] } : g,
        ),
      },
    },
    ["ACC-01"],
  ],
  [
    "sshd enabled with passwords",
    withPackages(
      {
        ...base,
        services: {
          ...base.services,
          unitFiles: { ...base.services.unitFiles, "ssh.service": "enabled" },
        },
        network: {
          ...base.network,
          sshd: { passwordauthentication: { value: "yes", source: "/etc/ssh/sshd_config:57" } },
        },
      },
      ["openssh-server"],
    ),
    ["APP-02", "NET-02"],
  ],
  [
    "usbguard missing",
    {
      ...base,
      usb: { ...base.usb, usbguardInstalled: false, rules: [], daemonConf: {} },
      services: {
        ...base.services,
        unitFiles: { ...base.services.unitFiles, "usbguard.service": "not-found" },
      },
    },
    // Not LOG-01: its USBGuard audit-backend requirement applies where USBGuard is installed;
    // the missing USBGuard is USB-01's finding.
    ["USB-01", "USB-03"],
  ],
  [
    "usbguard allowing mass storage",
    {
      ...base,
      usb: {
        ...base.usb,
        rules: [
          ...base.usb.rules,
          {
            target: "allow",
            canonical: "allow with-interface equals { 08:*:* }",
            ids: [],
            withInterface: { operator: "equals", values: ["08:*:*"] },
            hasSerial: false,
            hasHash: false,
            source: "/etc/usbguard/rules.conf:6",
          },
        ],
      },
    },
    ["USB-01", "USB-02"],
  ],
  [
    "expired RSA-2048 certificate from a foreign CA",
    {
      ...base,
      vpn: {
        ...base.vpn,
        certificates: [
          {
            ...client,
            pem: pki.foreignClientPem,
            keyType: "rsa",
            keyBits: 2048,
            curve: undefined,
            notAfter: new Date(now.getTime() - day).toISOString(),
          },
        ],
      },
    },
    ["VPN-03", "VPN-04"],
  ],
  [
    "WireGuard instead of IPsec",
    withPackages(
      {
        ...base,
        vpn: {
          ...base.vpn,
          strongswanInstalled: false,
          swanctl: { files: [], connections: [], parseErrors: [] },
          otherTunnels: [{ type: "wireguard", source: "/etc/wireguard/wg0.conf" }],
        },
      },
      ["wireguard-tools"],
      ["strongswan-swanctl", "charon-systemd"],
    ),
    ["APP-02", "VPN-01", "VPN-02", "VPN-05", "VPN-06", "VPN-07"],
  ],
  [
    "core dumps on",
    {
      ...base,
      data: {
        ...base.data,
        coreLimits: [],
        coredump: { Storage: { value: "external", source: "/etc/systemd/coredump.conf:3" } },
      },
    },
    ["DATA-03"],
  ],
  [
    "/tmp on disk",
    { ...base, disk: { ...base.disk, fstab: base.disk.fstab.filter((e) => e.file !== "/tmp") } },
    ["APP-01", "DATA-01"],
  ],
  [
    "autologin",
    {
      ...base,
      accounts: {
        ...base.accounts,
        autologin: [{ kind: "gdm3", user: "buergerbuero", source: "/etc/gdm3/daemon.conf:7" }],
      },
    },
    ["ACC-02"],
  ],
  [
    "split tunnel",
    {
      ...base,
      vpn: {
        ...base.vpn,
        swanctl: {
          ...base.vpn.swanctl,
          connections: [
            { ...conn, children: [{ ...conn.children[0]!, remoteTs: ["10.0.0.0/8"] }] },
          ],
        },
      },
    },
    ["VPN-06", "VPN-07"],
  ],
];

describe("weak variants fail exactly the expected controls", () => {
  for (const [name, facts, expected] of weak)
    it(name, () => {
      expect(failing(facts)).toEqual(expected);
      expect(exitCodeFor(judge(facts))).toBe(1);
    });
});

describe("evaluate: errors, waivers, thresholds", () => {
  it("a throwing control is error for itself only, and the run exits 2", () => {
    const boom: Control = {
      meta: {
        id: "X-01",
        kind: "auto",
        title: { de: "x", en: "x" },
        description: { de: "x", en: "x" },
        severity: "low",
        references: ["BSI X"],
        sdmGoals: ["integritaet"],
        art32: ["b"],
        facts: [],
        messages: {},
        fix: null,
      },
      evaluate: () => {
        throw new Error("kaputt");
      },
    };
    const result = evaluate(profile, base, { now, controls: [boom] });
    expect(result.controls[0]).toMatchObject({ id: "X-01", status: "error" });
    expect(result.controls[0]?.reason).toContain("kaputt");
    expect(exitCodeFor(result)).toBe(2);
  });
  it("a gather error turns the controls reading that area into error, never pass", () => {
    const result = judge({
      ...base,
      gatherErrors: [{ area: "usb", message: "usbguard-rule-parser crashed" }],
    });
    const errored = result.controls.filter((c) => c.status === "error").map((c) => c.id);
    // LOG-01 reads the usb area too: whether USBGuard records its decisions in the audit trail.
    expect(errored).toEqual(["USB-01", "USB-02", "USB-03", "USB-04", "LOG-01"]);
    expect(result.summary.compliant).toBe(false);
  });
  it("a damaged LUKS header errors every disk check that reads it", () => {
    const result = judge({
      ...base,
      disk: {
        ...base.disk,
        volumes: [hardenedVolume({ version: null, error: "Device is not a valid LUKS device." })],
      },
    });
    expect(result.controls.filter((c) => c.status === "error").map((c) => c.id)).toEqual([
      "DISK-01",
      "DISK-02",
      "DISK-03",
      "DISK-04",
      "DISK-05",
    ]);
  });
  const autologin: Facts = {
    ...base,
    accounts: {
      ...base.accounts,
      autologin: [{ kind: "lightdm", user: "buergerbuero", source: "/etc/lightdm/lightdm.conf:3" }],
    },
  };
  const waiver = {
    control: "ACC-02",
    reason: "Kiosk-Test",
    author: "technik@kisa.example",
    approvedBy: "datenschutz@meerane.example",
    risk: "low" as const,
  };
  it("a valid waiver turns fail into waived; compliant again", () => {
    const result = judge(
      autologin,
      makeProfile({ waivers: [{ ...waiver, expires: "2099-12-31" }] }),
    );
    expect(result.controls.find((c) => c.id === "ACC-02")).toMatchObject({
      status: "waived",
      waiver: { expired: false, approvedBy: "datenschutz@meerane.example" },
    });
    expect(result.summary).toMatchObject({ compliant: true, waived: 1 });
  });
  it("an expired waiver leaves fail and says so", () => {
    const result = judge(
      autologin,
      makeProfile({ waivers: [{ ...waiver, expires: "2020-01-31" }] }),
    );
    const acc02 = result.controls.find((c) => c.id === "ACC-02");
    expect(acc02).toMatchObject({ status: "fail", waiver: { expired: true } });
    expect(acc02?.message).toMatch(/^Waiver expired on 2020-01-31/);
  });
  it("a waiver on a passing control changes nothing", () => {
    const result = judge(base, makeProfile({ waivers: [{ ...waiver, expires: "2099-12-31" }] }));
    expect(result.controls.find((c) => c.id === "ACC-02")).toMatchObject({
      status: "pass",
      waiver: null,
    });
  });
  it("--fail-on: a medium failure fails at low/medium, not at high", () => {
    const result = judge({ ...base, data: { ...base.data, cupsd: {} } });
    expect(result.controls.filter((c) => c.status === "fail").map((c) => c.id)).toEqual([
      "DATA-02",
    ]);
    expect(exitCodeFor(result, "low")).toBe(1);
    expect(exitCodeFor(result, "medium")).toBe(1);
    expect(exitCodeFor(result, "high")).toBe(0);
  });
  it("readiness reports reader drivers and the VPN configuration", () => {
    const result = judge(withPackages(base, [], ["libifd-cyberjack6"]));
    expect(result.readiness.find((r) => r.id.startsWith("device:REINER"))).toMatchObject({
      ok: false,
    });
    expect(result.readiness.find((r) => r.id === "vpn-config")).toMatchObject({ ok: true });
  });
});
