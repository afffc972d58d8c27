import type { Control, Finding } from "./types.js";
import { ev, falsy, notApplicable, pass, fail, setting, presentPackage } from "./util.js";

function localOnly(listen: string): boolean {
  return /^(localhost|127\.|\[::1\]|::1|\/)/.test(listen.trim());
}

export const data02: Control = {
  meta: {
    id: "DATA-02",
    kind: "auto",
    title: {
      de: "Druckaufträge und Verlauf werden nicht aufbewahrt; CUPS nur lokal",
      en: "Print jobs and history not retained; CUPS local only",
    },
    description: {
      de: "Der Druckdienst bewahrt keine Auftragsdateien und keinen Auftragsverlauf auf, lauscht nur lokal und kündigt keine Drucker im Netz an.",
      en: "The print service keeps no job files and no job history, listens locally only and does not browse or announce printers on the network.",
    },
    severity: "medium",
    references: [
      "BSI SYS.4.1.A17",
      "BSI SYS.4.1.A22",
      "DSGVO Art. 5 Abs. 1 lit. e",
      "DSGVO Art. 32 Abs. 1 lit. b",
    ],
    sdmGoals: ["datenminimierung", "vertraulichkeit"],
    art32: ["b"],
    facts: ["data", "apps"],
    messages: {
      ok: {
        de: "Erwartet keine Aufbewahrung und nur lokalen Zugriff, gefunden {{state}}.",
        en: "Expected no retention and local access only, found {{state}}.",
      },
      notRequired: {
        de: "Das Profil erlaubt die Aufbewahrung von Druckaufträgen.",
        en: "The profile allows print job retention.",
      },
      directive: {
        de: "Erwartet {{key}} No in cupsd.conf, gefunden {{actual}}.",
        en: "Expected {{key}} No in cupsd.conf, found {{actual}}.",
      },
      listen: {
        de: "Erwartet nur lokales Listen, gefunden {{listen}}.",
        en: "Expected local Listen only, found {{listen}}.",
      },
    },
    fix: {
      de: "cupsd.conf mit PreserveJobFiles No, PreserveJobHistory No, Browsing No und Listen localhost schreiben.",
      en: "Write cupsd.conf with PreserveJobFiles No, PreserveJobHistory No, Browsing No and Listen localhost.",
    },
  },
  evaluate(profile, facts) {
    if (profile.spec.data.printJobRetention) return [notApplicable("notRequired")];
    const cupsd = facts.data.cupsd;
    if (
      presentPackage(facts, "cups-daemon") === undefined &&
      Object.keys(cupsd).length === 0 &&
      facts.data.cupsdListen.length === 0
    )
      return [pass("ok", { state: "CUPS not installed" })];
    const findings: Finding[] = [];
    for (const key of ["PreserveJobFiles", "PreserveJobHistory", "Browsing"]) {
      const found = setting(cupsd, key);
      // CUPS defaults: PreserveJobHistory Yes, PreserveJobFiles 1d, Browsing Yes in Debian's file.
      if (!falsy(found?.value))
        findings.push(
          fail("directive", { key, actual: found?.value ?? "(not set: CUPS default)" }, [
            ev(
              `cupsd.conf ${key}`,
              "No",
              found?.value ?? "(not set)",
              found?.source ?? "/etc/cups/cupsd.conf",
            ),
          ]),
        );
    }
    for (const listen of facts.data.cupsdListen)
      if (!localOnly(listen))
        findings.push(
          fail("listen", { listen }, [
            ev("cupsd.conf Listen/Port", "localhost or socket", listen, "/etc/cups/cupsd.conf"),
          ]),
        );
    if (findings.length === 0)
      findings.push(
        pass("ok", { state: "PreserveJobFiles No, PreserveJobHistory No, Browsing No" }),
      );
    return findings;
  },
};
