import type { Control, Finding } from "./types.js";
import { ev, fail, notApplicable, pass } from "./util.js";

export const acc02: Control = {
  meta: {
    id: "ACC-02",
    kind: "auto",
    title: { de: "Keine automatische Anmeldung", en: "No automatic login" },
    description: {
      de: "Die Anmeldung erfolgt nie automatisch: weder der Anmeldebildschirm (GDM, LightDM, SDDM) noch eine Konsole (getty) meldet ein Konto ohne Authentisierung an.",
      en: "Login never happens automatically: neither the display manager (GDM, LightDM, SDDM) nor a console (getty) logs an account in without authentication.",
    },
    severity: "high",
    references: ["BSI SYS.2.1.A1", "BSI SYS.2.2.3.A17", "DSGVO Art. 32 Abs. 1 lit. b"],
    sdmGoals: ["vertraulichkeit"],
    art32: ["b"],
    facts: ["accounts"],
    messages: {
      ok: {
        de: "Erwartet keine automatische Anmeldung, gefunden keine.",
        en: "Expected no automatic login, found none.",
      },
      notRequired: {
        de: "Das Profil erlaubt die automatische Anmeldung (spec.accounts.autologin: true).",
        en: "The profile allows automatic login (spec.accounts.autologin: true).",
      },
      autologin: {
        de: "Erwartet keine automatische Anmeldung, gefunden {{kind}} für {{user}} ({{source}}).",
        en: "Expected no automatic login, found {{kind}} for {{user}} ({{source}}).",
      },
    },
    fix: {
      de: "Automatische Anmeldung in der Konfiguration des Anmeldebildschirms abschalten.",
      en: "Turn automatic login off in the display manager's configuration.",
    },
  },
  evaluate(profile, facts) {
    if (profile.spec.accounts.autologin) return [notApplicable("notRequired")];
    const findings: Finding[] = facts.accounts.autologin.map((a) =>
      fail("autologin", { kind: a.kind, user: a.user ?? "(any)", source: a.source }, [
        ev(`${a.kind} autologin`, "off", a.user ?? "on", a.source),
      ]),
    );
    return findings.length > 0 ? findings : [pass("ok")];
  },
};
