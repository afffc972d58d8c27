import type { Control, Finding } from "./types.js";
import {
  ev,
  fail,
  pass,
  unreadable,
  unreadableFinding,
  volumeLabel,
  noVolumesFinding,
  volumeMessages,
} from "./util.js";

/**
 * Lowest Argon2id memory cost accepted (KiB). cryptsetup benchmarks far more on real
 * hardware; this floor only rejects the toy values of broken or test headers (16 KiB).
 */
export const minArgonMemoryKiB = 32768;

export const disk03: Control = {
  meta: {
    id: "DISK-03",
    kind: "auto",
    title: {
      de: "Passphrasen-Schlüsselplätze mit Argon2id",
      en: "Every passphrase keyslot uses Argon2id",
    },
    description: {
      de: "Jeder Schlüsselplatz, der mit einer Passphrase oder einem Wiederherstellungsschlüssel geöffnet wird, leitet den Schlüssel mit dem speicherintensiven Verfahren Argon2id ab (BSI TR-02102-1). Nur an ein TPM2-Token gebundene Schlüsselplätze sind ausgenommen.",
      en: "Every keyslot opened with a passphrase or recovery key derives its key with the memory-hard Argon2id (BSI TR-02102-1). Only keyslots bound to a TPM2 token are exempt.",
    },
    severity: "high",
    references: ["BSI TR-02102-1", "BSI SYS.2.1.A28", "DSGVO Art. 32 Abs. 1 lit. a"],
    sdmGoals: ["vertraulichkeit"],
    art32: ["a"],
    facts: ["disk"],
    messages: {
      ok: {
        de: "Erwartet Argon2id für alle Passphrasen-Schlüsselplätze, gefunden Argon2id auf {{volume}}.",
        en: "Expected Argon2id for every passphrase keyslot, found Argon2id on {{volume}}.",
      },
      kdf: {
        de: "Erwartet Argon2id, gefunden {{kdf}} in Schlüsselplatz {{keyslot}} von {{volume}}.",
        en: "Expected Argon2id, found {{kdf}} in keyslot {{keyslot}} of {{volume}}.",
      },
      memory: {
        de: "Erwartet mindestens {{min}} KiB Argon2id-Speicher, gefunden {{memory}} KiB in Schlüsselplatz {{keyslot}} von {{volume}}.",
        en: "Expected at least {{min}} KiB of Argon2id memory, found {{memory}} KiB in keyslot {{keyslot}} of {{volume}}.",
      },
      ...volumeMessages,
      luks1Kdf: {
        de: "Erwartet Argon2id, gefunden LUKS1 auf {{volume}}, das nur PBKDF2 kennt (auch ohne aktiven Schlüsselplatz).",
        en: "Expected Argon2id, found LUKS1 on {{volume}}, which supports PBKDF2 only (even with no active keyslot).",
      },
    },
    fix: {
      de: "PBKDF der Schlüsselplätze auf Argon2id umstellen (cryptsetup luksConvertKey, benötigt die Passphrase).",
      en: "Convert the keyslots' PBKDF to Argon2id (cryptsetup luksConvertKey; needs the passphrase).",
    },
  },
  evaluate(_profile, facts) {
    const findings: Finding[] = [];
    for (const volume of facts.disk.volumes) {
      if (unreadable(volume)) {
        findings.push(unreadableFinding(volume));
        continue;
      }
      const label = volumeLabel(volume);
      const tpmSlots = new Set(
        volume.tokens.filter((t) => t.type === "systemd-tpm2").flatMap((t) => t.keyslots),
      );
      const before = findings.length;
      // LUKS1 knows only PBKDF2: judged even when no keyslot is active (every future one is too).
      if (volume.version === 1 && volume.keyslots.length === 0)
        findings.push(
          fail("luks1Kdf", { volume: label }, [
            ev(`LUKS volume ${volume.device}`, "argon2id", "LUKS1: pbkdf2 only", volume.source),
          ]),
        );
      for (const slot of volume.keyslots) {
        if (tpmSlots.has(slot.id)) continue;
        const subject = `LUKS volume ${volume.device} keyslot ${slot.id}`;
        if (slot.kdf.type !== "argon2id") {
          const kdf =
            slot.kdf.hash !== undefined ? `${slot.kdf.type}-${slot.kdf.hash}` : slot.kdf.type;
          findings.push(
            fail("kdf", { kdf, keyslot: slot.id, volume: label }, [
              ev(subject, "argon2id", kdf, volume.source),
            ]),
          );
        } else if (slot.kdf.memory !== undefined && slot.kdf.memory < minArgonMemoryKiB) {
          findings.push(
            fail(
              "memory",
              { min: minArgonMemoryKiB, memory: slot.kdf.memory, keyslot: slot.id, volume: label },
              [
                ev(
                  subject,
                  `argon2id, memory ≥ ${minArgonMemoryKiB} KiB`,
                  `argon2id, memory ${slot.kdf.memory} KiB`,
                  volume.source,
                ),
              ],
            ),
          );
        }
      }
      if (findings.length === before)
        findings.push(
          pass("ok", { volume: label }, [
            ev(`LUKS volume ${volume.device}`, "argon2id", "argon2id", volume.source),
          ]),
        );
    }
    if (findings.length === 0) findings.push(noVolumesFinding(facts));
    return findings;
  },
};
