import type { Control, Finding } from "./types.js";
import { ev, fail, list, pass, setting, unitOn, unitState } from "./util.js";

/** Required daemon settings; upstream's compiled-in defaults apply when a key is absent. */
export const daemonSettings: [key: string, wanted: string[], upstreamDefault: string][] = [
  ["ImplicitPolicyTarget", ["block", "reject"], "block"],
  ["PresentDevicePolicy", ["apply-policy", "block", "reject"], "apply-policy"],
  ["InsertedDevicePolicy", ["apply-policy", "block", "reject"], "apply-policy"],
];

/** Does a rule id pattern (`vvvv:pppp`, `vvvv:*`, `*:*`) cover a concrete id? */
export function covers(pattern: string, id: string): boolean {
  const [pv, pp] = pattern.toLowerCase().split(":");
  const [v, p] = id.toLowerCase().split(":");
  return (pv === "*" || pv === v) && (pp === "*" || pp === p);
}

export const usb01: Control = {
  meta: {
    id: "USB-01",
    kind: "auto",
    title: {
      de: "USBGuard setzt die Geräte-Positivliste durch",
      en: "USBGuard enforces the device allowlist",
    },
    description: {
      de: "USBGuard ist installiert und aktiv; nur die Geräte der Positivliste im Profil (Kartenleser, Fingerabdruckscanner, Unterschriftenpad …) sind erlaubt, alles andere wird beim Einstecken und beim Start blockiert (ImplicitPolicyTarget=block).",
      en: "USBGuard is installed and enabled; only the devices on the profile's allowlist (card reader, fingerprint scanner, signature pad …) are allowed, everything else is blocked at insertion and at start (ImplicitPolicyTarget=block).",
    },
    severity: "critical",
    references: ["BSI SYS.2.3.A14", "BSI SYS.2.1.A24", "DSGVO Art. 32 Abs. 1 lit. b"],
    sdmGoals: ["vertraulichkeit", "integritaet"],
    art32: ["b"],
    facts: ["usb", "services"],
    messages: {
      ok: {
        de: "Erwartet genau die Geräte der Positivliste, gefunden Regeln für {{ids}}.",
        en: "Expected exactly the allowlisted devices, found rules for {{ids}}.",
      },
      notInstalled: {
        de: "Erwartet USBGuard installiert, gefunden nicht installiert.",
        en: "Expected USBGuard installed, found it not installed.",
      },
      notEnabled: {
        de: "Erwartet usbguard.service aktiviert, gefunden {{state}}.",
        en: "Expected usbguard.service enabled, found {{state}}.",
      },
      daemonSetting: {
        de: "Erwartet {{key}}={{expected}} in usbguard-daemon.conf, gefunden {{actual}}.",
        en: "Expected {{key}}={{expected}} in usbguard-daemon.conf, found {{actual}}.",
      },
      ruleErrors: {
        de: "Erwartet eine fehlerfreie Regeldatei, gefunden {{errors}}.",
        en: "Expected a rules file without errors, found {{errors}}.",
      },
      unlisted: {
        de: "Erwartet nur Geräte der Positivliste, gefunden die Regel {{rule}} ({{source}}).",
        en: "Expected only allowlisted devices, found rule {{rule}} ({{source}}).",
      },
      missing: {
        de: "Erwartet eine allow-Regel für {{device}} ({{id}}), gefunden keine.",
        en: "Expected an allow rule for {{device}} ({{id}}), found none.",
      },
      attached: {
        de: "Erwartet nur Geräte der Positivliste angeschlossen, gefunden {{id}} ({{name}}).",
        en: "Expected only allowlisted devices attached, found {{id}} ({{name}}).",
      },
    },
    fix: {
      de: "USBGuard installieren, rules.conf aus der Positivliste und usbguard-daemon.conf schreiben, Dienst aktivieren.",
      en: "Install USBGuard, write rules.conf from the allowlist and usbguard-daemon.conf, enable the service.",
    },
  },
  evaluate(profile, facts) {
    const findings: Finding[] = [];
    const usb = facts.usb;
    if (!usb.usbguardInstalled)
      findings.push(
        fail("notInstalled", {}, [ev("usbguard", "installed", "not installed", "dpkg status")]),
      );
    const state = unitState(facts, "usbguard.service");
    if (!unitOn(state))
      findings.push(
        fail("notEnabled", { state }, [
          ev("usbguard.service", "enabled", state, "systemctl is-enabled"),
        ]),
      );
    if (usb.usbguardInstalled)
      for (const [key, wanted, fallback] of daemonSettings) {
        const found = setting(usb.daemonConf, key);
        const actual = found?.value ?? fallback;
        if (!wanted.includes(actual))
          findings.push(
            fail("daemonSetting", { key, expected: wanted.join("|"), actual }, [
              ev(
                `usbguard-daemon.conf ${key}`,
                wanted.join("|"),
                actual,
                found?.source ?? "/etc/usbguard/usbguard-daemon.conf",
              ),
            ]),
          );
      }
    if (usb.ruleErrors.length > 0)
      findings.push(
        fail(
          "ruleErrors",
          { errors: usb.ruleErrors.map((e) => `${e.source}: ${e.message}`).join("; ") },
          [
            ev(
              "/etc/usbguard/rules.conf",
              "no errors",
              usb.ruleErrors.map((e) => e.source).join(", "),
              usb.ruleErrors[0]?.source,
            ),
          ],
        ),
      );
    const allowed = profile.spec.devices.allow.flatMap((d) =>
      d.usb.map((id) => ({ device: d.name, id })),
    );
    const allowRules = usb.rules.filter((r) => r.target === "allow");
    for (const rule of allowRules) {
      // A rule must name a device id, and every id it names must be on the allowlist.
      const ok =
        rule.ids.length > 0 &&
        rule.ids.every(
          (pattern) =>
            !pattern.includes("*") && allowed.some((a) => a.id === pattern.toLowerCase()),
        );
      if (!ok)
        findings.push(
          fail("unlisted", { rule: rule.canonical, source: rule.source }, [
            ev("allow rule", "an allowlisted device id", rule.canonical, rule.source),
          ]),
        );
    }
    if (usb.usbguardInstalled)
      for (const a of allowed)
        if (!allowRules.some((r) => r.ids.some((pattern) => covers(pattern, a.id))))
          findings.push(
            fail("missing", a, [
              ev(
                `device ${a.device}`,
                `allow rule for ${a.id}`,
                "none",
                "/etc/usbguard/rules.conf",
              ),
            ]),
          );
    if (usb.attached.available)
      for (const d of usb.attached.value)
        if (
          !allowed.some((a) => a.id === d.id.toLowerCase()) &&
          !d.interfaces.every((i) => i.startsWith("09:"))
        )
          findings.push(
            fail("attached", { id: d.id, name: d.name }, [
              ev(
                "attached USB devices",
                "allowlisted ids",
                `${d.id} ${d.name}`,
                usb.attached.source,
              ),
            ]),
          );
    if (findings.length === 0) findings.push(pass("ok", { ids: list(allowed.map((a) => a.id)) }));
    return findings;
  },
};
