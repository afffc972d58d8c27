import type { Control } from "./types.js";
import { ev, fail, pass, skip } from "./util.js";

export const boot02: Control = {
  meta: {
    id: "BOOT-02",
    kind: "auto",
    title: { de: "TPM 2.0 vorhanden und nutzbar", en: "TPM 2.0 present and usable" },
    description: {
      de: "Ein TPM 2.0 ist vorhanden, gehört der Plattform und ist nutzbar; es ist nicht durch Benutzer abgeschaltet. Es ist Voraussetzung für das Entsperren mit TPM und PIN.",
      en: "A TPM 2.0 is present, owned by the platform and usable; users have not disabled it. It is the basis of TPM-plus-PIN unlocking.",
    },
    severity: "medium",
    references: ["BSI SYS.2.1.A36", "DSGVO Art. 32 Abs. 1 lit. b"],
    sdmGoals: ["integritaet", "vertraulichkeit"],
    art32: ["b"],
    facts: ["boot"],
    messages: {
      ok: {
        de: "Erwartet TPM 2.0, gefunden TPM {{version}}.",
        en: "Expected TPM 2.0, found TPM {{version}}.",
      },
      missing: {
        de: "Erwartet TPM 2.0, gefunden {{actual}}.",
        en: "Expected TPM 2.0, found {{actual}}.",
      },
      unavailable: {
        de: "Nicht prüfbar auf diesem Ziel: {{reason}}.",
        en: "Cannot be judged on this target: {{reason}}.",
      },
    },
    fix: null,
  },
  evaluate(_profile, facts) {
    const tpm = facts.boot.tpm;
    if (!tpm.available) return [skip("unavailable", { reason: tpm.reason })];
    const { present, version } = tpm.value;
    if (present && version === 2)
      return [pass("ok", { version: "2.0" }, [ev("TPM", "TPM 2.0", "TPM 2.0", tpm.source)])];
    const actual = present ? `TPM ${version ?? "unknown version"}` : "no TPM";
    return [fail("missing", { actual }, [ev("TPM", "TPM 2.0", actual, tpm.source)])];
  },
};
