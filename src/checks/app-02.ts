import type { Control, Finding } from "./types.js";
import { ev, fail, pass, presentPackage } from "./util.js";

export const app02: Control = {
  meta: {
    id: "APP-02",
    kind: "auto",
    title: {
      de: "Installierte Software entspricht dem freigegebenen Stand",
      en: "Installed software equals the approved set",
    },
    description: {
      de: "Kein im Profil verbotenes Paket ist installiert (z. B. Compiler, Fernwartungswerkzeuge), und jede Desktop-Anwendung gehört zu einem freigegebenen Paket (Referenzumgebung).",
      en: "No package the profile denies is installed (e.g. compilers, remote-support tools), and every desktop application belongs to an approved package (reference environment).",
    },
    severity: "high",
    references: [
      "BSI SYS.2.1.A15",
      "BSI SYS.2.1.A16",
      "BSI SYS.2.1.A30",
      "DSGVO Art. 32 Abs. 1 lit. b",
    ],
    sdmGoals: ["integritaet", "datenminimierung"],
    art32: ["b"],
    facts: ["apps"],
    messages: {
      ok: {
        de: "Erwartet nur freigegebene Software, gefunden {{apps|Desktop-Anwendung|Desktop-Anwendungen}}, alle freigegeben, und kein verbotenes Paket.",
        en: "Expected approved software only, found {{apps|desktop application|desktop applications}}, all approved, and no denied package.",
      },
      denied: {
        de: "Erwartet das verbotene Paket {{package}} nicht installiert, gefunden Version {{version}}.",
        en: "Expected denied package {{package}} not installed, found version {{version}}.",
      },
      desktopApp: {
        de: "Erwartet nur freigegebene Desktop-Anwendungen, gefunden {{name}} aus {{package}} ({{path}}).",
        en: "Expected approved desktop applications only, found {{name}} from {{package}} ({{path}}).",
      },
    },
    fix: {
      de: "Verbotene Pakete entfernen, freigegebene installieren.",
      en: "Remove denied packages, install approved ones.",
    },
  },
  evaluate(profile, facts) {
    const findings: Finding[] = [];
    const apps = profile.spec.apps;
    for (const name of apps.deny) {
      const pkg = presentPackage(facts, name);
      if (pkg !== undefined)
        findings.push(
          fail("denied", { package: name, version: pkg.version }, [
            ev(
              `package ${name}`,
              "not installed",
              `${pkg.version} (${pkg.status})`,
              "/var/lib/dpkg/status",
            ),
          ]),
        );
    }
    // What a GNOME session shows: the first entry of each desktop-file id in XDG_DATA_DIRS
    // order, unless it is NoDisplay or Hidden (an override that hides a package's launcher).
    const visible = facts.apps.desktopEntries.filter(
      (d) => d.shadowedBy === undefined && d.notShown === undefined && !d.noDisplay && !d.hidden,
    );
    if (apps.desktopApps === "strict")
      for (const entry of visible)
        if (entry.package === null || !apps.allow.includes(entry.package))
          findings.push(
            fail(
              "desktopApp",
              { name: entry.name, package: entry.package ?? "(no package)", path: entry.path },
              [
                ev(
                  entry.path,
                  "a package in spec.apps.allow",
                  entry.package ?? "(no package)",
                  entry.path,
                ),
              ],
            ),
          );
    if (findings.length === 0) findings.push(pass("ok", { apps: visible.length }));
    return findings;
  },
};
