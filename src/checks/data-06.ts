import type { Control } from "./types.js";
import { attestFindings, attestMessages } from "./util.js";

export const data06: Control = {
  meta: {
    id: "DATA-06",
    kind: "attest",
    title: {
      de: "Sichtschutzfilter, Kabelschloss, Verlustmeldeweg",
      en: "Privacy filter, cable lock, loss reporting path",
    },
    description: {
      de: "Sichtschutzfolie, Kabelschloss und ein festgelegter Meldeweg bei Verlust (einschließlich Sperrung des VPN-Zertifikats) sind vorhanden. Dies wird von einer benannten Person bestätigt.",
      en: "A privacy filter, a cable lock and a defined loss-reporting path (including revoking the VPN certificate) are in place. A named person attests this.",
    },
    severity: "low",
    references: [
      "BSI CON.7.A4",
      "BSI SYS.3.1.A12",
      "BSI SYS.3.1.A18",
      "DSGVO Art. 33",
      "DSGVO Art. 32 Abs. 1 lit. b",
    ],
    sdmGoals: ["vertraulichkeit", "intervenierbarkeit"],
    art32: ["b"],
    facts: [],
    messages: attestMessages,
    fix: null,
  },
  evaluate(profile) {
    return attestFindings(profile, "DATA-06");
  },
};
