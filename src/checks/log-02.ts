import type { Control, Finding } from "./types.js";
import { ev, fail, notApplicable, pass, setting } from "./util.js";

export const log02: Control = {
  meta: {
    id: "LOG-02",
    kind: "auto",
    title: {
      de: "Protokolle dauerhaft, begrenzt, geschützt",
      en: "Logs persistent, bounded, protected",
    },
    description: {
      de: "Das Journal wird dauerhaft gespeichert (Storage=persistent), seine Größe ist begrenzt (SystemMaxUse) und das Protokollverzeichnis ist nicht für alle beschreibbar.",
      en: "The journal is kept persistently (Storage=persistent), its size is bounded (SystemMaxUse) and the log directory is not world-writable.",
    },
    severity: "medium",
    references: [
      "BSI OPS.1.1.5.A5",
      "BSI OPS.1.1.5.A10",
      "DSGVO Art. 5 Abs. 1 lit. c",
      "DSGVO Art. 32 Abs. 1 lit. b",
    ],
    sdmGoals: ["transparenz", "integritaet", "datenminimierung"],
    art32: ["b", "d"],
    facts: ["logging"],
    messages: {
      ok: {
        de: "Erwartet dauerhaftes, begrenztes Journal, gefunden Storage={{storage}}, SystemMaxUse={{max}}.",
        en: "Expected a persistent, bounded journal, found Storage={{storage}}, SystemMaxUse={{max}}.",
      },
      notRequired: {
        de: "Das Profil verlangt kein dauerhaftes Journal.",
        en: "The profile does not require a persistent journal.",
      },
      storage: {
        de: "Erwartet Storage=persistent, gefunden {{actual}}.",
        en: "Expected Storage=persistent, found {{actual}}.",
      },
      unbounded: {
        de: "Erwartet SystemMaxUse gesetzt, gefunden nicht gesetzt.",
        en: "Expected SystemMaxUse set, found it unset.",
      },
      mode: {
        de: "Erwartet {{path}} nicht für alle beschreibbar, gefunden Modus {{mode}}.",
        en: "Expected {{path}} not world-writable, found mode {{mode}}.",
      },
    },
    fix: {
      de: "journald.conf.d mit Storage=persistent und SystemMaxUse schreiben.",
      en: "Write journald.conf.d with Storage=persistent and SystemMaxUse.",
    },
  },
  evaluate(profile, facts) {
    if (!profile.spec.logging.persistentJournal) return [notApplicable("notRequired")];
    const findings: Finding[] = [];
    const journald = facts.logging.journald;
    const storage = setting(journald, "Storage");
    // Storage=auto (the default) is persistent only when /var/log/journal exists.
    const persistent =
      storage?.value === "persistent" ||
      ((storage === undefined || storage.value === "auto") && facts.logging.journalDir !== null);
    if (!persistent)
      findings.push(
        fail("storage", { actual: storage?.value ?? "auto (default) without /var/log/journal" }, [
          ev(
            "journald Storage",
            "persistent",
            storage?.value ?? "(not set)",
            storage?.source ?? "/etc/systemd/journald.conf",
          ),
        ]),
      );
    const max = setting(journald, "SystemMaxUse");
    if (max === undefined || max.value.trim() === "")
      findings.push(
        fail("unbounded", {}, [
          ev("journald SystemMaxUse", "a size", "(not set)", "/etc/systemd/journald.conf"),
        ]),
      );
    const dir = facts.logging.journalDir;
    if (dir !== null && (dir.mode & 0o002) !== 0) {
      const mode = `0${(dir.mode & 0o7777).toString(8)}`;
      findings.push(
        fail("mode", { path: dir.path, mode }, [
          ev(dir.path, "not world-writable", mode, dir.path),
        ]),
      );
    }
    if (findings.length === 0)
      findings.push(pass("ok", { storage: storage?.value ?? "auto", max: max?.value ?? "" }));
    return findings;
  },
};
