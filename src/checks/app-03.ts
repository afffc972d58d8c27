import type { Control, Finding } from "./types.js";
import { ev, fail, pass } from "./util.js";

export const app03: Control = {
  meta: {
    id: "APP-03",
    kind: "auto",
    title: {
      de: "Pakete nur aus signierten Quellen (Signed-By, kein trusted=yes)",
      en: "Packages only from signed sources (Signed-By set, no trusted=yes)",
    },
    description: {
      de: "Software wird nur aus signierten, freigegebenen Paketquellen bezogen: keine Quelle mit trusted=yes, und jede Quelle nennt ihren Signaturschlüssel mit Signed-By.",
      en: "Software comes only from signed, approved repositories: no source with trusted=yes, and every source names its signing key with Signed-By.",
    },
    severity: "high",
    references: ["BSI SYS.2.3.A5", "BSI OPS.1.1.3.A10", "DSGVO Art. 32 Abs. 1 lit. b"],
    sdmGoals: ["integritaet"],
    art32: ["b"],
    facts: ["apps"],
    messages: {
      ok: {
        de: "Erwartet signierte Quellen, gefunden {{count|Quelle|Quellen}} mit Signed-By.",
        en: "Expected signed sources, found {{count|source|sources}} with Signed-By.",
      },
      trusted: {
        de: "Erwartet keine Quelle mit trusted=yes, gefunden {{uri}} ({{source}}).",
        en: "Expected no source with trusted=yes, found {{uri}} ({{source}}).",
      },
      signedBy: {
        de: "Erwartet Signed-By für {{uri}}, gefunden keines ({{source}}).",
        en: "Expected Signed-By for {{uri}}, found none ({{source}}).",
      },
    },
    fix: {
      de: "Paketquellen im deb822-Format mit Signed-By neu schreiben.",
      en: "Rewrite the sources in deb822 form with Signed-By.",
    },
  },
  evaluate(_profile, facts) {
    const findings: Finding[] = [];
    for (const s of facts.apps.aptSources) {
      const uri = s.uris.join(" ");
      if (s.trusted)
        findings.push(
          fail("trusted", { uri, source: s.source }, [
            ev(`apt source ${uri}`, "trusted not set", "trusted=yes", s.source),
          ]),
        );
      if (s.signedBy === null || s.signedBy.trim() === "")
        findings.push(
          fail("signedBy", { uri, source: s.source }, [
            ev(`apt source ${uri}`, "Signed-By", "(not set)", s.source),
          ]),
        );
    }
    if (findings.length === 0) findings.push(pass("ok", { count: facts.apps.aptSources.length }));
    return findings;
  },
};
