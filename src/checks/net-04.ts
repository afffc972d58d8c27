import type { Control, Finding } from "./types.js";
import { ev, fail, isMasked, notApplicable, pass, presentPackage, unitState } from "./util.js";

export const net04: Control = {
  meta: {
    id: "NET-04",
    kind: "auto",
    title: {
      de: "Bluetooth und ungenutzte Funkschnittstellen aus",
      en: "Bluetooth and unused radios off",
    },
    description: {
      de: "Nicht benötigte Funkschnittstellen sind abgeschaltet: Bluetooth ist maskiert oder nicht installiert, und wo der Funkzustand sichtbar ist, ist Bluetooth gesperrt.",
      en: "Unneeded radios are off: Bluetooth is masked or not installed, and where the radio state is visible, Bluetooth is blocked.",
    },
    severity: "medium",
    references: ["BSI SYS.2.1.A16", "BSI SYS.2.1.A21", "DSGVO Art. 32 Abs. 1 lit. b"],
    sdmGoals: ["vertraulichkeit"],
    art32: ["b"],
    facts: ["services", "apps", "network"],
    messages: {
      ok: {
        de: "Erwartet Bluetooth aus, gefunden {{state}}.",
        en: "Expected Bluetooth off, found {{state}}.",
      },
      notApplicable: {
        de: "Das Profil erlaubt Bluetooth (spec.network.bluetooth: true).",
        en: "The profile allows Bluetooth (spec.network.bluetooth: true).",
      },
      unit: {
        de: "Erwartet bluetooth.service maskiert, gefunden {{state}}.",
        en: "Expected bluetooth.service masked, found {{state}}.",
      },
      radio: {
        de: "Erwartet das Funkgerät {{type}} gesperrt, gefunden entsperrt.",
        en: "Expected radio {{type}} blocked, found it unblocked.",
      },
    },
    fix: { de: "bluetooth.service maskieren.", en: "Mask bluetooth.service." },
  },
  evaluate(profile, facts) {
    if (profile.spec.network.bluetooth) return [notApplicable("notApplicable")];
    const findings: Finding[] = [];
    const state = unitState(facts, "bluetooth.service");
    const absent = state === "not-found" && presentPackage(facts, "bluez") === undefined;
    if (!isMasked(state) && !absent)
      findings.push(
        fail("unit", { state }, [ev("bluetooth.service", "masked", state, "systemctl is-enabled")]),
      );
    const rfkill = facts.network.rfkill;
    if (rfkill.available)
      for (const radio of rfkill.value)
        if (radio.type === "bluetooth" && !radio.soft && !radio.hard)
          findings.push(
            fail("radio", { type: radio.type }, [
              ev(`rfkill ${radio.type}`, "blocked", "unblocked", rfkill.source),
            ]),
          );
    if (findings.length === 0)
      findings.push(pass("ok", { state: absent ? "not installed" : state }));
    return findings;
  },
};
