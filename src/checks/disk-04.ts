import { capabilityFiles, requiredCapabilities } from "../facts/initrd-capabilities.js";
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
  enrolUnit,
  firstBootEnrolment,
  unreadable,
  unreadableFinding,
  volumeLabel,
  noVolumesFinding,
  volumeMessages,
} from "./util.js";

/**
 * A volume without any TPM2 token: `pending` when the first-boot enrolment is installed for it
 * (script, unit enabled, the volume in its config with the profile's PCRs) and has not
 * failed; `fail` with the script's own note when it failed; `fail` when nothing is installed
 * or a part is missing.
 */
function noToken(facts: Facts, volume: LuksVolume, label: string, wantPcrs: number[]): Finding {
  const subject = `LUKS volume ${volume.device}`;
  const expected = "systemd-tpm2 token with tpm2-pin";
  const fb = firstBootEnrolment(facts, volume, label, wantPcrs);
  switch (fb.kind) {
    case "absent":
      return fail("pending", { volume: label }, [
        ev(subject, expected, "no systemd-tpm2 token", volume.source),
      ]);
    case "failed":
      return fail("firstBootFailed", { volume: label, failure: fb.failure.text }, [
        ev(subject, expected, "no systemd-tpm2 token", volume.source),
        ev(enrolUnit, "enrolment done", `failed: ${fb.failure.text}`, fb.failure.source),
      ]);
    case "incomplete":
      return fail("firstBootIncomplete", { volume: label, missing: list(fb.missing) }, [
        ev(subject, expected, "no systemd-tpm2 token", volume.source),
        ev(enrolUnit, "installed, enabled, volume configured", list(fb.missing), fb.entry?.source),
      ]);
    case "pending":
      return pending(
        "firstBootPending",
        { volume: label, pcrs: fb.entry.pcrs.join("+"), unit: enrolUnit },
        [
          ev(subject, expected, "enrolment at first boot pending", volume.source),
          ev(enrolUnit, "enabled", fb.unitState, fb.unit ?? undefined),
          ev(
            "/etc/koffer/tpm2-enrol.conf",
            label,
            `${fb.entry.name} ${fb.entry.device}`,
            fb.entry.source,
          ),
        ],
      );
  }
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
    facts: ["disk", "apps", "boot", "services"],
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
      initrdToken: {
        de: "Erwartet eine initramfs, die das systemd-tpm2-Token nutzen kann, in {{initrd}} (Standardkernel), gefunden {{generator}} ohne {{missing}}.",
        en: "Expected an initramfs that can use the systemd-tpm2 token in {{initrd}} (default kernel), found {{generator}} without {{missing}}.",
      },
      initrdCrypttab: {
        de: "Erwartet tpm2-device=auto für {{name}} in der Crypttab der initramfs {{initrd}}, gefunden {{found}}.",
        en: "Expected tpm2-device=auto for {{name}} in the crypttab inside the initramfs {{initrd}}, found {{found}}.",
      },
      initrdUnreadable: {
        de: "Erwartet eine lesbare initramfs {{initrd}} (Standardkernel), gefunden: {{error}}.",
        en: "Expected a readable initramfs {{initrd}} (default kernel), found: {{error}}.",
      },
      ...volumeMessages,
    },
    fix: {
      de: "TPM2 mit PIN registrieren (systemd-cryptenroll --tpm2-device=auto --tpm2-with-pin=yes --tpm2-pcrs=7), tpm2-device=auto in /etc/crypttab eintragen und die initramfs mit dracut (Module systemd, crypt, tpm2-tss) neu erzeugen (koffer provision erledigt alles).",
      en: "Enrol TPM2 with PIN (systemd-cryptenroll --tpm2-device=auto --tpm2-with-pin=yes --tpm2-pcrs=7), add tpm2-device=auto to /etc/crypttab and regenerate the initramfs with dracut (modules systemd, crypt, tpm2-tss); koffer provision does all of it.",
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
    // The initrd is judged once per laptop; while it cannot use the token no volume passes.
    const boot = wantTpm && facts.disk.volumes.length > 0 ? initrdFindings(facts) : [];
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
      if (findings.length === before && boot.length === 0)
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
    findings.push(...boot);
    if (facts.disk.volumes.length === 0) findings.push(noVolumesFinding(facts));
    return findings;
  },
};

/** The crypttab name of the volume holding `/` (fstab, else the kernel's `root=`), if any. */
function rootMapping(facts: Facts): string | null {
  const specs = [
    facts.disk.fstab.find((e) => e.file === "/")?.spec,
    facts.boot.kernelCmdline?.value.find((w) => w.startsWith("root="))?.slice(5),
  ];
  for (const spec of specs) {
    const name = /^\/dev\/mapper\/(.+)$/.exec(spec ?? "")?.[1];
    if (name !== undefined && facts.disk.crypttab.some((c) => c.name === name)) return name;
  }
  return null;
}

/**
 * The initrd of the default kernel is what unlocks the root at boot: it must hold
 * systemd-cryptsetup, the libcryptsetup systemd-tpm2 token plugin and the TPM2 libraries, and
 * its crypttab must ask for the token. A root without kernels (a container tree) has no
 * initrd to judge, and snapshots from before koffer listed initrds say nothing about them.
 */
function initrdFindings(facts: Facts): Finding[] {
  const initrd = facts.boot.initrds?.find((i) => i.default);
  if (initrd === undefined) return [];
  const subject = `initramfs ${initrd.path}`;
  if (initrd.error !== undefined)
    return [
      fail("initrdUnreadable", { initrd: initrd.path, error: initrd.error }, [
        ev(subject, "a complete cpio listing", initrd.error, initrd.source),
      ]),
    ];
  const missing = requiredCapabilities
    .filter((c) => initrd.capabilities[c] === null)
    .map((c) => capabilityFiles[c]);
  if (missing.length > 0)
    return [
      fail(
        "initrdToken",
        { initrd: initrd.path, generator: initrd.generator, missing: list(missing) },
        [
          ev(
            subject,
            requiredCapabilities.map((c) => capabilityFiles[c]).join(", "),
            `${initrd.generator}, missing ${list(missing)}`,
            initrd.source,
          ),
        ],
      ),
    ];
  const name = rootMapping(facts);
  if (name === null) return [];
  // Without a crypttab inside, systemd-cryptsetup only sees rd.luks.options= on the command line.
  const cmdline = (facts.boot.kernelCmdline?.value ?? []).filter((w) =>
    w.startsWith("rd.luks.options="),
  );
  if (cmdline.some((w) => w.split(/[=,]/).includes("tpm2-device"))) return [];
  const entry = initrd.crypttab?.entries.find((e) => e.name === name);
  if (entry?.options.includes("tpm2-device=auto")) return [];
  const found =
    initrd.crypttab === null
      ? "no crypttab"
      : entry === undefined
        ? `no line for ${name}`
        : list(entry.options);
  return [
    fail("initrdCrypttab", { name, initrd: initrd.path, found }, [
      ev(
        `${subject} ${initrd.crypttab?.path ?? "/etc/crypttab"}`,
        `${name} … tpm2-device=auto`,
        found,
        initrd.source,
      ),
    ]),
  ];
}
