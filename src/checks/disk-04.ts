import { releaseOf } from "../platform/releases.js";
import type { Facts, LuksVolume } from "../facts/types.js";
import type { Control, Finding } from "./types.js";
import {
  ev,
  fail,
  installed,
  list,
  pass,
  pending,
  unitOn,
  unitState,
  unreadable,
  unreadableFinding,
  volumeLabel,
  noVolumesFinding,
  volumeMessages,
} from "./util.js";

const enrolUnit = "koffer-tpm2-enrol.service";

/**
 * A volume without any TPM2 token: `pending` when the first-boot enrolment is installed for it
 * (script, unit enabled, the volume in its config with the profile's PCRs) and has not
 * failed; `fail` with the script's own note when it failed; `fail` when nothing is installed
 * or a part is missing.
 */
function noToken(facts: Facts, volume: LuksVolume, label: string, wantPcrs: number[]): Finding {
  const subject = `LUKS volume ${volume.device}`;
  const expected = "systemd-tpm2 token with tpm2-pin";
  const fb = facts.disk.firstBootEnrol;
  const entry = fb?.volumes.find(
    (v) =>
      (volume.uuid !== null && v.device === `/dev/disk/by-uuid/${volume.uuid}`) ||
      (volume.crypttabName !== null && v.name === volume.crypttabName),
  );
  if (fb === null || fb === undefined || (entry === undefined && fb.script === null))
    return fail("pending", { volume: label }, [
      ev(subject, expected, "no systemd-tpm2 token", volume.source),
    ]);
  if (fb.failure !== null)
    return fail("firstBootFailed", { volume: label, failure: fb.failure.text }, [
      ev(subject, expected, "no systemd-tpm2 token", volume.source),
      ev(enrolUnit, "enrolment done", `failed: ${fb.failure.text}`, fb.failure.source),
    ]);
  const state = unitState(facts, enrolUnit);
  const missing = [
    ...(fb.script === null ? ["no /usr/lib/koffer/tpm2-enrol"] : []),
    ...(unitOn(state) ? [] : [`${enrolUnit} ${state}`]),
    ...(entry === undefined ? [`${label} not in /etc/koffer/tpm2-enrol.conf`] : []),
    ...(entry !== undefined && !wantPcrs.every((p) => entry.pcrs.includes(p))
      ? [`PCR ${entry.pcrs.join("+")} instead of ${wantPcrs.join("+")}`]
      : []),
    ...(fb.done !== null ? [`marker ${fb.done} without a token`] : []),
  ];
  if (missing.length > 0)
    return fail("firstBootIncomplete", { volume: label, missing: list(missing) }, [
      ev(subject, expected, "no systemd-tpm2 token", volume.source),
      ev(enrolUnit, "installed, enabled, volume configured", list(missing), entry?.source),
    ]);
  return pending(
    "firstBootPending",
    { volume: label, pcrs: (entry?.pcrs ?? wantPcrs).join("+"), unit: enrolUnit },
    [
      ev(subject, expected, "enrolment at first boot pending", volume.source),
      ev(enrolUnit, "enabled", state, fb.unit ?? undefined),
      ev("/etc/koffer/tpm2-enrol.conf", label, `${entry?.name} ${entry?.device}`, entry?.source),
    ],
  );
}

export const disk04: Control = {
  meta: {
    id: "DISK-04",
    kind: "auto",
    title: {
      de: "Entsperren nur mit TPM 2.0 und PIN, gebunden an PCR 7",
      en: "Unlocking needs TPM 2.0 plus PIN, bound to PCR 7",
    },
    description: {
      de: "Der Datenträger wird beim Start nur mit TPM 2.0 und PIN entsperrt; die TPM-Bindung umfasst PCR 7 (Secure-Boot-Zustand). Es gibt kein Entsperren allein durch das TPM und keine Schlüsseldatei in der initramfs.",
      en: "The volume is unlocked at boot only with TPM 2.0 plus a PIN; the TPM binding includes PCR 7 (Secure Boot state). There is no TPM-only unlock and no key file in the initramfs.",
    },
    severity: "high",
    references: [
      "BSI SYS.2.1.A28",
      "BSI SYS.2.1.A36",
      "BSI SYS.2.3.A19",
      "DSGVO Art. 32 Abs. 1 lit. a",
    ],
    sdmGoals: ["vertraulichkeit", "integritaet"],
    art32: ["a"],
    facts: ["disk", "apps", "services"],
    messages: {
      ok: {
        de: "Erwartet TPM2 mit PIN und PCR {{pcrs}}, gefunden auf {{volume}}.",
        en: "Expected TPM2 with PIN and PCR {{pcrs}}, found on {{volume}}.",
      },
      okPassphrase: {
        de: "Erwartet Entsperren per Passphrase ohne Schlüsseldatei (laut Profil), gefunden auf {{volume}}.",
        en: "Expected passphrase unlock without a key file (per the profile), found on {{volume}}.",
      },
      pending: {
        de: "Erwartet ein systemd-tpm2-Token mit PIN auf {{volume}}, gefunden keines (und keine Registrierung beim ersten Start eingerichtet).",
        en: "Expected a systemd-tpm2 token with PIN on {{volume}}, found none (and no enrolment at first boot installed).",
      },
      firstBootPending: {
        de: "TPM2+PIN-Registrierung beim ersten Start ausstehend (Dienst installiert): {{volume}} erhält sein systemd-tpm2-Token mit PIN (PCR {{pcrs}}) durch {{unit}}.",
        en: "TPM2+PIN enrolment pending at first boot (unit installed): {{volume}} gets its systemd-tpm2 token with PIN (PCR {{pcrs}}) from {{unit}}.",
      },
      firstBootFailed: {
        de: "Erwartet ein systemd-tpm2-Token mit PIN auf {{volume}}, gefunden keines: die Registrierung beim ersten Start ist gescheitert ({{failure}}).",
        en: "Expected a systemd-tpm2 token with PIN on {{volume}}, found none: the enrolment at first boot failed ({{failure}}).",
      },
      firstBootIncomplete: {
        de: "Erwartet für {{volume}} eine vollständige Registrierung beim ersten Start, gefunden {{missing}}.",
        en: "Expected a complete enrolment at first boot for {{volume}}, found {{missing}}.",
      },
      noPin: {
        de: "Erwartet TPM2 mit PIN, gefunden TPM2 ohne PIN in Token {{token}} von {{volume}}.",
        en: "Expected TPM2 with PIN, found TPM2 without PIN in token {{token}} of {{volume}}.",
      },
      pcrs: {
        de: "Erwartet Bindung an PCR {{expected}}, gefunden PCR {{actual}} in Token {{token}} von {{volume}}.",
        en: "Expected binding to PCR {{expected}}, found PCR {{actual}} in token {{token}} of {{volume}}.",
      },
      unlockPackage: {
        de: "Erwartet das Paket {{package}}, das tpm2-device=auto in /etc/crypttab beim Start umsetzt ({{release}}), gefunden nicht installiert.",
        en: "Expected package {{package}}, which carries out tpm2-device=auto in /etc/crypttab at boot ({{release}}), found it not installed.",
      },
      crypttabOption: {
        de: "Erwartet tpm2-device=auto in /etc/crypttab für {{name}}, gefunden {{options}}.",
        en: "Expected tpm2-device=auto in /etc/crypttab for {{name}}, found {{options}}.",
      },
      keyFile: {
        de: "Erwartet keine Schlüsseldatei, gefunden {{keyFile}} für {{name}}.",
        en: "Expected no key file, found {{keyFile}} for {{name}}.",
      },
      initramfsKeyFile: {
        de: "Erwartet keine Schlüsseldatei in der initramfs, gefunden {{files}}.",
        en: "Expected no key file in the initramfs, found {{files}}.",
      },
      ...volumeMessages,
    },
    fix: {
      de: "TPM2 mit PIN registrieren (systemd-cryptenroll --tpm2-device=auto --tpm2-with-pin=yes --tpm2-pcrs=7) und tpm2-device=auto in /etc/crypttab eintragen.",
      en: "Enrol TPM2 with PIN (systemd-cryptenroll --tpm2-device=auto --tpm2-with-pin=yes --tpm2-pcrs=7) and add tpm2-device=auto to /etc/crypttab.",
    },
  },
  evaluate(profile, facts) {
    const findings: Finding[] = [];
    const wantTpm = profile.spec.disk.unlock === "tpm2+pin";
    const wantPcrs = profile.spec.disk.tpm2Pcrs;
    for (const entry of facts.disk.crypttab) {
      if (entry.keyFile !== null && !entry.options.includes("swap"))
        findings.push(
          fail("keyFile", { keyFile: entry.keyFile, name: entry.name }, [
            ev(`crypttab ${entry.name}`, "key file none", entry.keyFile, entry.source),
          ]),
        );
    }
    if (facts.disk.initramfsKeyFiles.length > 0)
      findings.push(
        fail("initramfsKeyFile", { files: list(facts.disk.initramfsKeyFiles) }, [
          ev(
            "initramfs",
            "no key files",
            list(facts.disk.initramfsKeyFiles),
            "/etc/cryptsetup-initramfs/conf-hook",
          ),
        ]),
      );
    for (const volume of facts.disk.volumes) {
      if (unreadable(volume)) {
        findings.push(unreadableFinding(volume));
        continue;
      }
      const label = volumeLabel(volume);
      const subject = `LUKS volume ${volume.device}`;
      const before = findings.length;
      if (wantTpm) {
        const tokens = volume.tokens.filter((t) => t.type === "systemd-tpm2");
        if (tokens.length === 0) findings.push(noToken(facts, volume, label, wantPcrs));
        for (const token of tokens) {
          if (token.tpm2Pin !== true)
            findings.push(
              fail("noPin", { token: token.id, volume: label }, [
                ev(
                  `${subject} token ${token.id}`,
                  "tpm2-pin: true",
                  "tpm2-pin: false",
                  volume.source,
                ),
              ]),
            );
          const pcrs = token.tpm2Pcrs ?? [];
          if (!wantPcrs.every((p) => pcrs.includes(p)))
            findings.push(
              fail(
                "pcrs",
                {
                  expected: list(wantPcrs.map(String)),
                  actual: list(pcrs.map(String)),
                  token: token.id,
                  volume: label,
                },
                [
                  ev(
                    `${subject} token ${token.id}`,
                    `PCRs include ${wantPcrs.join("+")}`,
                    `PCRs ${list(pcrs.map(String))}`,
                    volume.source,
                  ),
                ],
              ),
            );
        }
        const entry = facts.disk.crypttab.find((c) => c.name === volume.crypttabName);
        if (entry !== undefined && !entry.options.includes("tpm2-device=auto"))
          findings.push(
            fail("crypttabOption", { name: entry.name, options: list(entry.options) }, [
              ev(`crypttab ${entry.name}`, "tpm2-device=auto", list(entry.options), entry.source),
            ]),
          );
        // Debian 13 moved systemd-cryptsetup (which reads tpm2-device=) out of systemd.
        const release = releaseOf(profile.spec.platform);
        const unlocker = release.packages.systemdCryptsetup;
        if (entry !== undefined && !installed(facts, unlocker))
          findings.push(
            fail("unlockPackage", { package: unlocker, release: release.name }, [
              ev(`package ${unlocker}`, "installed", "not installed", "/var/lib/dpkg/status"),
            ]),
          );
      }
      if (findings.length === before)
        findings.push(
          wantTpm
            ? pass("ok", { pcrs: wantPcrs.join("+"), volume: label }, [
                ev(subject, "systemd-tpm2 + PIN", "systemd-tpm2 + PIN", volume.source),
              ])
            : pass("okPassphrase", { volume: label }, [
                ev(subject, "passphrase unlock", "passphrase unlock", volume.source),
              ]),
        );
    }
    if (facts.disk.volumes.length === 0) findings.push(noVolumesFinding(facts));
    return findings;
  },
};
