import type { Control } from "./types.js";
import { attestFindings, attestMessages } from "./util.js";

export const boot03: Control = {
  meta: {
    id: "BOOT-03",
    kind: "attest",
    title: {
      de: "Firmware-Passwort gesetzt, Start nur vom internen Datenträger",
      en: "Firmware password set, boot only from the internal disk",
    },
    description: {
      de: "Die Firmware-Einstellungen sind durch ein Passwort geschützt und die Bootreihenfolge erlaubt nur den internen Datenträger; nur Administratoren dürfen von wechselbaren Medien starten. Dies wird von einer benannten Person bestätigt.",
      en: "Firmware setup is password-protected and the boot order allows only the internal disk; only administrators may boot removable media. A named person attests this.",
    },
    severity: "medium",
    references: ["BSI SYS.2.1.A8", "DSGVO Art. 32 Abs. 1 lit. b"],
    sdmGoals: ["integritaet"],
    art32: ["b"],
    facts: [],
    messages: attestMessages,
    fix: null,
  },
  evaluate(profile) {
    return attestFindings(profile, "BOOT-03");
  },
};
