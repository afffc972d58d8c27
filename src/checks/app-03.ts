import type { Control, Finding } from "./types.js";
import { aptTrue } from "../facts/parsers/apt-sources.js";
import { ev, fail, list, pass } from "./util.js";

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
      weakened: {
        de: "Erwartet keine Quelle, die unsignierte oder schwach signierte Pakete annimmt, gefunden {{option}} für {{uri}} ({{source}}).",
        en: "Expected no source that accepts unsigned or weakly signed packages, found {{option}} for {{uri}} ({{source}}).",
      },
      globalInsecure: {
        de: "Erwartet Signaturprüfung für jede Quelle, gefunden {{key}} = {{value}} ({{source}}).",
        en: "Expected signature checks for every source, found {{key}} = {{value}} ({{source}}).",
      },
      signedBy: {
        de: "Erwartet Signed-By für {{uri}}, gefunden keines ({{source}}).",
        en: "Expected Signed-By for {{uri}}, found none ({{source}}).",
      },
    },
    fix: {
      de: "Debian-Quellen an den Debian-Archivschlüssel binden, andere unsignierte Quellen abschalten (mit Sicherung), Schalter gegen die Signaturprüfung in apt.conf auskommentieren.",
      en: "Pin Debian sources to the Debian archive keyring, switch other unsigned sources off (with a backup), comment out apt.conf switches that turn signature checks off.",
    },
  },
  evaluate(_profile, facts) {
    const findings: Finding[] = [];
    // apt.conf switches that accept unsigned repositories or packages for every source.
    for (const [key, setting] of Object.entries(facts.apps.aptAuthentication ?? {}))
      if (aptTrue(setting.value))
        findings.push(
          fail("globalInsecure", { key, value: setting.value, source: setting.source }, [
            ev(key, "false (not set)", setting.value, setting.source),
          ]),
        );
    for (const s of facts.apps.aptSources) {
      const uri = s.uris.join(" ");
      for (const option of s.weakened ?? [])
        findings.push(
          fail("weakened", { option: `${option}=yes`, uri, source: s.source }, [
            ev(`apt source ${uri}`, `${option} not set`, `${option}=yes`, s.source),
          ]),
        );
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
    if (findings.length === 0) {
      // Which files apt read, and which parts it skips (a .disabled or .save file is no source).
      const read = (facts.apps.aptSourceFiles ?? []).map((f) => f.path);
      const ignored = facts.apps.aptSourcesIgnored ?? [];
      const evidence =
        read.length === 0 && ignored.length === 0
          ? []
          : [
              ev(
                "apt sources",
                "every source apt reads signed",
                `read ${list(read, "(none)")}${ignored.length > 0 ? `; not read by apt: ${list(ignored)}` : ""}`,
              ),
            ];
      findings.push(pass("ok", { count: facts.apps.aptSources.length }, evidence));
    }
    return findings;
  },
};
