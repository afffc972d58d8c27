import type { Control, Finding } from "./types.js";
import { ev, fail, notApplicable, pass, presentPackage, setting } from "./util.js";

export const data03: Control = {
  meta: {
    id: "DATA-03",
    kind: "auto",
    title: { de: "Keine Speicherabbilder (Core Dumps)", en: "No core dumps" },
    description: {
      de: "Speicherabbilder abgestürzter Prozesse werden nicht geschrieben, denn der Prozessspeicher kann biometrische Daten enthalten: hartes Limit core 0, fs.suid_dumpable = 0 und systemd-coredump mit Storage=none.",
      en: "Core dumps of crashed processes are not written, since process memory can hold biometric data: hard core limit 0, fs.suid_dumpable = 0 and systemd-coredump with Storage=none.",
    },
    severity: "high",
    references: ["DSGVO Art. 32 Abs. 1 lit. a", "DSGVO Art. 5 Abs. 1 lit. c"],
    sdmGoals: ["vertraulichkeit", "datenminimierung"],
    art32: ["a", "b"],
    facts: ["data", "apps"],
    messages: {
      ok: {
        de: "Erwartet keine Core Dumps, gefunden abgeschaltet.",
        en: "Expected no core dumps, found them disabled.",
      },
      notRequired: { de: "Das Profil erlaubt Core Dumps.", en: "The profile allows core dumps." },
      limit: {
        de: "Erwartet „* hard core 0“ in limits.conf, gefunden {{actual}}.",
        en: 'Expected "* hard core 0" in limits.conf, found {{actual}}.',
      },
      suidDumpable: {
        de: "Erwartet fs.suid_dumpable = 0, gefunden {{actual}}.",
        en: "Expected fs.suid_dumpable = 0, found {{actual}}.",
      },
      coredump: {
        de: "Erwartet Storage=none in coredump.conf, gefunden {{actual}}.",
        en: "Expected Storage=none in coredump.conf, found {{actual}}.",
      },
    },
    fix: {
      de: "coredump.conf.d mit Storage=none, limits.d mit „* hard core 0“ und sysctl.d mit fs.suid_dumpable = 0 schreiben.",
      en: 'Write coredump.conf.d with Storage=none, limits.d with "* hard core 0" and sysctl.d with fs.suid_dumpable = 0.',
    },
  },
  evaluate(profile, facts) {
    if (profile.spec.data.coreDumps) return [notApplicable("notRequired")];
    const findings: Finding[] = [];
    const d = facts.data;
    const hard = d.coreLimits.filter(
      (l) => l.domain === "*" && (l.type === "hard" || l.type === "-"),
    );
    const limit = hard[hard.length - 1];
    if (limit === undefined || limit.value !== "0") {
      const actual =
        limit === undefined ? "(not set)" : `${limit.domain} ${limit.type} core ${limit.value}`;
      findings.push(
        fail("limit", { actual }, [
          ev("core limit", "* hard core 0", actual, limit?.source ?? "/etc/security/limits.conf"),
        ]),
      );
    }
    // pam_limits prefers a user's or group's own line over the wildcard (and "*" never
    // applies to root): any of them raising the hard limit lets that account dump core.
    for (const l of d.coreLimits)
      if (l.domain !== "*" && (l.type === "hard" || l.type === "-") && l.value !== "0") {
        const actual = `${l.domain} ${l.type} core ${l.value}`;
        findings.push(
          fail("limit", { actual }, [ev("core limit", "0 for every domain", actual, l.source)]),
        );
      }
    const suid =
      d.sysctlLive.available && d.sysctlLive.value["fs.suid_dumpable"] !== undefined
        ? d.sysctlLive.value["fs.suid_dumpable"]
        : d.sysctl["fs.suid_dumpable"]?.value;
    if (suid?.trim() !== "0")
      findings.push(
        fail("suidDumpable", { actual: suid ?? "(not set)" }, [
          ev(
            "fs.suid_dumpable",
            "0",
            suid ?? "(not set)",
            d.sysctl["fs.suid_dumpable"]?.source ?? "/etc/sysctl.d",
          ),
        ]),
      );
    const storage = setting(d.coredump, "Storage");
    if (presentPackage(facts, "systemd-coredump") !== undefined || storage !== undefined)
      if (storage?.value.trim().toLowerCase() !== "none")
        findings.push(
          fail("coredump", { actual: storage?.value ?? "(not set: external)" }, [
            ev(
              "coredump.conf Storage",
              "none",
              storage?.value ?? "(not set)",
              storage?.source ?? "/etc/systemd/coredump.conf",
            ),
          ]),
        );
    if (findings.length === 0) findings.push(pass("ok"));
    return findings;
  },
};
