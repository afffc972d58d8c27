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

export const disk02: Control = {
  meta: {
    id: "DISK-02",
    kind: "auto",
    title: {
      de: "Verschlüsselungsverfahren AES-XTS mit 512-Bit-Schlüssel",
      en: "Data segments use AES-XTS with a 512-bit key",
    },
    description: {
      de: "Die Datensegmente der verschlüsselten Datenträger verwenden AES im XTS-Modus mit einem 512-Bit-XTS-Schlüssel (AES-256); andere Verfahren sind nach BSI TR-02102-1 nicht zulässig.",
      en: "The data segments of the encrypted volumes use AES in XTS mode with a 512-bit XTS key (AES-256); BSI TR-02102-1 recommends no other block cipher.",
    },
    severity: "high",
    references: ["BSI CON.1.A1", "BSI TR-02102-1", "DSGVO Art. 32 Abs. 1 lit. a"],
    sdmGoals: ["vertraulichkeit"],
    art32: ["a"],
    facts: ["disk"],
    messages: {
      ok: {
        de: "Erwartet aes-xts-plain64 mit 512 Bit, gefunden aes-xts-plain64 mit 512 Bit auf {{volume}}.",
        en: "Expected aes-xts-plain64 with 512 bits, found aes-xts-plain64 with 512 bits on {{volume}}.",
      },
      cipher: {
        de: "Erwartet aes-xts-plain64, gefunden {{cipher}} im Segment {{segment}} von {{volume}}.",
        en: "Expected aes-xts-plain64, found {{cipher}} in segment {{segment}} of {{volume}}.",
      },
      keySize: {
        de: "Erwartet einen 512-Bit-Schlüssel, gefunden {{bits}} Bit auf {{volume}}.",
        en: "Expected a 512-bit key, found {{bits}} bits on {{volume}}.",
      },
      keySizeUnknown: {
        de: "Erwartet einen 512-Bit-Schlüssel, gefunden keinen Schlüsselplatz, der die Größe zeigt, auf {{volume}}.",
        en: "Expected a 512-bit key, found no keyslot showing the key size on {{volume}}.",
      },
      noSegments: {
        de: "Erwartet ein crypt-Datensegment, gefunden keines auf {{volume}}.",
        en: "Expected a crypt data segment, found none on {{volume}}.",
      },
      ...volumeMessages,
    },
    fix: {
      de: "Datenträger neu verschlüsseln: koffer provision --confirm-reencrypt (cryptsetup reencrypt auf aes-xts-plain64 mit 512-Bit-Schlüssel; dauert je nach Größe Stunden, eine Unterbrechung setzt der nächste Lauf fort).",
      en: "Re-encrypt the volume: koffer provision --confirm-reencrypt (cryptsetup reencrypt to aes-xts-plain64 with a 512-bit key; takes hours on a large disk, an interruption is resumed by the next run).",
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
      const subject = `LUKS volume ${volume.device}`;
      const before = findings.length;
      const segments = volume.segments.filter((s) => s.type === "crypt");
      if (segments.length === 0)
        findings.push(
          fail("noSegments", { volume: label }, [
            ev(subject, "a crypt segment", "none", volume.source),
          ]),
        );
      for (const segment of segments)
        if (segment.encryption !== "aes-xts-plain64")
          findings.push(
            fail("cipher", { cipher: segment.encryption, segment: segment.id, volume: label }, [
              ev(
                `${subject} segment ${segment.id}`,
                "aes-xts-plain64",
                segment.encryption,
                volume.source,
              ),
            ]),
          );
      // All keyslots of a volume hold the same volume key, so any slot shows its size.
      const sizes = [...new Set(volume.keyslots.map((k) => k.keyBytes))];
      if (sizes.length === 0)
        findings.push(
          fail("keySizeUnknown", { volume: label }, [
            ev(subject, "512-bit key", "no keyslot", volume.source),
          ]),
        );
      for (const bytes of sizes)
        if (bytes !== 64)
          findings.push(
            fail("keySize", { bits: bytes * 8, volume: label }, [
              ev(
                subject,
                "512-bit key (64 bytes)",
                `${bytes * 8}-bit key (${bytes} bytes)`,
                volume.source,
              ),
            ]),
          );
      if (findings.length === before)
        findings.push(
          pass("ok", { volume: label }, [
            ev(subject, "aes-xts-plain64, 512 bits", "aes-xts-plain64, 512 bits", volume.source),
          ]),
        );
    }
    if (findings.length === 0) findings.push(noVolumesFinding(facts));
    return findings;
  },
};
