import type { Control } from "./types.js";
import { ev, fail, firstAdmittingRule, pass, unitOn, unitState } from "./util.js";

export const usb03: Control = {
  meta: {
    id: "USB-03",
    kind: "auto",
    title: {
      de: "Tastatur-Einschleusung abgewehrt (HID + Massenspeicher abgewiesen)",
      en: "Keystroke-injection combos (HID + storage) rejected",
    },
    description: {
      de: "Geräte, die eine Tastatur-Schnittstelle mit weiteren Klassen wie Massenspeicher verbinden (typisch für Angriffswerkzeuge), werden durch eine reject-Regel abgewiesen, sofern sie nicht das konkret freigegebene Gerät sind.",
      en: "Devices combining a keyboard interface with other classes such as storage (typical of attack tools) are rejected by a reject rule unless they are the specific allowlisted device.",
    },
    severity: "high",
    references: ["BSI SYS.2.3.A14", "DSGVO Art. 32 Abs. 1 lit. b"],
    sdmGoals: ["integritaet", "vertraulichkeit"],
    art32: ["b"],
    facts: ["usb", "services"],
    messages: {
      ok: {
        de: "Erwartet eine reject-Regel für HID + Massenspeicher, gefunden {{rule}}.",
        en: "Expected a reject rule for HID + storage, found {{rule}}.",
      },
      allowedFirst: {
        de: "Erwartet, dass die reject-Regel zuerst greift, gefunden vorher {{rule}} ({{source}}), das solche Geräte zulässt.",
        en: "Expected the reject rule to match first, found {{rule}} ({{source}}) before it, which allows such devices.",
      },
      notEnabled: {
        de: "Erwartet usbguard.service aktiviert (nur der laufende Dienst wendet die Regel an), gefunden {{state}}.",
        en: "Expected usbguard.service enabled (only the running daemon applies the rule), found {{state}}.",
      },
      missing: {
        de: "Erwartet eine Regel wie „reject with-interface all-of { 08:*:* 03:00:* }“, gefunden keine.",
        en: 'Expected a rule like "reject with-interface all-of { 08:*:* 03:00:* }", found none.',
      },
    },
    fix: {
      de: "reject with-interface all-of { 08:*:* 03:00:* } in rules.conf schreiben.",
      en: "Write reject with-interface all-of { 08:*:* 03:00:* } to rules.conf.",
    },
  },
  evaluate(_profile, facts) {
    const rule = facts.usb.rules.find((r) => {
      if ((r.target !== "reject" && r.target !== "block") || r.withInterface === null) return false;
      const values = r.withInterface.values.map((v) => v.toLowerCase());
      return (
        ["all-of", "match-all"].includes(r.withInterface.operator) &&
        values.some((v) => v.startsWith("08:")) &&
        values.some((v) => v.startsWith("03:"))
      );
    });
    // First match wins: a generic allow before the reject rule admits the gadget.
    const admitting = firstAdmittingRule(facts.usb.rules, ["03", "08"]);
    if (rule !== undefined && admitting !== undefined)
      return [
        fail("allowedFirst", { rule: admitting.canonical, source: admitting.source }, [
          ev(
            "first matching rule for HID + storage",
            rule.canonical,
            admitting.canonical,
            admitting.source,
          ),
        ]),
      ];
    if (rule === undefined || !facts.usb.usbguardInstalled)
      return [
        fail("missing", {}, [
          ev(
            "/etc/usbguard/rules.conf",
            "reject with-interface all-of { 08:*:* 03:00:* }",
            "none",
            "/etc/usbguard/rules.conf",
          ),
        ]),
      ];
    // Without the daemon nothing applies the rule: the kernel authorises every device.
    const state = unitState(facts, "usbguard.service");
    if (!unitOn(state))
      return [
        fail("notEnabled", { state }, [
          ev("usbguard.service", "enabled", state, "systemctl is-enabled"),
        ]),
      ];
    return [
      pass("ok", { rule: rule.canonical }, [
        ev("reject rule", "HID + storage rejected", rule.canonical, rule.source),
      ]),
    ];
  },
};
