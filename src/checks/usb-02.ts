import type { Control, Finding } from "./types.js";
import { ev, fail, falsy, firstAdmittingRule, pass, presentPackage } from "./util.js";

/**
 * Both drivers: `blacklist usb_storage` alone leaves UAS disks working, since udev loads
 * `uas` by its own alias and modprobe pulls usb_storage in as its dependency.
 */
const storageModules = ["usb_storage", "uas"];

export const usb02: Control = {
  meta: {
    id: "USB-02",
    kind: "auto",
    title: {
      de: "USB-Massenspeicher gesperrt (Klasse 08), kein automatisches Einbinden",
      en: "USB mass storage blocked (class 08), no automount",
    },
    description: {
      de: "USB-Massenspeicher sind gesperrt, auch in Verbundgeräten mit Speicherschnittstelle (Klasse 08): keine allow-Regel für 08:*:*, das Kernelmodul usb_storage ist gesperrt, und Wechseldatenträger werden nicht automatisch eingebunden.",
      en: "USB mass storage is blocked, also in composite devices exposing a storage interface (class 08): no allow rule for 08:*:*, the usb_storage kernel module is blocked, and removable media are never automounted.",
    },
    severity: "critical",
    references: ["BSI SYS.2.1.A24", "BSI SYS.2.3.A6", "BSI SYS.4.5", "DSGVO Art. 32 Abs. 1 lit. b"],
    sdmGoals: ["vertraulichkeit", "datenminimierung"],
    art32: ["b"],
    facts: ["usb", "apps", "accounts"],
    messages: {
      ok: {
        de: "Erwartet Massenspeicher gesperrt, gefunden keine allow-Regel für Klasse 08 und {{modules}} gesperrt.",
        en: "Expected mass storage blocked, found no allow rule for class 08 and {{modules}} blocked.",
      },
      notRequired: {
        de: "Das Profil verlangt keine Sperre von Massenspeichern (spec.devices.blockMassStorage: false).",
        en: "The profile does not require blocking mass storage (spec.devices.blockMassStorage: false).",
      },
      allowRule: {
        de: "Erwartet keine allow-Regel für Massenspeicher, gefunden {{rule}} ({{source}}).",
        en: "Expected no allow rule for mass storage, found {{rule}} ({{source}}).",
      },
      module: {
        de: "Erwartet das Kernelmodul {{module}} gesperrt (modprobe.d blacklist/install /bin/false), gefunden nicht gesperrt.",
        en: "Expected kernel module {{module}} blocked (modprobe.d blacklist/install /bin/false), found it loadable.",
      },
      automount: {
        de: "Erwartet org/gnome/desktop/media-handling/automount=false (gesperrt), gefunden {{actual}}.",
        en: "Expected org/gnome/desktop/media-handling/automount=false (locked), found {{actual}}.",
      },
    },
    fix: {
      de: "USBGuard-Regeln ohne Klasse 08 schreiben, usb_storage in modprobe.d sperren, automount per dconf abschalten und sperren.",
      en: "Write USBGuard rules without class 08, block usb_storage in modprobe.d, turn automount off and lock it with dconf.",
    },
  },
  evaluate(profile, facts) {
    const findings: Finding[] = [];
    if (!profile.spec.devices.blockMassStorage)
      return [{ status: "not-applicable", messageId: "notRequired", data: {} }];
    // The first matching rule decides (usbguard-rules.conf(5)): a generic allow — `allow`,
    // `allow id *:*`, `allow with-interface one-of { … }` — admits storage unless a rule
    // before it stops every storage device.
    const rule = firstAdmittingRule(facts.usb.rules, ["08"]);
    if (rule !== undefined)
      findings.push(
        fail("allowRule", { rule: rule.canonical, source: rule.source }, [
          ev("allow rule", "no rule admitting class 08", rule.canonical, rule.source),
        ]),
      );
    for (const module of storageModules)
      if (!facts.usb.modprobeBlocked.includes(module))
        findings.push(
          fail("module", { module }, [
            ev(`kernel module ${module}`, "blocked", "loadable", "/etc/modprobe.d"),
          ]),
        );
    if (presentPackage(facts, "udisks2") !== undefined) {
      const key = "org/gnome/desktop/media-handling/automount";
      const value = facts.accounts.dconf.keys[key];
      const locked = facts.accounts.dconf.locks.some((l) => l.replace(/^\//, "") === key);
      if (!falsy(value?.value) || !locked)
        findings.push(
          fail(
            "automount",
            { actual: `${value?.value ?? "(not set)"}${locked ? " (locked)" : " (not locked)"}` },
            [
              ev(
                key,
                "false, locked",
                `${value?.value ?? "(not set)"}${locked ? ", locked" : ", not locked"}`,
                value?.source ?? "/etc/dconf/db",
              ),
            ],
          ),
        );
    }
    if (findings.length === 0) findings.push(pass("ok", { modules: storageModules.join(", ") }));
    return findings;
  },
};
