/**
 * The catalogue of evidence values. Checks and gatherers record what they saw as stable,
 * machine-readable English values ("not installed", "(not set)", "nftables.service disabled")
 * — CI formats and JSON consumers rely on them. Everything a person reads (the HTML/Markdown
 * report, the German message texts) renders them through this catalogue: one keyed entry per
 * value or value shape, German and English side by side. A value the catalogue does not know
 * stays as it is, and the German report test (test/report/german-report.test.ts) fails on it.
 */
import type { Lang, Localized } from "../report/types.js";
import { countOf } from "./format.js";

const L = (de: string, en: string): Localized => ({ de, en });

/** Values as checks and gatherers write them, keyed by the value itself. */
export const evidenceTerms: Record<string, Localized> = {
  none: L("keine", "none"),
  "(none)": L("(keine)", "(none)"),
  installed: L("installiert", "installed"),
  "not installed": L("nicht installiert", "not installed"),
  enabled: L("aktiviert", "enabled"),
  disabled: L("deaktiviert", "disabled"),
  "not-found": L("nicht vorhanden", "not-found"),
  static: L("statisch", "static"),
  masked: L("maskiert", "masked"),
  "masked-runtime": L("maskiert (Laufzeit)", "masked-runtime"),
  indirect: L("indirekt", "indirect"),
  generated: L("erzeugt", "generated"),
  alias: L("Alias", "alias"),
  linked: L("verlinkt", "linked"),
  "enabled-runtime": L("aktiviert (Laufzeit)", "enabled-runtime"),
  active: L("aktiv", "active"),
  inactive: L("inaktiv", "inactive"),
  "(not set)": L("(nicht gesetzt)", "(not set)"),
  "not set": L("nicht gesetzt", "not set"),
  "(not set; kernel default)": L(
    "(nicht gesetzt; Voreinstellung des Kernels)",
    "(not set; kernel default)",
  ),
  "(missing)": L("(fehlt)", "(missing)"),
  "a rule for the admin or a group of theirs": L(
    "eine Regel für die Administration oder eine ihrer Gruppen",
    "a rule for the admin or a group of theirs",
  ),
  "nothing (sshd is not listening)": L(
    "nichts (sshd lauscht nicht)",
    "nothing (sshd is not listening)",
  ),
  missing: L("fehlt", "missing"),
  "package missing": L("Paket fehlt", "package missing"),
  loadable: L("ladbar", "loadable"),
  blocked: L("gesperrt", "blocked"),
  locked: L("festgeschrieben", "locked"),
  "not locked": L("nicht festgeschrieben", "not locked"),
  "no entries": L("keine Einträge", "no entries"),
  "an entry for the root volume": L(
    "ein Eintrag für das Wurzelvolume",
    "an entry for the root volume",
  ),
  "an encrypted system volume (LUKS2)": L(
    "ein verschlüsseltes Systemvolume (LUKS2)",
    "an encrypted system volume (LUKS2)",
  ),
  "targets masked or sleep.conf Allow*=no": L(
    "Ziele maskiert oder sleep.conf Allow*=no",
    "targets masked or sleep.conf Allow*=no",
  ),
  "(default yes)": L("(Voreinstellung yes)", "(default yes)"),
  "an IKEv2 connection": L("eine IKEv2-Verbindung", "an IKEv2 connection"),
  "a client certificate": L("ein Client-Zertifikat", "a client certificate"),
  "a private key": L("ein privater Schlüssel", "a private key"),
  "loaded at boot": L("beim Start geladen", "loaded at boot"),
  "policy drop for IPv4 and IPv6": L(
    "Richtlinie drop für IPv4 und IPv6",
    "policy drop for IPv4 and IPv6",
  ),
  "policy drop": L("Richtlinie drop", "policy drop"),
  "policy accept": L("Richtlinie accept", "policy accept"),
  "installed and enabled": L("installiert und aktiviert", "installed and enabled"),
  "no separate mount": L("kein eigener Einhängepunkt", "no separate mount"),
  "explicit servers": L("ausdrücklich gesetzte Server", "explicit servers"),
  "(defaults)": L("(Voreinstellungen)", "(defaults)"),
  "a size": L("eine Größe", "a size"),
  "no fstab entry": L("kein fstab-Eintrag", "no fstab entry"),
  "no kernel command line": L("keine Kernel-Befehlszeile", "no kernel command line"),
  "no TPM": L("kein TPM", "no TPM"),
  "no file": L("keine Datei", "no file"),
  "none needed": L("keine nötig", "none needed"),
  "a crypt segment": L("ein crypt-Segment", "a crypt segment"),
  "no keyslot": L("kein Schlüsselplatz", "no keyslot"),
  "accounts outside the profile locked and expired": L(
    "Konten außerhalb des Profils gesperrt und abgelaufen",
    "accounts outside the profile locked and expired",
  ),
  "its DNS= and FallbackDNS= judged when it runs": L(
    "DNS= und FallbackDNS= werden beurteilt, wenn der Dienst läuft",
    "its DNS= and FallbackDNS= judged when it runs",
  ),
  "512-bit key": L("512-Bit-Schlüssel", "512-bit key"),
  "512-bit key (64 bytes)": L("512-Bit-Schlüssel (64 Byte)", "512-bit key (64 bytes)"),
  "aes-xts-plain64, 512 bits": L("aes-xts-plain64, 512 Bit", "aes-xts-plain64, 512 bits"),
  synchronised: L("synchronisiert", "synchronised"),
  "not synchronised": L("nicht synchronisiert", "not synchronised"),
  yes: L("ja", "yes"),
  no: L("nein", "no"),
  true: L("true", "true"),
  "firmware state is not visible in an offline root filesystem": L(
    "der Zustand der Firmware ist in einem Offline-Wurzeldateisystem nicht sichtbar",
    "firmware state is not visible in an offline root filesystem",
  ),
  "offline root filesystem: only a running machine shows this": L(
    "Offline-Wurzeldateisystem: nur ein laufendes Gerät zeigt dies",
    "offline root filesystem: only a running machine shows this",
  ),
  "an offline root has no USB devices attached": L(
    "an einem Offline-Wurzeldateisystem hängen keine USB-Geräte",
    "an offline root has no USB devices attached",
  ),
  "an offline root has no active swap": L(
    "ein Offline-Wurzeldateisystem hat keinen aktiven Auslagerungsspeicher",
    "an offline root has no active swap",
  ),
  "an offline root has no live block devices": L(
    "ein Offline-Wurzeldateisystem hat keine laufenden Blockgeräte",
    "an offline root has no live block devices",
  ),
  "an offline root runs no services": L(
    "in einem Offline-Wurzeldateisystem laufen keine Dienste",
    "an offline root runs no services",
  ),
  "not booted with UEFI (no /sys/firmware/efi)": L(
    "nicht mit UEFI gestartet (kein /sys/firmware/efi)",
    "not booted with UEFI (no /sys/firmware/efi)",
  ),
  "not booted with UEFI": L("nicht mit UEFI gestartet", "not booted with UEFI"),
  "not gathered": L("nicht erhoben", "not gathered"),
  "::/0 in remote_ts or disable_ipv6 = 1": L(
    "::/0 in remote_ts oder disable_ipv6 = 1",
    "::/0 in remote_ts or disable_ipv6 = 1",
  ),
  "package installed": L("Paket installiert", "package installed"),
  tunnelled: L("getunnelt", "tunnelled"),
  "masked or absent": L("maskiert oder nicht vorhanden", "masked or absent"),
  "TR-02102-1 key and SHA-2 signature": L(
    "Schlüssel nach TR-02102-1 und SHA-2-Signatur",
    "TR-02102-1 key and SHA-2 signature",
  ),
  "HID + storage rejected": L("HID + Massenspeicher abgewiesen", "HID + storage rejected"),
  "pam_faillock not in the PAM stack": L(
    "pam_faillock nicht im PAM-Stapel",
    "pam_faillock not in the PAM stack",
  ),
  "pushed by the gateway or inside an internal network of the tunnel": L(
    "vom Gateway zugewiesen oder innerhalb eines internen Netzes des Tunnels",
    "pushed by the gateway or inside an internal network of the tunnel",
  ),
  // Why an audit event class is (not) recorded (src/facts/parsers/audit.ts).
  "no rule records it": L("keine Regel zeichnet es auf", "no rule records it"),
  "a never rule before any recording rule silences it": L(
    "eine never-Regel vor jeder aufzeichnenden Regel unterdrückt es",
    "a never rule before any recording rule silences it",
  ),
  "a never rule on the user list silences logon messages": L(
    "eine never-Regel auf der user-Liste unterdrückt die Anmeldemeldungen",
    "a never rule on the user list silences logon messages",
  ),
  "valid, chains to the municipality CA": L(
    "gültig, Kette bis zur CA der Kommune",
    "valid, chains to the municipality CA",
  ),
  // The checks' fixed evidence vocabulary (src/checks/*.ts, ev(subject, expected, actual)).
  "%sudo and the admins": L("%sudo und die Administratoren", "%sudo and the admins"),
  "locked (! or *)": L("gesperrt (! oder *)", "locked (! or *)"),
  "a package in spec.apps.allow": L("ein Paket in spec.apps.allow", "a package in spec.apps.allow"),
  "trusted not set": L("trusted nicht gesetzt", "trusted not set"),
  "localhost or socket": L("localhost oder Socket", "localhost or socket"),
  "no passwords, no form data, cleared on exit": L(
    "keine Passwörter, keine Formulardaten, beim Beenden gelöscht",
    "no passwords, no form data, cleared on exit",
  ),
  "/dev/mapper/<crypttab name> or zram": L(
    "/dev/mapper/<crypttab-Name> oder zram",
    "/dev/mapper/<crypttab name> or zram",
  ),
  "no unknown mandatory requirements": L(
    "keine unbekannten zwingenden Anforderungen",
    "no unknown mandatory requirements",
  ),
  "not available": L("nicht verfügbar", "not available"),
  "key file none": L("Schlüsseldatei „none“", "key file none"),
  "no key files": L("keine Schlüsseldateien", "no key files"),
  "no unfinished re-encryption": L(
    "keine unterbrochene Neuverschlüsselung",
    "no unfinished re-encryption",
  ),
  "present, not masked": L("vorhanden, nicht maskiert", "present, not masked"),
  "no systemd-tpm2 token": L("kein systemd-tpm2-Token", "no systemd-tpm2 token"),
  "systemd-tpm2 token with tpm2-pin": L(
    "systemd-tpm2-Token mit tpm2-pin",
    "systemd-tpm2 token with tpm2-pin",
  ),
  "encrypted or zram": L("verschlüsselt oder zram", "encrypted or zram"),
  "not world-writable": L("nicht für alle schreibbar", "not world-writable"),
  "a valid ruleset": L("ein gültiger Regelsatz", "a valid ruleset"),
  "the tunnel address": L("die Tunneladresse", "the tunnel address"),
  "no errors": L("keine Fehler", "no errors"),
  "no rule admitting class 08": L(
    "keine Regel, die Klasse 08 zulässt",
    "no rule admitting class 08",
  ),
  "not certified": L("nicht zertifiziert", "not certified"),
  "load = no": L("„load = no“", "load = no"),
  "(default)": L("(Voreinstellung)", "(default)"),
  default: L("Voreinstellung", "default"),
  "explicit proposals": L("ausdrücklich gesetzte Proposals", "explicit proposals"),
  "ECDSA P-256/384/521, Brainpool or RSA ≥ 3000": L(
    "ECDSA P-256/384/521, Brainpool oder RSA ≥ 3000",
    "ECDSA P-256/384/521, Brainpool or RSA ≥ 3000",
  ),
  "the municipality CA": L("die CA der Kommune", "the municipality CA"),
  "a child with remote_ts = 0.0.0.0/0": L(
    "ein Child-SA mit remote_ts = 0.0.0.0/0",
    "a child with remote_ts = 0.0.0.0/0",
  ),
  "no DNS outside the tunnel": L("kein DNS außerhalb des Tunnels", "no DNS outside the tunnel"),
  "no children": L("keine Child-SAs", "no children"),
  "outside the tunnel only IKE, ESP, DHCP, loopback, replies, neighbour discovery": L(
    "außerhalb des Tunnels nur IKE, ESP, DHCP, Loopback, Antworten, Neighbour Discovery",
    "outside the tunnel only IKE, ESP, DHCP, loopback, replies, neighbour discovery",
  ),
};

type Pattern = [RegExp, (m: RegExpExecArray, de: (v: string) => string) => string];

/** Value shapes with a variable part; the variable part is translated again where it is a term. */
const patterns: Pattern[] = [
  [
    /^an attestation of (\S+) by a named person$/,
    (m) => `eine Bestätigung von ${m[1]} durch eine namentlich benannte Person`,
  ],
  [/^an attestation of (\S+)$/, (m) => `eine Bestätigung von ${m[1]}`],
  [
    /^(\d+) escrowed recovery keyslots?$/,
    (m) =>
      m[1] === "1"
        ? "1 hinterlegter Wiederherstellungs-Schlüsselplatz"
        : `${m[1]} hinterlegte Wiederherstellungs-Schlüsselplätze`,
  ],
  [/^valid until (\S+)$/, (m) => `gültig bis ${m[1]}`],
  [/^(\S+), missing (.+)$/s, (m) => `${m[1]}, es fehlt ${m[2]}`],
  [/^valid at (\S+)$/, (m) => `gültig am ${m[1]}`],
  [/^not installed \((.+)\)$/, (m) => `nicht installiert (${m[1]})`],
  [
    /^(\d+) recovery keyslots?$/,
    (m) =>
      countOf(m[1]!, "Wiederherstellungs-Schlüsselplatz", "Wiederherstellungs-Schlüsselplätze"),
  ],
  [/^(\S+): version (\d+)$/, (m) => `${m[1]}: Version ${m[2]}`],
  [/^attested: (.*)$/s, (m) => `bestätigt: ${m[1]}`],
  [/^attested by (.+) on (.+)$/, (m) => `bestätigt von ${m[1]} am ${m[2]}`],
  [/^(.+); any other locked and expired$/s, (m) => `${m[1]}; alle anderen gesperrt und abgelaufen`],
  [/^locked and expired: (.+)$/s, (m) => `gesperrt und abgelaufen: ${m[1]}`],
  [/^sudoers rules for (\S+)$/, (m) => `sudoers-Regeln für ${m[1]}`],
  [
    /^(?:no group sudo|group sudo: (.*)); rules: (.+)$/s,
    (m) =>
      `${m[1] === undefined ? "keine Gruppe sudo" : `Gruppe sudo: ${m[1]}`}; Regeln: ${m[2] === "(none)" ? "(keine)" : m[2]}`,
  ],
  [/^(\S+) not set$/, (m) => `${m[1]} nicht gesetzt`],
  [
    /^IKE\/NAT-T and ESP only to (.+) \((.+)\)$/,
    (m) => `IKE/NAT-T und ESP nur zu ${m[1]} (${m[2]})`,
  ],
  [/^not read: (.+); ignored (.+)$/s, (m) => `nicht gelesen: ${m[1]}; ignoriert: ${m[2]}`],
  [/^keyslot (\S+) escrowed$/, (m) => `Schlüsselplatz ${m[1]} hinterlegt`],
  [
    /^(\d+) passphrase keyslots?( after first boot)?$/,
    (m) =>
      `${countOf(m[1]!, "Passphrasen-Schlüsselplatz", "Passphrasen-Schlüsselplätze")}${m[2] ? " nach dem ersten Start" : ""}`,
  ],
  [
    /^keyslot (\S+), wiped by (\S+) at first boot$/,
    (m) => `Schlüsselplatz ${m[1]}, beim ersten Start von ${m[2]} entfernt`,
  ],
  [/^keyslots? (.+) escrowed$/, (m) => `Schlüsselplätze ${m[1]} hinterlegt`],
  [
    /^(\d+) connections? in (.+)$/,
    (m, de) => `${countOf(m[1]!, "Verbindung", "Verbindungen")} in ${de(m[2]!)}`,
  ],
  [/^missing packages: (.+)$/, (m) => `fehlende Pakete: ${m[1]}`],
  [/^packages installed: (.+)$/, (m, de) => `Pakete installiert: ${de(m[1]!)}`],
  [/^not enabled: (.+)$/, (m, de) => `nicht aktiviert: ${de(m[1]!)}`],
  [/^enabled: (.+)$/, (m, de) => `aktiviert: ${de(m[1]!)}`],
  [/^(synchronised|not synchronised) \((.+)\)$/, (m, de) => `${de(m[1]!)} (${m[2]})`],
  [/^(\S+) not installed$/, (m) => `${m[1]} nicht installiert`],
  [/^(\S+) installed$/, (m) => `${m[1]} installiert`],
  [
    /^(inet|ip|ip6|arp|bridge|netdev) (\S+) (\S+) policy (\S+)$/,
    (m) => `${m[1]} ${m[2]} ${m[3]} Richtlinie ${m[4]}`,
  ],
  [/^(\S+\.(?:service|socket|target|mount|timer|path)) (\S+)$/, (m, de) => `${m[1]} ${de(m[2]!)}`],
  [/^(\S+) \((.+)\)$/, (m, de) => `${evidenceTerms[m[1]!]?.de ?? m[1]} (${de(m[2]!)})`],
  [/^([^=\s]+)=(\(.+\)|[a-z-]+)$/, (m, de) => `${m[1]}=${de(m[2]!)}`],
  [
    /^pushed by the gateway or inside (.+)$/,
    (m) => `vom Gateway zugewiesen oder innerhalb von ${m[1]}`,
  ],
  [
    /^(a never rule (?:before any recording rule silences it|on the user list silences logon messages)): (.+)$/s,
    (m) => `${evidenceTerms[m[1]!]?.de ?? m[1]}: ${m[2]}`,
  ],
  [/^(\d+) bits?$/, (m) => `${m[1]} Bit`],
  [/^(\d+)-bit key \((\d+) bytes\)$/, (m) => `${m[1]}-Bit-Schlüssel (${m[2]} Byte)`],
  [/^(.+) is truncated$/, (m) => `${m[1]} ist abgeschnitten`],
];

function translateOne(value: string): string {
  const term = evidenceTerms[value];
  if (term !== undefined) return term.de;
  for (const [re, build] of patterns) {
    const m = re.exec(value);
    if (m) return build(m, translateDe);
  }
  return value;
}

/** Split at top-level "; " and ", " (not inside parentheses or quotes) and translate each part. */
function translateDe(value: string): string {
  const whole = translateOne(value);
  if (whole !== value) return whole;
  const parts: string[] = [];
  let depth = 0;
  let quote = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch === '"') quote = !quote;
    else if (!quote && (ch === "(" || ch === "{" || ch === "[")) depth++;
    else if (!quote && (ch === ")" || ch === "}" || ch === "]")) depth--;
    else if (!quote && depth === 0 && (ch === ";" || ch === ",") && value[i + 1] === " ") {
      parts.push(value.slice(start, i), `${ch} `);
      start = i + 2;
      i++;
    }
  }
  if (parts.length === 0) return value;
  parts.push(value.slice(start));
  return parts.map((p, i) => (i % 2 === 1 ? p : translateOne(p))).join("");
}

/** An evidence value (or a message's data value) as a reader of `lang` reads it. */
export function evidenceText(value: string, lang: Lang): string {
  return lang === "en" ? value : translateDe(value);
}

/** A message's data record with its text values rendered for `lang` (numbers stay). */
export function localizeData(
  data: Record<string, string | number>,
  lang: Lang,
): Record<string, string | number> {
  if (lang === "en") return data;
  const out: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(data)) out[k] = typeof v === "string" ? translateDe(v) : v;
  return out;
}
