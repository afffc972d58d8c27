import type { Control } from "./types.js";
import { attestFindings, attestMessages } from "./util.js";

export const data05: Control = {
  meta: {
    id: "DATA-05",
    kind: "attest",
    title: {
      de: "Außerbetriebnahme löscht Schlüssel und wird dokumentiert",
      en: "Decommissioning erases keys and is recorded",
    },
    description: {
      de: "Bei Rückgabe oder Außerbetriebnahme werden die Daten kryptografisch gelöscht (alle Schlüsselplätze vernichtet oder Neuinstallation) und die Löschung wird dokumentiert. Das Verfahren wird von einer benannten Person bestätigt.",
      en: "On return or decommissioning the data is erased cryptographically (all keyslots destroyed, or reprovisioning) and the erasure is recorded. A named person attests the procedure.",
    },
    severity: "medium",
    references: [
      "BSI SYS.2.1.A27",
      "BSI SYS.3.1.A7",
      "BSI CON.6.A12",
      "DSGVO Art. 17",
      "DSGVO Art. 32 Abs. 1 lit. b",
    ],
    sdmGoals: ["datenminimierung", "intervenierbarkeit", "vertraulichkeit"],
    art32: ["b"],
    facts: [],
    messages: attestMessages,
    fix: null,
  },
  evaluate(profile) {
    return attestFindings(profile, "DATA-05");
  },
};
