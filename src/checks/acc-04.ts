import type { Control, Finding } from "./types.js";
import { ev, fail, pass, setting } from "./util.js";

const strongSchemes = ["yescrypt", "sha512"];
const defaultMinLength = 12;
const defaultLockout = 5;

export const acc04: Control = {
  meta: {
    id: "ACC-04",
    kind: "auto",
    title: {
      de: "Passwortrichtlinie: Länge, Sperre nach Fehlversuchen, yescrypt/SHA-512",
      en: "Password policy: length, lockout, yescrypt/sha512",
    },
    description: {
      de: "Passwörter haben eine Mindestlänge (pwquality), Konten werden nach wiederholten Fehlversuchen gesperrt (pam_faillock), und Passwörter werden mit yescrypt oder SHA-512 gespeichert; kein rein zeitgesteuerter Passwortwechsel.",
      en: "Passwords have a minimum length (pwquality), accounts lock after repeated failures (pam_faillock), and passwords are hashed with yescrypt or SHA-512; no purely time-based password change.",
    },
    severity: "medium",
    references: ["BSI ORP.4.A8", "BSI ORP.4.A22", "BSI ORP.4.A23", "DSGVO Art. 32 Abs. 1 lit. b"],
    sdmGoals: ["vertraulichkeit"],
    art32: ["b"],
    facts: ["accounts"],
    messages: {
      ok: {
        de: "Erwartet minlen ≥ {{minLength}}, Sperre nach ≤ {{lockout}} Fehlversuchen und starke Hashes, gefunden eingehalten.",
        en: "Expected minlen ≥ {{minLength}}, lockout after ≤ {{lockout}} failures and strong hashes, found them in place.",
      },
      minlen: {
        de: "Erwartet minlen ≥ {{expected}}, gefunden {{actual}}.",
        en: "Expected minlen ≥ {{expected}}, found {{actual}}.",
      },
      faillock: {
        de: "Erwartet pam_faillock mit deny zwischen 1 und {{expected}}, gefunden {{actual}}.",
        en: "Expected pam_faillock with deny between 1 and {{expected}}, found {{actual}}.",
      },
      encryptMethod: {
        de: "Erwartet ENCRYPT_METHOD YESCRYPT oder SHA512, gefunden {{actual}}.",
        en: "Expected ENCRYPT_METHOD YESCRYPT or SHA512, found {{actual}}.",
      },
      weakHash: {
        de: "Erwartet yescrypt- oder SHA-512-Hashes, gefunden {{scheme}} für {{name}}.",
        en: "Expected yescrypt or SHA-512 hashes, found {{scheme}} for {{name}}.",
      },
    },
    fix: {
      de: "pwquality.conf, faillock.conf und login.defs schreiben; pam_faillock einbinden.",
      en: "Write pwquality.conf, faillock.conf and login.defs; enable pam_faillock.",
    },
  },
  evaluate(profile, facts) {
    const findings: Finding[] = [];
    const minLength = profile.spec.accounts.password?.minLength ?? defaultMinLength;
    const lockout = profile.spec.accounts.password?.lockoutAttempts ?? defaultLockout;
    const acc = facts.accounts;
    const minlen = setting(acc.pwquality, "minlen");
    if (minlen === undefined || !(Number(minlen.value) >= minLength))
      findings.push(
        fail("minlen", { expected: minLength, actual: minlen?.value ?? "(not set)" }, [
          ev(
            "pwquality minlen",
            `≥ ${minLength}`,
            minlen?.value ?? "(not set)",
            minlen?.source ?? "/etc/security/pwquality.conf",
          ),
        ]),
      );
    const deny = setting(acc.faillock, "deny");
    const pamFaillock = Object.values(acc.pamModules).some((mods) =>
      mods.includes("pam_faillock.so"),
    );
    const denyValue = Number(deny?.value ?? "3"); // pam_faillock's built-in default
    if (!pamFaillock || !(denyValue >= 1 && denyValue <= lockout)) {
      const actual = pamFaillock
        ? `deny=${deny?.value ?? "3 (default)"}`
        : "pam_faillock not in the PAM stack";
      findings.push(
        fail("faillock", { expected: lockout, actual }, [
          ev("pam_faillock", `deny 1…${lockout}`, actual, deny?.source ?? "/etc/pam.d/common-auth"),
        ]),
      );
    }
    const method = setting(acc.loginDefs, "ENCRYPT_METHOD");
    if (method === undefined || !strongSchemes.includes(method.value.toLowerCase()))
      findings.push(
        fail("encryptMethod", { actual: method?.value ?? "(not set)" }, [
          ev(
            "login.defs ENCRYPT_METHOD",
            "YESCRYPT | SHA512",
            method?.value ?? "(not set)",
            method?.source ?? "/etc/login.defs",
          ),
        ]),
      );
    for (const entry of acc.shadow)
      if (
        !entry.locked &&
        !entry.empty &&
        entry.scheme !== null &&
        !strongSchemes.includes(entry.scheme)
      )
        findings.push(
          fail("weakHash", { scheme: entry.scheme, name: entry.name }, [
            ev(`shadow ${entry.name}`, "yescrypt | sha512", entry.scheme, "/etc/shadow"),
          ]),
        );
    if (findings.length === 0) findings.push(pass("ok", { minLength, lockout }));
    return findings;
  },
};
