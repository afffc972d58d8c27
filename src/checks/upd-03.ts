import type { Control } from "./types.js";
import { ev, fail, notApplicable, pass, skip } from "./util.js";

export const upd03: Control = {
  meta: {
    id: "UPD-03",
    kind: "situational",
    title: { de: "Firmware aktuell", en: "Firmware current" },
    description: {
      de: "Firmware (UEFI, TPM, Modem, Leser) hat den aktuellen Sicherheitsstand des Herstellers (fwupd). Gilt nur, wenn das Profil Firmware-Updates vorsieht.",
      en: "Firmware (UEFI, TPM, modem, reader) is at the vendor's current security level (fwupd). Applies only when the profile asks for firmware updates.",
    },
    severity: "low",
    references: ["BSI SYS.2.1.A14", "DSGVO Art. 32 Abs. 1 lit. b"],
    sdmGoals: ["integritaet"],
    art32: ["b"],
    facts: ["updates"],
    messages: {
      ok: {
        de: "Erwartet keine ausstehenden Firmware-Sicherheitsupdates, gefunden keine.",
        en: "Expected no pending firmware security updates, found none.",
      },
      pending: {
        de: "Erwartet keine ausstehenden Firmware-Sicherheitsupdates, gefunden {{count}}.",
        en: "Expected no pending firmware security updates, found {{count}}.",
      },
      notApplicable: {
        de: "Das Profil sieht keine Firmware-Prüfung vor (spec.updates.firmware).",
        en: "The profile does not ask for firmware checks (spec.updates.firmware).",
      },
      unavailable: {
        de: "Nicht prüfbar auf diesem Ziel: {{reason}}.",
        en: "Cannot be judged on this target: {{reason}}.",
      },
    },
    fix: null,
  },
  evaluate(profile, facts) {
    if (profile.spec.updates.firmware !== true) return [notApplicable("notApplicable")];
    const fw = facts.updates.fwupd;
    if (!fw.available) return [skip("unavailable", { reason: fw.reason })];
    const count = fw.value.pendingSecurityUpdates;
    return count === 0
      ? [pass("ok", {}, [ev("fwupd", "0 pending", "0 pending", fw.source)])]
      : [fail("pending", { count }, [ev("fwupd", "0 pending", `${count} pending`, fw.source)])];
  },
};
