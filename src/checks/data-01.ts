import type { Control, Finding } from "./types.js";
import {
  effectiveFstabMount,
  ev,
  fail,
  list,
  notApplicable,
  pass,
  unitOn,
  unitState,
} from "./util.js";

export const data01: Control = {
  meta: {
    id: "DATA-01",
    kind: "auto",
    title: {
      de: "Keine dauerhafte Speicherung von Antragsdaten: /tmp im Arbeitsspeicher, keine Erfassungsdateien",
      en: "No persistent applicant data: /tmp on tmpfs, no capture files left",
    },
    description: {
      de: "Lichtbilder, Fingerabdrücke, Unterschriften und Scans liegen nur in arbeitsspeicherbasierten temporären Orten (/tmp als tmpfs) und verschwinden am Sitzungsende; an dauerhaften Orten liegen keine solchen Dateien (Datenminimierung, Art. 5 Abs. 1 lit. c, Art. 25 DSGVO).",
      en: "Face images, fingerprints, signatures and scans exist only in RAM-backed temporary places (/tmp on tmpfs) and are gone at session end; no such files remain in persistent places (data minimisation, GDPR Art. 5(1)(c), Art. 25).",
    },
    severity: "high",
    references: [
      "DSGVO Art. 5 Abs. 1 lit. c",
      "DSGVO Art. 25",
      "DSGVO Art. 32 Abs. 1 lit. b",
      "BSI CON.6.A1",
    ],
    sdmGoals: ["datenminimierung", "vertraulichkeit", "nichtverkettung"],
    art32: ["b"],
    facts: ["disk", "services", "data"],
    messages: {
      ok: {
        de: "Erwartet /tmp als tmpfs und keine Erfassungsdateien, gefunden {{tmp}} und keine.",
        en: "Expected /tmp on tmpfs and no capture files, found {{tmp}} and none.",
      },
      notRequired: {
        de: "Das Profil verlangt kein /tmp im Arbeitsspeicher.",
        en: "The profile does not require /tmp on tmpfs.",
      },
      tmp: {
        de: "Erwartet /tmp als tmpfs, gefunden {{actual}}.",
        en: "Expected /tmp on tmpfs, found {{actual}}.",
      },
      captureFiles: {
        de: "Erwartet keine Erfassungsdateien an dauerhaften Orten, gefunden {{count}}: {{files}}.",
        en: "Expected no capture files in persistent places, found {{count}}: {{files}}.",
      },
    },
    fix: {
      de: "/tmp als tmpfs einbinden (tmp.mount) und tmpfiles-Regeln zum Löschen schreiben.",
      en: "Mount /tmp as tmpfs (tmp.mount) and write tmpfiles rules that clean up.",
    },
  },
  evaluate(profile, facts) {
    if (!profile.spec.data.tmpOnTmpfs) return [notApplicable("notRequired")];
    const findings: Finding[] = [];
    let tmp: string;
    let ok: boolean;
    let source: string;
    const live = facts.data.mounts;
    const liveTmp = live.available ? live.value.find((m) => m.target === "/tmp") : undefined;
    if (live.available) {
      tmp = liveTmp === undefined ? "no separate mount" : liveTmp.fstype;
      ok = liveTmp?.fstype === "tmpfs";
      source = live.source;
    } else {
      const { entry, masked } = effectiveFstabMount(facts, "/tmp");
      const unit = unitState(facts, "tmp.mount");
      if (entry !== undefined && masked) {
        // The fstab line becomes a generated tmp.mount, which the mask outranks.
        tmp = `${entry.vfstype} in fstab, but tmp.mount ${unit}: /tmp stays on the root file system`;
        ok = false;
        source = `${entry.source}; systemctl is-enabled tmp.mount`;
      } else if (entry !== undefined) {
        tmp = `${entry.vfstype} (fstab)`;
        ok = entry.vfstype === "tmpfs";
        source = entry.source;
      } else {
        // Without an fstab line systemd's tmp.mount decides (a tmpfs when enabled).
        tmp = `no fstab entry, tmp.mount ${unit}`;
        ok = unitOn(unit, { staticCounts: true });
        source = "systemctl is-enabled tmp.mount";
      }
    }
    if (!ok) findings.push(fail("tmp", { actual: tmp }, [ev("/tmp", "tmpfs", tmp, source)]));
    const files = facts.data.captureFiles;
    if (files.length > 0)
      findings.push(
        fail(
          "captureFiles",
          { count: files.length, files: list(files.slice(0, 5).map((f) => f.path)) },
          files
            .slice(0, 20)
            .map((f) => ev(f.path, "absent", `${f.size} bytes, ${f.mtime}`, f.path)),
        ),
      );
    if (findings.length === 0) findings.push(pass("ok", { tmp }));
    return findings;
  },
};
