import { releaseOf } from "../platform/releases.js";
import type { Control, Finding } from "./types.js";
import { ev, fail, pass } from "./util.js";

const rollingSuites = /^(sid|unstable|testing|experimental|rolling)$/;

export const upd02: Control = {
  meta: {
    id: "UPD-02",
    kind: "auto",
    title: {
      de: "Unterstütztes Betriebssystem, kein Rolling Release",
      en: "Supported OS release, no rolling release",
    },
    description: {
      de: "Das Betriebssystem ist die vom Profil vorgesehene, vom Hersteller mit Sicherheitsupdates versorgte Version; Rolling-Release-Zweige (testing, unstable) werden nicht verwendet.",
      en: "The operating system is the release the profile names and the vendor supports with security updates; rolling branches (testing, unstable) are not used.",
    },
    severity: "high",
    references: ["BSI SYS.2.1.A14", "BSI SYS.2.3.A4", "DSGVO Art. 32 Abs. 1 lit. b"],
    sdmGoals: ["integritaet", "verfuegbarkeit"],
    art32: ["b"],
    facts: ["updates", "apps"],
    messages: {
      ok: {
        de: "Erwartet {{expected}}, gefunden {{actual}}.",
        en: "Expected {{expected}}, found {{actual}}.",
      },
      release: {
        de: "Erwartet {{expected}}, gefunden {{actual}}.",
        en: "Expected {{expected}}, found {{actual}}.",
      },
      rolling: {
        de: "Erwartet keine Rolling-Release-Quelle, gefunden {{suite}} ({{source}}).",
        en: "Expected no rolling-release source, found {{suite}} ({{source}}).",
      },
    },
    fix: null,
  },
  evaluate(profile, facts) {
    const findings: Finding[] = [];
    const want = releaseOf(profile.spec.platform);
    const os = facts.updates.osRelease;
    const expected = `debian ${want.versionId}`;
    const actual =
      os["PRETTY_NAME"] ?? `${os["ID"] ?? "unknown"} ${os["VERSION_ID"] ?? "(no VERSION_ID)"}`;
    // The judged release (os-release and debian_version agree) when the facts carry it:
    // a testing root says "trixie/sid" in debian_version whatever os-release claims.
    const judged = facts.updates.release;
    if (
      os["ID"] !== "debian" ||
      os["VERSION_ID"] !== want.versionId ||
      (judged !== undefined && judged.platform !== want.platform)
    )
      findings.push(
        fail("release", { expected, actual }, [
          ev("/etc/os-release", expected, actual, "/etc/os-release"),
        ]),
      );
    for (const s of facts.apps.aptSources)
      for (const suite of s.suites)
        if (rollingSuites.test(suite.split("-")[0] as string))
          findings.push(
            fail("rolling", { suite, source: s.source }, [
              ev(`apt source ${s.uris.join(" ")}`, "a stable suite", suite, s.source),
            ]),
          );
    if (findings.length === 0) findings.push(pass("ok", { expected, actual }));
    return findings;
  },
};
