import type { Control, Finding } from "./types.js";
import { ev, fail, list, notApplicable, pass, setting, unitOn, unitState } from "./util.js";

export const time01: Control = {
  meta: {
    id: "TIME-01",
    kind: "auto",
    title: {
      de: "Zeitsynchronisation aus freigegebenen Quellen",
      en: "Time synchronised from approved sources",
    },
    description: {
      de: "Die Systemzeit wird aus ausdrücklich konfigurierten, freigegebenen Quellen synchronisiert (systemd-timesyncd oder chrony); wo der Zustand sichtbar ist, ist sie synchron.",
      en: "System time is synchronised from explicitly configured, approved sources (systemd-timesyncd or chrony); where the state is visible, it is in sync.",
    },
    severity: "medium",
    references: ["BSI OPS.1.1.5.A4", "BSI OPS.1.2.6.A2", "DSGVO Art. 32 Abs. 1 lit. b"],
    sdmGoals: ["integritaet", "transparenz"],
    art32: ["b"],
    facts: ["logging", "services"],
    messages: {
      ok: {
        de: "Erwartet Zeitsynchronisation, gefunden {{service}} mit {{servers}}.",
        en: "Expected time synchronisation, found {{service}} with {{servers}}.",
      },
      notRequired: {
        de: "Das Profil verlangt keine Zeitsynchronisation.",
        en: "The profile does not require time synchronisation.",
      },
      noService: {
        de: "Erwartet systemd-timesyncd oder chrony aktiviert, gefunden {{actual}}.",
        en: "Expected systemd-timesyncd or chrony enabled, found {{actual}}.",
      },
      noServers: {
        de: "Erwartet ausdrücklich konfigurierte Zeitserver, gefunden nur Voreinstellungen.",
        en: "Expected explicitly configured time servers, found defaults only.",
      },
      unapproved: {
        de: "Erwartet nur freigegebene Zeitserver ({{approved}}), gefunden {{server}}.",
        en: "Expected approved time servers only ({{approved}}), found {{server}}.",
      },
      notSynced: {
        de: "Erwartet synchrone Systemzeit, gefunden nicht synchron.",
        en: "Expected the clock in sync, found it unsynchronised.",
      },
    },
    fix: {
      de: "NTP= in timesyncd.conf.d schreiben und systemd-timesyncd aktivieren.",
      en: "Write NTP= to timesyncd.conf.d and enable systemd-timesyncd.",
    },
  },
  evaluate(profile, facts) {
    if (!profile.spec.logging.timeSync) return [notApplicable("notRequired")];
    const findings: Finding[] = [];
    const log = facts.logging;
    const timesyncd = unitOn(unitState(facts, "systemd-timesyncd.service"));
    const chrony =
      unitOn(unitState(facts, "chrony.service")) || unitOn(unitState(facts, "chronyd.service"));
    let servers: string[] = [];
    let service = "none";
    if (chrony && log.chrony !== null) {
      service = "chrony";
      // chrony lines carry options after the host ("ntp.example iburst nts").
      servers = log.chrony.servers.map((s) => s.split(/\s+/)[0] as string).filter((s) => s !== "");
    } else if (timesyncd) {
      service = "systemd-timesyncd";
      servers = (setting(log.timesyncd, "NTP")?.value ?? "").split(/\s+/).filter((s) => s !== "");
    }
    if (!timesyncd && !chrony) {
      const actual = `systemd-timesyncd ${unitState(facts, "systemd-timesyncd.service")}, chrony ${unitState(facts, "chrony.service")}`;
      findings.push(
        fail("noService", { actual }, [
          ev("time service", "enabled", actual, "systemctl is-enabled"),
        ]),
      );
    } else if (servers.length === 0)
      findings.push(
        fail("noServers", {}, [
          ev(`${service} servers`, "explicit servers", "(defaults)", "/etc/systemd/timesyncd.conf"),
        ]),
      );
    const approved = profile.spec.logging.ntpServers;
    if (approved !== undefined)
      for (const server of servers)
        if (!approved.includes(server))
          findings.push(
            fail("unapproved", { approved: list(approved), server }, [
              ev("time server", list(approved), server, "/etc/systemd/timesyncd.conf"),
            ]),
          );
    if (log.timeSynchronized.available && !log.timeSynchronized.value)
      findings.push(
        fail("notSynced", {}, [
          ev("clock", "synchronised", "not synchronised", log.timeSynchronized.source),
        ]),
      );
    if (findings.length === 0) findings.push(pass("ok", { service, servers: list(servers) }));
    return findings;
  },
};
