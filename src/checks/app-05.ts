import type { Control } from "./types.js";
import { notApplicable } from "./util.js";

export const app05: Control = {
  meta: {
    id: "APP-05",
    kind: "situational",
    title: {
      de: "Stammzertifikate entsprechen dem freigegebenen Stand",
      en: "Root CA set matches the baseline",
    },
    description: {
      de: "Die Menge der vertrauenswürdigen Stammzertifizierungsstellen (System und Browser für ein webbasiertes Fachverfahren) ist minimal und entspricht dem dokumentierten Stand. Gilt nur, wenn das Profil einen solchen Stand festlegt.",
      en: "The set of trusted root CAs (system and the browser used for a web Fachverfahren) is minimal and matches the documented baseline. Applies only when the profile defines such a baseline.",
    },
    severity: "medium",
    references: ["BSI SYS.2.1.A35", "DSGVO Art. 32 Abs. 1 lit. b"],
    sdmGoals: ["vertraulichkeit", "integritaet"],
    art32: ["b"],
    facts: ["apps"],
    messages: {
      notApplicable: {
        de: "Das Profil legt keinen Stand der Stammzertifikate fest.",
        en: "The profile defines no root CA baseline.",
      },
    },
    fix: null,
  },
  // The profile language has no root-CA baseline yet; until it does, this control cannot apply.
  evaluate() {
    return [notApplicable("notApplicable")];
  },
};
