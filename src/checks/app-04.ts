import type { Control } from "./types.js";
import { attestFindings, attestMessages } from "./util.js";

export const app04: Control = {
  meta: {
    id: "APP-04",
    kind: "attest",
    title: {
      de: "Schutz vor Schadprogrammen oder dokumentierte Gleichwertigkeit",
      en: "Malware protection or a documented equivalent",
    },
    description: {
      de: "Ein Virenschutz ist aktiv oder die Gleichwertigkeit der Maßnahmen (Ausführungskontrolle, Mandatory Access Control, schreibgeschützte Systembereiche) ist dokumentiert und von einer benannten Person bestätigt.",
      en: "Malware protection is active, or the equivalence of the measures (execution control, mandatory access control, read-only system areas) is documented and attested by a named person.",
    },
    severity: "low",
    references: ["BSI SYS.2.1.A6", "BSI OPS.1.1.4.A2", "DSGVO Art. 32 Abs. 1 lit. b"],
    sdmGoals: ["integritaet", "verfuegbarkeit"],
    art32: ["b"],
    facts: [],
    messages: attestMessages,
    fix: null,
  },
  evaluate(profile) {
    return attestFindings(profile, "APP-04");
  },
};
