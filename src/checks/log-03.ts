import type { Control } from "./types.js";
import { ev, fail, notApplicable, pass, unitOn, unitState } from "./util.js";

export const log03: Control = {
  meta: {
    id: "LOG-03",
    kind: "situational",
    title: {
      de: "Protokolle werden durch den Tunnel weitergeleitet",
      en: "Logs forwarded through the tunnel",
    },
    description: {
      de: "Protokolle werden im Betrieb durch den VPN-Tunnel an den zentralen Protokollserver übertragen. Gilt nur, wenn das Profil ein Ziel nennt.",
      en: "Logs are forwarded through the VPN tunnel to the central log server while online. Applies only when the profile names a destination.",
    },
    severity: "low",
    references: ["BSI OPS.1.1.5.A6", "DSGVO Art. 32 Abs. 1 lit. d"],
    sdmGoals: ["transparenz", "verfuegbarkeit"],
    art32: ["d"],
    facts: ["logging", "services"],
    messages: {
      ok: {
        de: "Erwartet Weiterleitung an {{target}}, gefunden {{via}}.",
        en: "Expected forwarding to {{target}}, found {{via}}.",
      },
      notApplicable: {
        de: "Das Profil nennt kein Ziel für die Protokollweiterleitung.",
        en: "The profile names no log forwarding destination.",
      },
      missing: {
        de: "Erwartet systemd-journal-upload oder rsyslog-Weiterleitung an {{target}}, gefunden keine.",
        en: "Expected systemd-journal-upload or rsyslog forwarding to {{target}}, found none.",
      },
    },
    fix: null,
  },
  evaluate(profile, facts) {
    const target = profile.spec.logging.forwardTo;
    if (target === undefined) return [notApplicable("notApplicable")];
    const upload = unitOn(unitState(facts, "systemd-journal-upload.service"));
    const rsyslog = facts.logging.rsyslogForwarding;
    if (!upload && rsyslog.length === 0)
      return [
        fail("missing", { target }, [
          ev("log forwarding", target, "none", "systemctl is-enabled; /etc/rsyslog.d"),
        ]),
      ];
    return [pass("ok", { target, via: upload ? "systemd-journal-upload" : rsyslog.join(", ") })];
  },
};
