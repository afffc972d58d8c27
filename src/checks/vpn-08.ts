import type { Control, Finding } from "./types.js";
import { ev, fail, list, notApplicable, pass } from "./util.js";

export const vpn08: Control = {
  meta: {
    id: "VPN-08",
    kind: "situational",
    title: {
      de: "Nur freigegebene Zugangsnetze (kommunaler APN, gelistete WLANs)",
      en: "Only approved uplinks (municipal APN, listed WLANs)",
    },
    description: {
      de: "Das Gerät verbindet sich nur über freigegebene Zugänge: LTE mit der kommunalen SIM/dem kommunalen APN und ausdrücklich freigegebene WLAN-Profile; offene WLANs werden nicht automatisch verbunden. Gilt nur, wenn das Profil Zugangsnetze festlegt.",
      en: "The device connects only through approved uplinks: LTE with the municipal SIM/APN and explicitly approved WLAN profiles; open WLANs are never auto-joined. Applies only when the profile lists uplinks.",
    },
    severity: "low",
    references: ["BSI CON.7.A8", "BSI SYS.3.1.A8", "DSGVO Art. 32 Abs. 1 lit. b"],
    sdmGoals: ["vertraulichkeit"],
    art32: ["b"],
    facts: ["network"],
    messages: {
      ok: {
        de: "Erwartet nur freigegebene Zugänge, gefunden {{connections}}.",
        en: "Expected only approved uplinks, found {{connections}}.",
      },
      notApplicable: {
        de: "Das Profil legt keine Zugangsnetze fest (spec.network.uplinks).",
        en: "The profile lists no uplinks (spec.network.uplinks).",
      },
      wlan: {
        de: "Erwartet nur freigegebene WLANs ({{allowed}}), gefunden {{ssid}} ({{source}}).",
        en: "Expected only approved WLANs ({{allowed}}), found {{ssid}} ({{source}}).",
      },
      apn: {
        de: "Erwartet nur freigegebene APNs ({{allowed}}), gefunden {{apn}} ({{source}}).",
        en: "Expected only approved APNs ({{allowed}}), found {{apn}} ({{source}}).",
      },
    },
    fix: null,
  },
  evaluate(profile, facts) {
    const uplinks = profile.spec.network.uplinks;
    if (uplinks === undefined) return [notApplicable("notApplicable")];
    const findings: Finding[] = [];
    const wlans = uplinks.wlans ?? [];
    const apns = uplinks.apn ?? [];
    for (const c of facts.network.networkManager) {
      if (/wireless|wifi/.test(c.type) && !wlans.includes(c.ssid ?? c.id))
        findings.push(
          fail("wlan", { allowed: list(wlans), ssid: c.ssid ?? c.id, source: c.source }, [
            ev(`connection ${c.id}`, list(wlans), c.ssid ?? c.id, c.source),
          ]),
        );
      if (/gsm|cdma/.test(c.type) && !apns.includes(c.apn ?? ""))
        findings.push(
          fail("apn", { allowed: list(apns), apn: c.apn ?? "(none)", source: c.source }, [
            ev(`connection ${c.id}`, list(apns), c.apn ?? "(none)", c.source),
          ]),
        );
    }
    if (findings.length === 0)
      findings.push(
        pass("ok", { connections: list(facts.network.networkManager.map((c) => c.id)) }),
      );
    return findings;
  },
};
