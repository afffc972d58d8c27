import type { Control, Finding } from "./types.js";
import { countOf } from "../i18n/format.js";
import {
  enrolUnit,
  ev,
  fail,
  firstBootEnrolment,
  list,
  pass,
  pending,
  unreadable,
  unreadableFinding,
  volumeLabel,
  noVolumesFinding,
  volumeMessages,
} from "./util.js";

const recoveryTokens = new Set(["systemd-recovery", "koffer-recovery"]);
const boundTokens = new Set(["systemd-tpm2", "systemd-fido2", "systemd-pkcs11"]);

export const disk05: Control = {
  meta: {
    id: "DISK-05",
    kind: "auto",
    title: {
      de: "Genau ein hinterlegter Wiederherstellungsschlüssel, keine weiteren Passphrasen",
      en: "Exactly one escrowed recovery key, no stray passphrase slots",
    },
    description: {
      de: "Es gibt genau einen Wiederherstellungsschlüssel; er ist vor der Ausgabe des Geräts außerhalb des Geräts hinterlegt (kommunaler Schlüsselspeicher), und es gibt keine weiteren Passphrasen-Schlüsselplätze.",
      en: "Exactly one recovery key exists; it is escrowed off the device (municipal key store) before the device is released, and there are no other passphrase keyslots.",
    },
    severity: "high",
    references: ["BSI SYS.2.1.A28", "BSI CON.1.A2", "DSGVO Art. 32 Abs. 1 lit. c"],
    sdmGoals: ["verfuegbarkeit", "vertraulichkeit"],
    art32: ["a", "c"],
    facts: ["disk", "services"],
    messages: {
      ok: {
        de: "Erwartet genau einen hinterlegten Wiederherstellungsschlüssel, gefunden Schlüsselplatz {{keyslot}} auf {{volume}}.",
        en: "Expected exactly one escrowed recovery key, found keyslot {{keyslot}} on {{volume}}.",
      },
      recoveryCount: {
        de: "Erwartet genau einen Wiederherstellungsschlüssel, gefunden {{count}} auf {{volume}}.",
        en: "Expected exactly one recovery key, found {{count}} on {{volume}}.",
      },
      strayPassphrase: {
        de: "Erwartet höchstens {{allowed|Passphrasen-Schlüsselplatz|Passphrasen-Schlüsselplätze}}, gefunden {{count}} ({{keyslots}}) auf {{volume}}.",
        en: "Expected at most {{allowed|passphrase keyslot|passphrase keyslots}}, found {{count}} ({{keyslots}}) on {{volume}}.",
      },
      strayPassphrasePending: {
        de: "Schlüsselplatz {{keyslot}} (Passphrase des Technikers) auf {{volume}} wird beim ersten Start von {{unit}} nach der TPM2+PIN-Registrierung entfernt (ausstehend).",
        en: "Keyslot {{keyslot}} (the technician's passphrase) on {{volume}} is removed by {{unit}} at first boot, after TPM2+PIN enrolment (pending).",
      },
      notEscrowed: {
        de: "Erwartet einen Hinterlegungsnachweis für Schlüsselplatz {{keyslot}} von {{volume}}, gefunden keinen.",
        en: "Expected an escrow record for keyslot {{keyslot}} of {{volume}}, found none.",
      },
      ...volumeMessages,
    },
    fix: {
      de: "Wiederherstellungsschlüssel erzeugen, mit dem Hinterlegungszertifikat verschlüsseln und hinterlegen; überzählige Schlüsselplätze entfernen.",
      en: "Generate a recovery key, encrypt it to the escrow certificate and escrow it; remove stray keyslots.",
    },
  },
  evaluate(profile, facts) {
    const findings: Finding[] = [];
    const allowedPassphrases = profile.spec.disk.unlock === "passphrase" ? 1 : 0;
    for (const volume of facts.disk.volumes) {
      if (unreadable(volume)) {
        findings.push(unreadableFinding(volume));
        continue;
      }
      const label = volumeLabel(volume);
      const subject = `LUKS volume ${volume.device}`;
      const before = findings.length;
      const recovery = [
        ...new Set(
          volume.tokens.filter((t) => recoveryTokens.has(t.type)).flatMap((t) => t.keyslots),
        ),
      ];
      const bound = new Set(
        volume.tokens.filter((t) => boundTokens.has(t.type)).flatMap((t) => t.keyslots),
      );
      const passphrases = volume.keyslots
        .map((k) => k.id)
        .filter((id) => !bound.has(id) && !recovery.includes(id));
      if (recovery.length !== 1)
        findings.push(
          fail("recoveryCount", { count: recovery.length, volume: label }, [
            ev(
              subject,
              "1 recovery keyslot",
              countOf(recovery.length, "recovery keyslot", "recovery keyslots"),
              volume.source,
            ),
          ]),
        );
      // An image provisioned without a reachable TPM keeps the technician's passphrase until
      // its first boot: koffer-tpm2-enrol enrols TPM2+PIN, proves the token, then wipes the
      // slot the passphrase opens. One such slot with the enrolment in place is pending.
      const awaitingFirstBoot =
        profile.spec.disk.unlock === "tpm2+pin" &&
        !volume.tokens.some((t) => t.type === "systemd-tpm2") &&
        passphrases.length === allowedPassphrases + 1
          ? firstBootEnrolment(facts, volume, label, profile.spec.disk.tpm2Pcrs)
          : null;
      if (awaitingFirstBoot?.kind === "pending")
        findings.push(
          pending(
            "strayPassphrasePending",
            { keyslot: passphrases[0] ?? "", volume: label, unit: enrolUnit },
            [
              ev(
                subject,
                `${allowedPassphrases} passphrase keyslots after first boot`,
                `keyslot ${passphrases[0] ?? ""}, wiped by ${enrolUnit} at first boot`,
                volume.source,
              ),
              ev(
                enrolUnit,
                "enabled",
                awaitingFirstBoot.unitState,
                awaitingFirstBoot.unit ?? undefined,
              ),
            ],
          ),
        );
      else if (passphrases.length > allowedPassphrases)
        findings.push(
          fail(
            "strayPassphrase",
            {
              allowed: allowedPassphrases,
              count: passphrases.length,
              keyslots: list(passphrases),
              volume: label,
            },
            [
              ev(
                subject,
                `${allowedPassphrases} passphrase keyslots`,
                `keyslots ${list(passphrases)}`,
                volume.source,
              ),
            ],
          ),
        );
      for (const keyslot of recovery) {
        const record = facts.disk.escrowRecords.find(
          (r) => r.keyslot === keyslot && (volume.uuid === null || r.volumeUuid === volume.uuid),
        );
        if (record === undefined)
          findings.push(
            fail("notEscrowed", { keyslot, volume: label }, [
              ev(
                `${subject} keyslot ${keyslot}`,
                "an escrow record",
                "none",
                "/var/lib/koffer/escrow",
              ),
            ]),
          );
      }
      if (findings.length === before)
        findings.push(
          pass("ok", { keyslot: recovery[0] ?? "", volume: label }, [
            ev(
              subject,
              "1 escrowed recovery keyslot",
              `keyslot ${recovery[0] ?? ""} escrowed`,
              volume.source,
            ),
          ]),
        );
    }
    if (findings.length === 0) findings.push(noVolumesFinding(facts));
    return findings;
  },
};
