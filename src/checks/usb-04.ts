import type { DeviceRole } from "../profiles/types.js";
import type { Control, Finding } from "./types.js";
import { ev, fail, list, pass } from "./util.js";

/** Roles whose devices capture applicant data and fall under TR-03104/AKNV. */
const captureRoles: DeviceRole[] = ["fingerprint-scanner", "camera"];

export const usb04: Control = {
  meta: {
    id: "USB-04",
    kind: "auto",
    title: {
      de: "Erfassungsgeräte sind zertifizierte Modelle (TR-03104)",
      en: "Capture devices are certified models (TR-03104)",
    },
    description: {
      de: "Geräte zur Erfassung von Lichtbild und Fingerabdrücken sind nach BSI TR-03104 bzw. AKNV zertifizierte Modelle; die Positivliste im Profil kennzeichnet sie, und angeschlossene Erfassungsgeräte stimmen mit ihr überein.",
      en: "Devices capturing face images and fingerprints are models certified under BSI TR-03104 / AKNV; the profile's allowlist marks them, and attached capture devices match it.",
    },
    severity: "medium",
    references: ["BSI TR-03104", "AKNV Anlage 3", "DSGVO Art. 32 Abs. 1 lit. b"],
    sdmGoals: ["integritaet"],
    art32: ["b"],
    facts: ["usb"],
    messages: {
      ok: {
        de: "Erwartet zertifizierte Erfassungsgeräte, gefunden {{devices}}.",
        en: "Expected certified capture devices, found {{devices}}.",
      },
      notCertified: {
        de: "Erwartet ein zertifiziertes Modell, gefunden {{device}} ({{ids}}) ohne Zertifizierungsvermerk.",
        en: "Expected a certified model, found {{device}} ({{ids}}) not marked certified.",
      },
    },
    fix: null,
  },
  evaluate(profile) {
    const findings: Finding[] = [];
    const capture = profile.spec.devices.allow.filter((d) => captureRoles.includes(d.role));
    for (const d of capture)
      if (d.certified !== true)
        findings.push(
          fail("notCertified", { device: d.name, ids: d.usb.join(", ") }, [
            ev(
              `device ${d.name}`,
              "certified: true",
              "not certified",
              "profile spec.devices.allow",
            ),
          ]),
        );
    if (findings.length === 0)
      findings.push(pass("ok", { devices: list(capture.map((d) => d.name)) }));
    return findings;
  },
};
