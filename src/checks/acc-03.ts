import type { Control, Finding } from "./types.js";
import { ev, fail, pass } from "./util.js";

/** A dconf value such as `uint32 300` or `300` as a number; NaN when it is not one. */
function dconfNumber(value: string | undefined): number {
  if (value === undefined) return Number.NaN;
  return Number(value.trim().replace(/^u?int(32|64)\s+/, ""));
}

const idleKey = "org/gnome/desktop/session/idle-delay";
const lockKey = "org/gnome/desktop/screensaver/lock-enabled";
const delayKey = "org/gnome/desktop/screensaver/lock-delay";

export const acc03: Control = {
  meta: {
    id: "ACC-03",
    kind: "auto",
    title: {
      de: "Bildschirmsperre nach höchstens der Profilzeit, gegen Änderung gesperrt",
      en: "Screen lock within the profile's seconds, locked against user change",
    },
    description: {
      de: "Der Bildschirm sperrt sich nach der im Profil festgelegten Leerlaufzeit (höchstens) und lässt sich nur mit Authentisierung entsperren; die Einstellungen sind systemweit festgelegt und für Benutzer gesperrt.",
      en: "The screen locks after at most the profile's idle time and unlocks only with authentication; the settings are set system-wide and locked against users.",
    },
    severity: "high",
    references: ["BSI SYS.2.1.A1", "BSI CON.7.A5", "DSGVO Art. 32 Abs. 1 lit. b"],
    sdmGoals: ["vertraulichkeit"],
    art32: ["b"],
    facts: ["accounts"],
    messages: {
      ok: {
        de: "Erwartet Sperre nach höchstens {{max}} s, gesperrt gegen Änderung, gefunden {{idle}} s.",
        en: "Expected a lock after at most {{max}} s, locked against change, found {{idle}} s.",
      },
      noSystemDb: {
        de: "Erwartet ein dconf-Profil „user“ mit Systemdatenbank, gefunden keines.",
        en: 'Expected a dconf "user" profile with a system database, found none.',
      },
      idle: {
        de: "Erwartet idle-delay zwischen 1 und {{max}} s, gefunden {{actual}}.",
        en: "Expected idle-delay between 1 and {{max}} s, found {{actual}}.",
      },
      lockEnabled: {
        de: "Erwartet lock-enabled=true, gefunden {{actual}}.",
        en: "Expected lock-enabled=true, found {{actual}}.",
      },
      lockDelay: {
        de: "Erwartet lock-delay=0, gefunden {{actual}}.",
        en: "Expected lock-delay=0, found {{actual}}.",
      },
      notCompiled: {
        de: "Erwartet die dconf-Datenbank {{path}} neuer als ihre Schlüsseldateien (dconf update), gefunden {{actual}}.",
        en: "Expected the dconf database {{path}} newer than its keyfiles (dconf update), found {{actual}}.",
      },
      notLocked: {
        de: "Erwartet {{key}} gegen Änderung gesperrt (locks), gefunden nicht gesperrt.",
        en: "Expected {{key}} locked against change (locks), found it unlocked.",
      },
    },
    fix: {
      de: "dconf-Datenbank mit idle-delay, lock-enabled und lock-delay und den zugehörigen locks schreiben.",
      en: "Write a dconf database with idle-delay, lock-enabled and lock-delay and their locks.",
    },
  },
  evaluate(profile, facts) {
    const findings: Finding[] = [];
    const max = profile.spec.accounts.screenLockSeconds;
    const dconf = facts.accounts.dconf;
    if (!dconf.profileUserHasSystemDb)
      findings.push(
        fail("noSystemDb", {}, [
          ev("/etc/dconf/profile/user", "system-db:local", "(missing)", "/etc/dconf/profile/user"),
        ]),
      );
    const idle = dconf.keys[idleKey];
    const idleSeconds = dconfNumber(idle?.value);
    if (!(idleSeconds >= 1 && idleSeconds <= max))
      findings.push(
        fail("idle", { max, actual: idle?.value ?? "(not set)" }, [
          ev(idleKey, `1…${max}`, idle?.value ?? "(not set)", idle?.source ?? "/etc/dconf/db"),
        ]),
      );
    const enabled = dconf.keys[lockKey];
    if (enabled?.value.trim() !== "true")
      findings.push(
        fail("lockEnabled", { actual: enabled?.value ?? "(not set)" }, [
          ev(lockKey, "true", enabled?.value ?? "(not set)", enabled?.source ?? "/etc/dconf/db"),
        ]),
      );
    const delay = dconf.keys[delayKey];
    if (dconfNumber(delay?.value) !== 0)
      findings.push(
        fail("lockDelay", { actual: delay?.value ?? "(not set)" }, [
          ev(delayKey, "0", delay?.value ?? "(not set)", delay?.source ?? "/etc/dconf/db"),
        ]),
      );
    const locks = new Set(dconf.locks.map((l) => l.replace(/^\//, "")));
    for (const key of [idleKey, lockKey, delayKey])
      if (!locks.has(key))
        findings.push(
          fail("notLocked", { key }, [
            ev(key, "locked", "not locked", "/etc/dconf/db/local.d/locks"),
          ]),
        );
    // dconf reads only the compiled database: keyfiles newer than it are not in effect.
    for (const db of dconf.databases ?? []) {
      if (db.newestSourceMs === null) continue;
      if (db.compiledMs !== null && db.compiledMs >= db.newestSourceMs) continue;
      const actual =
        db.compiledMs === null
          ? "no compiled database"
          : `${db.newestSource} newer than the database`;
      findings.push(
        fail("notCompiled", { path: db.path, actual }, [
          ev(db.path, `compiled after ${db.newestSource}`, actual, db.path),
        ]),
      );
    }
    if (findings.length === 0) findings.push(pass("ok", { max, idle: idleSeconds }));
    return findings;
  },
};
