import type { Control, Finding } from "./types.js";
import { ev, fail, installed, notApplicable, pass, setting, unitOn, unitState } from "./util.js";

const periodicKeys = ["APT::Periodic::Update-Package-Lists", "APT::Periodic::Unattended-Upgrade"];

export const upd01: Control = {
  meta: {
    id: "UPD-01",
    kind: "auto",
    title: {
      de: "Automatische Sicherheitsupdates täglich",
      en: "Automatic security updates daily",
    },
    description: {
      de: "Sicherheitsupdates werden automatisch und mindestens täglich eingespielt (unattended-upgrades mit APT::Periodic).",
      en: "Security updates are installed automatically and at least daily (unattended-upgrades with APT::Periodic).",
    },
    severity: "high",
    references: ["BSI SYS.2.1.A3", "BSI OPS.1.1.3.A15", "DSGVO Art. 32 Abs. 1 lit. b"],
    sdmGoals: ["integritaet", "verfuegbarkeit"],
    art32: ["b"],
    facts: ["apps", "updates", "services"],
    messages: {
      ok: {
        de: "Erwartet tägliche automatische Updates, gefunden eingerichtet.",
        en: "Expected daily automatic updates, found them configured.",
      },
      notRequired: {
        de: "Das Profil verlangt keine automatischen Updates (spec.updates.unattended: false).",
        en: "The profile does not require automatic updates (spec.updates.unattended: false).",
      },
      notInstalled: {
        de: "Erwartet unattended-upgrades installiert, gefunden nicht installiert.",
        en: "Expected unattended-upgrades installed, found it not installed.",
      },
      periodic: {
        de: 'Erwartet {{key}} "1", gefunden {{actual}}.',
        en: 'Expected {{key}} "1", found {{actual}}.',
      },
      timer: {
        de: "Erwartet {{unit}} aktiviert, gefunden {{state}}.",
        en: "Expected {{unit}} enabled, found {{state}}.",
      },
    },
    fix: {
      de: "unattended-upgrades installieren und APT::Periodic in /etc/apt/apt.conf.d/20auto-upgrades setzen.",
      en: "Install unattended-upgrades and set APT::Periodic in /etc/apt/apt.conf.d/20auto-upgrades.",
    },
  },
  evaluate(profile, facts) {
    if (!profile.spec.updates.unattended) return [notApplicable("notRequired")];
    const findings: Finding[] = [];
    if (!installed(facts, "unattended-upgrades"))
      findings.push(
        fail("notInstalled", {}, [
          ev("unattended-upgrades", "installed", "not installed", "dpkg status"),
        ]),
      );
    for (const key of periodicKeys) {
      const found = setting(facts.updates.aptConf, key);
      const value = found?.value.trim();
      if (value === undefined || !/^[1-9]\d*$/.test(value) || Number(value) > 1)
        findings.push(
          fail("periodic", { key, actual: found?.value ?? "(not set)" }, [
            ev(key, '"1"', found?.value ?? "(not set)", found?.source ?? "/etc/apt/apt.conf.d"),
          ]),
        );
    }
    for (const unit of ["apt-daily.timer", "apt-daily-upgrade.timer"]) {
      const state = unitState(facts, unit);
      // A disabled timer never fires: apt's cron fallback exits when systemd runs.
      if (!unitOn(state))
        findings.push(
          fail("timer", { unit, state }, [ev(unit, "enabled", state, "systemctl is-enabled")]),
        );
    }
    if (findings.length === 0) findings.push(pass("ok"));
    return findings;
  },
};
