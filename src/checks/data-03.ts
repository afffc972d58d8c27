import type { Facts } from "../facts/types.js";
import type { Control, Finding } from "./types.js";
import { sysctlInteger } from "../facts/parsers/sysctl.js";
import { ev, fail, notApplicable, pass, presentPackage, setting } from "./util.js";

type CoreLimit = Facts["data"]["coreLimits"][number];

/**
 * The hard core limit each limits.conf domain ends up with, as pam_limits computes it: for
 * each item it keeps the value from the most specific class of entry (a user's own line, then
 * a group's, then `*`), and among entries of one class the last one read wins (limits.conf,
 * then limits.d/*.conf by name). So `root hard core infinity` (Debian 13's systemd-coredump
 * drop-in) is not overridden by any `*` line, only by a later `root` line. Keyed by domain;
 * `*` also covers root when no entry names root (pam_limits applies it to every user).
 */
export function effectiveCoreLimits(limits: readonly CoreLimit[]): Map<string, CoreLimit> {
  const out = new Map<string, CoreLimit>();
  for (const l of limits)
    if (l.type === "hard" || l.type === "-") {
      out.delete(l.domain); // keep the map in the order of the winning lines
      out.set(l.domain, l);
    }
  return out;
}

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
    const effective = effectiveCoreLimits(d.coreLimits);
    if (!effective.has("*")) {
      findings.push(
        fail("limit", { actual: "(not set)" }, [
          ev("core limit", "* hard core 0", "(not set)", "/etc/security/limits.conf"),
        ]),
      );
    }
    for (const [domain, l] of effective)
      if (l.value !== "0") {
        const actual = `${l.domain} ${l.type} core ${l.value}`;
        const expected = domain === "*" ? "* hard core 0" : `${domain} hard core 0`;
        findings.push(fail("limit", { actual }, [ev("core limit", expected, actual, l.source)]));
      }
    const suid =
      d.sysctlLive.available && d.sysctlLive.value["fs.suid_dumpable"] !== undefined
        ? d.sysctlLive.value["fs.suid_dumpable"]
        : d.sysctl["fs.suid_dumpable"]?.value;
    // Not set anywhere: the kernel's own default, 0 (fs/exec.c), stays.
    if (suid !== undefined && sysctlInteger(suid) !== 0)
      findings.push(
        fail("suidDumpable", { actual: suid }, [
          ev(
            "fs.suid_dumpable",
            "0",
            suid,
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
