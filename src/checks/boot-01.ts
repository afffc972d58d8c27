import type { Control } from "./types.js";
import { attestationFor, ev, fail, notApplicable, pass, skip } from "./util.js";

export const boot01: Control = {
  meta: {
    id: "BOOT-01",
    kind: "auto",
    title: { de: "UEFI Secure Boot aktiv", en: "UEFI Secure Boot enabled" },
    description: {
      de: "UEFI Secure Boot ist eingeschaltet und wird durchgesetzt, sodass nur signierte Bootloader und Kernel starten. Bei einem Abbild ohne laufende Firmware wird der Zustand durch eine Bestätigung im Profil belegt.",
      en: "UEFI Secure Boot is enabled and enforcing, so only signed boot loaders and kernels start. For an image without running firmware the state is evidenced by an attestation in the profile.",
    },
    severity: "high",
    references: ["BSI SYS.2.1.A8", "BSI SYS.2.1.A36", "DSGVO Art. 32 Abs. 1 lit. b"],
    sdmGoals: ["integritaet"],
    art32: ["b"],
    facts: ["boot"],
    messages: {
      ok: {
        de: "Erwartet Secure Boot aktiv, gefunden aktiv.",
        en: "Expected Secure Boot enabled, found enabled.",
      },
      disabled: {
        de: "Erwartet Secure Boot aktiv, gefunden abgeschaltet.",
        en: "Expected Secure Boot enabled, found disabled.",
      },
      attested: {
        de: "Secure Boot auf diesem Abbild bestätigt durch {{by}} am {{date}}.",
        en: "Secure Boot on this image attested by {{by}} on {{date}}.",
      },
      unavailable: {
        de: "Nicht prüfbar auf diesem Ziel: {{reason}}.",
        en: "Cannot be judged on this target: {{reason}}.",
      },
      notRequired: {
        de: "Das Profil verlangt kein Secure Boot.",
        en: "The profile does not require Secure Boot.",
      },
    },
    fix: null,
  },
  evaluate(profile, facts) {
    if (!profile.spec.boot.secureBoot) return [notApplicable("notRequired")];
    const sb = facts.boot.secureBoot;
    if (sb.available)
      return sb.value
        ? [pass("ok", {}, [ev("Secure Boot", "enabled", "enabled", sb.source)])]
        : [fail("disabled", {}, [ev("Secure Boot", "enabled", "disabled", sb.source)])];
    const attestation = attestationFor(profile, "BOOT-01");
    if (attestation !== undefined)
      return [
        pass("attested", { by: attestation.by, date: attestation.date }, [
          ev(
            "Secure Boot",
            "enabled",
            `attested: ${attestation.statement}`,
            "profile spec.attestations",
          ),
        ]),
      ];
    return [skip("unavailable", { reason: sb.reason })];
  },
};
