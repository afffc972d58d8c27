/**
 * Hand-built sample Results for renderer, signing and merge tests. Clock and host are fixed
 * so golden files are reproducible; built without the real evaluate on purpose.
 */
import type {
  ControlResult,
  Lang,
  Localized,
  Result,
  ResultContext,
  Status,
} from "../../src/report/types.js";

type ControlSeed = Pick<ControlResult, "id" | "severity" | "status"> &
  Partial<ControlResult> & { titles: Localized };

function control(seed: ControlSeed, lang: Lang): ControlResult {
  return {
    kind: "auto",
    references: [],
    sdmGoals: [],
    art32: [],
    evidence: [],
    message: seed.messages?.[0]?.text[lang] ?? "",
    messages: [],
    waiver: null,
    ...seed,
    title: seed.titles[lang],
  };
}

const seeds: Record<string, ControlSeed> = {
  "DISK-01": {
    id: "DISK-01",
    severity: "critical",
    status: "pass",
    titles: { de: "Datenträgerverschlüsselung mit LUKS2", en: "Disk encryption with LUKS2" },
    description: {
      de: "Jeder Datenträger mit Betriebssystem, Auslagerung oder Nutzerdaten ist mit LUKS2 verschlüsselt.",
      en: "Every volume holding the OS, swap or user data is encrypted with LUKS2.",
    },
    references: ["BSI SYS.3.1.A13", "BSI SYS.2.3.A19", "DSGVO Art. 32 Abs. 1 lit. a"],
    sdmGoals: ["vertraulichkeit", "integritaet"],
    art32: ["a"],
    evidence: [
      {
        subject: "LUKS volume disk.img",
        expected: "LUKS2",
        actual: "LUKS2",
        source: "cryptsetup luksDump --dump-json-metadata disk.img",
      },
    ],
    fix: null,
  },
  "DISK-04": {
    id: "DISK-04",
    severity: "high",
    status: "pass",
    titles: { de: "Entsperrung mit TPM2 und PIN", en: "Unlock with TPM2 and PIN" },
    description: {
      de: "Die Entsperrung verlangt TPM2 und PIN, gebunden an PCR 7.",
      en: "Unlocking needs TPM2 and a PIN, bound to PCR 7.",
    },
    references: ["BSI SYS.2.1.A28", "BSI SYS.2.1.A36"],
    sdmGoals: ["vertraulichkeit"],
    art32: ["a", "b"],
    evidence: [
      {
        subject: "LUKS tokens disk.img",
        expected: "systemd-tpm2 with tpm2-pin, PCR 7",
        actual: "systemd-tpm2 with tpm2-pin, PCR 7",
      },
    ],
    fix: {
      de: "TPM2+PIN einschreiben (systemd-cryptenroll)",
      en: "Enrol TPM2+PIN (systemd-cryptenroll)",
    },
  },
  "VPN-04": {
    id: "VPN-04",
    severity: "high",
    status: "pass",
    titles: {
      de: "VPN-Zertifikat gültig und vertrauenswürdig",
      en: "VPN certificate valid and trusted",
    },
    description: {
      de: "Das Client-Zertifikat ist gültig, kettet zur kommunalen CA und läuft nicht innerhalb der Erneuerungsfrist ab.",
      en: "The client certificate is valid, chains to the municipality CA and does not expire within the renewal window.",
    },
    references: ["BSI NET.3.3.A5", "BSI TR-02102-1"],
    sdmGoals: ["vertraulichkeit", "integritaet"],
    art32: ["b"],
    evidence: [
      {
        subject: "/etc/swanctl/x509/client.pem",
        expected: "valid until after 2025-06-30",
        actual: "valid until 2026-03-01",
      },
    ],
    fix: { de: "Zertifikat erneuern", en: "Renew the certificate" },
  },
  "USB-01": {
    id: "USB-01",
    severity: "critical",
    status: "pass",
    titles: { de: "USB-Geräte-Positivliste (USBGuard)", en: "USB device allowlist (USBGuard)" },
    description: {
      de: "USBGuard erzwingt genau die Geräte des Profils; alles andere wird blockiert.",
      en: "USBGuard enforces exactly the profile's devices; everything else is blocked.",
    },
    references: ["BSI SYS.2.3.A14", "BSI SYS.2.1.A24"],
    sdmGoals: ["vertraulichkeit", "integritaet", "datenminimierung"],
    art32: ["b"],
    evidence: [
      {
        subject: "/etc/usbguard/rules.conf",
        expected: "4 allow rules, implicit block",
        actual: "4 allow rules, implicit block",
        source: "/etc/usbguard/rules.conf:1",
      },
    ],
    fix: {
      de: "rules.conf schreiben, USBGuard aktivieren",
      en: "Write rules.conf, enable USBGuard",
    },
  },
  "NET-01": {
    id: "NET-01",
    severity: "critical",
    status: "pass",
    titles: {
      de: "Host-Firewall aktiv, eingehend verboten",
      en: "Host firewall active, inbound denied",
    },
    description: {
      de: "nftables ist aktiv; eingehender Verkehr wird standardmäßig verworfen.",
      en: "nftables is active; inbound traffic is dropped by default.",
    },
    references: ["BSI SYS.3.1.A3"],
    sdmGoals: ["vertraulichkeit", "integritaet"],
    art32: ["b"],
    evidence: [{ subject: "/etc/nftables.conf", expected: "policy drop", actual: "policy drop" }],
    fix: { de: "nftables.conf schreiben und aktivieren", en: "Write nftables.conf and enable it" },
  },
  "LOG-01": {
    id: "LOG-01",
    severity: "high",
    status: "pass",
    titles: { de: "Protokollierung mit auditd", en: "Audit logging with auditd" },
    description: {
      de: "auditd protokolliert Anmeldungen, Rechteausweitung, Konfigurationsänderungen und USB-Entscheidungen.",
      en: "auditd records logons, privilege use, configuration changes and USB decisions.",
    },
    references: ["BSI OPS.1.1.5.A3"],
    sdmGoals: ["transparenz", "intervenierbarkeit"],
    art32: ["b", "d"],
    evidence: [{ subject: "auditd.service", expected: "enabled", actual: "enabled" }],
    fix: { de: "auditd installieren, Regeln schreiben", en: "Install auditd, write rules" },
  },
  "DATA-01": {
    id: "DATA-01",
    severity: "high",
    status: "pass",
    titles: {
      de: "Keine dauerhaft gespeicherten Antragsdaten",
      en: "No persistent applicant data",
    },
    description: {
      de: "/tmp liegt im Arbeitsspeicher; keine Lichtbild-, Fingerabdruck- oder Scan-Dateien bleiben zurück.",
      en: "/tmp is on tmpfs; no photo, fingerprint or scan files remain.",
    },
    references: ["DSGVO Art. 5 Abs. 1 lit. c", "DSGVO Art. 25", "DSGVO Art. 32"],
    sdmGoals: ["datenminimierung", "nichtverkettung"],
    art32: ["a", "b"],
    evidence: [{ subject: "/tmp", expected: "tmpfs", actual: "tmpfs" }],
    fix: { de: "tmp.mount aktivieren, tmpfiles-Regeln", en: "Enable tmp.mount, tmpfiles rules" },
  },
  "DISK-05": {
    id: "DISK-05",
    severity: "high",
    status: "pass",
    titles: { de: "Wiederherstellungsschlüssel hinterlegt", en: "Recovery key escrowed" },
    description: {
      de: "Genau ein Wiederherstellungsschlüssel, außerhalb des Geräts hinterlegt.",
      en: "Exactly one recovery key, escrowed off the device.",
    },
    references: ["BSI SYS.2.1.A28", "BSI CON.1"],
    sdmGoals: ["verfuegbarkeit", "intervenierbarkeit"],
    art32: ["c"],
    evidence: [
      { subject: "LUKS keyslots disk.img", expected: "1 recovery slot", actual: "1 recovery slot" },
    ],
    fix: {
      de: "Wiederherstellungsschlüssel erzeugen und hinterlegen",
      en: "Generate and escrow a recovery key",
    },
  },
  "BOOT-03": {
    id: "BOOT-03",
    severity: "medium",
    status: "pass",
    kind: "attest",
    titles: { de: "Firmware-Passwort gesetzt", en: "Firmware password set" },
    description: {
      de: "Ein Firmware-Passwort ist gesetzt; gebootet wird nur vom internen Datenträger.",
      en: "A firmware password is set; the laptop boots only from the internal disk.",
    },
    references: ["BSI SYS.2.1.A8"],
    sdmGoals: ["integritaet"],
    art32: ["b"],
    attestation: {
      by: "K. Beispiel (IT)",
      date: "2025-05-02",
      statement: "Firmware-Passwort gesetzt, Bootreihenfolge gesperrt.",
    },
    fix: null,
  },
  "VPN-08": {
    id: "VPN-08",
    severity: "low",
    status: "not-applicable",
    kind: "situational",
    titles: { de: "Nur freigegebene Uplinks", en: "Only approved uplinks" },
    description: {
      de: "Nur das kommunale APN und gelistete WLANs werden genutzt.",
      en: "Only the municipal APN and listed WLANs are used.",
    },
    references: ["BSI CON.7.A8"],
    sdmGoals: ["vertraulichkeit"],
    art32: ["b"],
    reason: "Das Profil legt keine Uplinks fest.",
    fix: null,
  },
};

const nonCompliantOverrides: Record<string, Partial<ControlSeed>> = {
  "DISK-04": {
    status: "fail",
    evidence: [
      {
        subject: "LUKS tokens disk.img",
        expected: "systemd-tpm2 with tpm2-pin, PCR 7",
        actual: "no systemd-tpm2 token",
        source: "cryptsetup luksDump --dump-json-metadata disk.img",
      },
    ],
    messages: [
      {
        id: "no-tpm2-token",
        data: { volume: "disk.img" },
        text: {
          de: "Erwartet TPM2+PIN-Token auf disk.img, gefunden: keines.",
          en: "Expected a TPM2+PIN token on disk.img, found none.",
        },
      },
    ],
  },
  "USB-01": {
    status: "fail",
    evidence: [
      {
        subject: "/etc/usbguard/rules.conf",
        expected: "allow 0c27:3bfa (eID-Lesegerät)",
        actual: "allow 0781:5581 <script>alert(1)</script>",
        source: "/etc/usbguard/rules.conf:3",
      },
    ],
    messages: [
      {
        id: "extra-rule",
        data: { rule: "allow 0781:5581" },
        text: {
          de: "Erwartet genau die Geräte des Profils, gefunden: zusätzliche Regel allow 0781:5581.",
          en: "Expected exactly the profile's devices, found extra rule allow 0781:5581.",
        },
      },
    ],
  },
  "NET-01": {
    status: "waived",
    waiver: {
      reason: "Wartungsfenster: Firewall-Regelwerk wird durch KISA umgestellt.",
      author: "M. Muster",
      approvedBy: "Dr. A. Beispiel (DSB)",
      risk: "medium",
      expires: "2025-05-20",
      expired: false,
    },
    evidence: [{ subject: "/etc/nftables.conf", expected: "policy drop", actual: "policy accept" }],
  },
  "LOG-01": {
    status: "error",
    reason: "auditctl failed: exit 1 (permission denied)",
    messages: [
      {
        id: "gather-error",
        data: { area: "logging" },
        text: {
          de: "Die Fakten zu logging konnten nicht erhoben werden.",
          en: "The logging facts could not be gathered.",
        },
      },
    ],
  },
  "DISK-05": {
    status: "skip",
    reason: "Ein Offline-Abbild zeigt keinen Hinterlegungsnachweis.",
  },
};

function summarise(controls: ControlResult[]): Result["summary"] {
  const n = (s: Status) => controls.filter((c) => c.status === s).length;
  return {
    compliant: n("fail") === 0 && n("error") === 0 && n("pending") === 0,
    pass: n("pass"),
    fail: n("fail"),
    error: n("error"),
    waived: n("waived"),
    notApplicable: n("not-applicable"),
    skip: n("skip"),
    pending: n("pending"),
  };
}

export function sampleContext(): ResultContext {
  return {
    inventoryNumber: "INV-2024-0815",
    devices: [
      { name: "eID-Lesegerät", role: "eid-reader", usb: ["0c4b:9102"], certified: true },
      {
        name: "Fingerabdruckscanner",
        role: "fingerprint-scanner",
        usb: ["1c7a:0603"],
        certified: true,
      },
      { name: "Unterschriftenpad", role: "signature-pad", usb: ["2133:0018"] },
      { name: "Dokumentenkamera", role: "camera", usb: ["046d:0825", "046d:0826"] },
    ],
    processingRecords: [
      {
        id: "VVT-12",
        title: "Pass- und Personalausweiswesen",
        dataCategories: [
          "Name",
          "Geburtsdatum und -ort",
          "Lichtbild",
          "Unterschrift",
          "Fingerabdrücke (Art. 9)",
        ],
      },
      { id: "VVT-13", title: "Meldewesen", dataCategories: ["Name", "Anschrift"] },
    ],
    protectionNeeds: { confidentiality: "very-high", integrity: "high", availability: "normal" },
    dataProtectionOfficer: { name: "Dr. A. Beispiel", email: "dsb@meerane.example" },
    servedAreas: ["Ortsteil Crotenlaide", "Ortsteil Seiferitz"],
    waivers: [
      {
        control: "NET-01",
        reason: "Wartungsfenster: Firewall-Regelwerk wird durch KISA umgestellt.",
        author: "M. Muster",
        approvedBy: "Dr. A. Beispiel (DSB)",
        risk: "medium",
        expires: "2025-05-20",
        expired: false,
      },
    ],
    certificates: [
      {
        role: "vpn-client",
        subject: "CN=koffer-01.meerane.example,O=Stadt Meerane",
        issuer: "CN=Meerane Koffer CA,O=Stadt Meerane",
        serialNumber: "1a2b3c",
        notBefore: "2024-06-01T00:00:00Z",
        notAfter: "2025-06-01T00:00:00Z",
        keyType: "ecdsa-p256",
        sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        renewBeforeDays: 30,
      },
    ],
    software: [
      { name: "strongswan-swanctl", version: "5.9.8-5+deb12u1" },
      { name: "usbguard", version: "1.1.2+ds-3" },
      { name: "pcscd", version: "1.9.9-2" },
    ],
    history: [
      { startedAt: "2025-02-03T09:00:00Z", compliant: true, fail: 0 },
      { startedAt: "2025-04-01T09:00:00Z", compliant: false, fail: 1 },
    ],
  };
}

export type Scenario = "compliant" | "non-compliant" | "pending";

/** An image provisioned without a TPM: DISK-04 waits for the first boot (as evaluate() words it). */
const pendingOverrides: Record<string, Partial<ControlSeed>> = {
  "DISK-04": {
    status: "pending",
    evidence: [
      {
        subject: "LUKS volume disk.img",
        expected: "systemd-tpm2 token with tpm2-pin",
        actual: "enrolment at first boot pending",
        source: "cryptsetup luksDump --dump-json-metadata disk.img",
      },
      {
        subject: "koffer-tpm2-enrol.service",
        expected: "enabled",
        actual: "enabled",
        source: "/etc/systemd/system/koffer-tpm2-enrol.service",
      },
    ],
    messages: [
      {
        id: "firstBootPending",
        data: { volume: "cryptroot", pcrs: "7", unit: "koffer-tpm2-enrol.service" },
        text: {
          de: "TPM2+PIN-Registrierung beim ersten Start ausstehend (Dienst installiert): cryptroot erhält sein systemd-tpm2-Token mit PIN (PCR 7) durch koffer-tpm2-enrol.service.",
          en: "TPM2+PIN enrolment pending at first boot (unit installed): cryptroot gets its systemd-tpm2 token with PIN (PCR 7) from koffer-tpm2-enrol.service.",
        },
      },
    ],
  },
};

/**
 * A sample Result; `non-compliant` has a fail, an error, a skip, a waiver and a not-applicable;
 * `pending` is the compliant one with DISK-04 pending at first boot.
 */
export function sampleResult(scenario: Scenario, lang: Lang = "de"): Result {
  const overrides =
    scenario === "non-compliant"
      ? nonCompliantOverrides
      : scenario === "pending"
        ? pendingOverrides
        : {};
  const controls = Object.values(seeds).map((seed) => {
    const c = control({ ...seed, ...overrides[seed.id] }, lang);
    if (c.status === "pending") c.reason = c.message;
    return c;
  });
  return {
    schema: "koffer/result/v1",
    tool: { name: "koffer", version: "0.1.0", catalogueVersion: "2025.1" },
    profile: {
      name: "meerane",
      title: "Stadt Meerane – Bürgerkoffer",
      sha256: "3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b",
      controller: "Stadt Meerane, Bürgeramt",
      processor: "KISA – Kommunale Informationsverarbeitung Sachsen",
    },
    target: {
      kind: "root",
      hostname: "koffer-01",
      serialNumber: "PF3XK9Z1",
      location: "Bürgeramt",
    },
    facts: { sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
    startedAt: "2025-05-05T08:30:00Z",
    finishedAt: "2025-05-05T08:30:04Z",
    lang,
    summary: summarise(controls),
    controls,
    readiness: [
      {
        id: "pcscd",
        title: { de: "pcscd-Socket aktiv", en: "pcscd socket enabled" },
        ok: true,
        detail: "pcscd.socket enabled",
      },
    ],
    context: sampleContext(),
  };
}
