import type { Control } from "./types.js";
import { attestFindings, attestMessages } from "./util.js";

export const acc06: Control = {
  meta: {
    id: "ACC-06",
    kind: "attest",
    title: {
      de: "Persönliche Konten, kein Sammelkonto",
      en: "Personal accounts, no shared account",
    },
    description: {
      de: "Jede Mitarbeiterin und jeder Mitarbeiter meldet sich mit einem persönlichen Konto an; es gibt kein gemeinsam genutztes Konto. Dies wird von einer benannten Person bestätigt.",
      en: "Every staff member logs in with a personal account; there is no shared account. A named person attests this.",
    },
    severity: "medium",
    references: ["BSI ORP.4.A9", "BSI ORP.4.A21", "DSGVO Art. 32 Abs. 1 lit. b"],
    sdmGoals: ["transparenz", "intervenierbarkeit"],
    art32: ["b"],
    facts: [],
    messages: attestMessages,
    fix: null,
  },
  evaluate(profile) {
    return attestFindings(profile, "ACC-06");
  },
};
