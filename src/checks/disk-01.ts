import type { BlockDevice, Facts, FstabEntry } from "../facts/types.js";
import type { Control, Finding } from "./types.js";
import {
  ev,
  fail,
  fstabMount,
  onCryptMapping,
  pass,
  skip,
  unreadableFinding,
  volumeLabel,
  volumeMessages,
} from "./util.js";

/** Mount points whose backing volume must be encrypted (swap is matched by type). */
/** File systems that hold no data of their own on a local disk. */
const virtualFs = new Set([
  "tmpfs",
  "ramfs",
  "proc",
  "sysfs",
  "devtmpfs",
  "devpts",
  "cgroup",
  "cgroup2",
  "securityfs",
  "debugfs",
  "tracefs",
  "efivarfs",
  "pstore",
  "bpf",
  "configfs",
  "mqueue",
  "hugetlbfs",
  "autofs",
  "none",
  "swap",
  "nfs",
  "nfs4",
  "cifs",
  "smb3",
  "sshfs",
  "9p",
  "overlay",
  "squashfs",
  "iso9660",
]);

/** /boot (kernel and initramfs, read by the firmware) may stay unencrypted; everything else may not. */
function isBootMount(mount: string): boolean {
  return mount === "/boot" || mount.startsWith("/boot/");
}

/**
 * Every fstab entry that puts a local disk's data into the tree: not virtual, not network,
 * not a bind mount, not removable media mounted on demand (noauto), not /boot.
 */
function persistentMounts(facts: Facts): FstabEntry[] {
  const byMount = new Map<string, FstabEntry>();
  for (const entry of facts.disk.fstab) byMount.set(entry.file, entry); // the last entry wins, as for mount
  return [...byMount.values()].filter(
    (e) =>
      !virtualFs.has(e.vfstype) &&
      !e.vfstype.startsWith("fuse") &&
      !e.options.includes("bind") &&
      !e.options.includes("rbind") &&
      !e.options.includes("noauto") &&
      !isBootMount(e.file),
  );
}

function hasCryptAncestor(node: BlockDevice, ancestors: BlockDevice[]): boolean {
  return node.type === "crypt" || ancestors.some((a) => a.type === "crypt");
}

function liveFindings(devices: BlockDevice[], source: string): Finding[] {
  const findings: Finding[] = [];
  const walk = (node: BlockDevice, ancestors: BlockDevice[]) => {
    for (const mp of node.mountpoints) {
      if (mp === "" || isBootMount(mp)) continue;
      if (!hasCryptAncestor(node, ancestors))
        findings.push(
          fail("liveUnencrypted", { mount: mp, device: node.path }, [
            ev(`mounted ${mp}`, "a crypt device below it", `${node.path} (${node.type})`, source),
          ]),
        );
    }
    for (const child of node.children) walk(child, [...ancestors, node]);
  };
  for (const device of devices) walk(device, []);
  return findings;
}

export const disk01: Control = {
  meta: {
    id: "DISK-01",
    kind: "auto",
    title: {
      de: "Datenträgerverschlüsselung mit LUKS2 für System, Swap und Benutzerdaten",
      en: "LUKS2 encryption of every volume holding the system, swap or user data",
    },
    description: {
      de: "Alle internen Datenträger, die Betriebssystem, Auslagerungsspeicher oder Benutzerdaten enthalten, sind mit LUKS in Version 2 verschlüsselt (kein LUKS1, kein unverschlüsseltes Datenvolume). Bei Verlust des Geräts sind die personenbezogenen Daten damit unlesbar (Art. 34 Abs. 3 lit. a DSGVO).",
      en: "Every internal volume holding the operating system, swap or user data is encrypted with LUKS version 2 (no LUKS1, no unencrypted data volume), so that personal data stays unintelligible when the device is lost (GDPR Art. 34(3)(a)).",
    },
    severity: "critical",
    references: [
      "BSI SYS.3.1.A13",
      "BSI SYS.2.3.A19",
      "BSI SYS.2.1.A28",
      "DSGVO Art. 32 Abs. 1 lit. a",
    ],
    sdmGoals: ["vertraulichkeit", "integritaet"],
    art32: ["a"],
    facts: ["disk"],
    messages: {
      ok: {
        de: "Erwartet LUKS2 für alle geschützten Datenträger, gefunden: {{volumes}}.",
        en: "Expected LUKS2 on every protected volume, found: {{volumes}}.",
      },
      noEncryptionConfigured: {
        de: "Erwartet ein verschlüsseltes Wurzeldateisystem (crypttab/fstab), gefunden keine Verschlüsselung.",
        en: "Expected an encrypted root file system (crypttab/fstab), found no encryption configured.",
      },
      mountUnencrypted: {
        de: "Erwartet {{mount}} auf einem LUKS-Volume, gefunden {{spec}}.",
        en: "Expected {{mount}} on a LUKS volume, found {{spec}}.",
      },
      luks1: {
        de: "Erwartet LUKS2, gefunden LUKS{{version}} auf {{volume}}.",
        en: "Expected LUKS2, found LUKS{{version}} on {{volume}}.",
      },
      requirements: {
        de: "Erwartet ein nutzbares LUKS2-Volume, gefunden unbekannte Pflichtanforderungen {{requirements}} auf {{volume}}.",
        en: "Expected a usable LUKS2 volume, found unknown mandatory requirements {{requirements}} on {{volume}}.",
      },
      reencryptInterrupted: {
        de: "Erwartet ein nutzbares LUKS2-Volume, gefunden eine unterbrochene Neuverschlüsselung ({{requirements}}) auf {{volume}}; koffer provision setzt sie fort.",
        en: "Expected a usable LUKS2 volume, found an interrupted re-encryption ({{requirements}}) on {{volume}}; koffer provision resumes it.",
      },
      headerMissing: {
        de: "Der LUKS-Header von {{name}} ({{device}}) liegt nicht vor; mit --disk angeben.",
        en: "The LUKS header of {{name}} ({{device}}) is not available; pass it with --disk.",
      },
      liveUnencrypted: {
        de: "Erwartet {{mount}} unter einem crypt-Gerät, gefunden {{device}} ohne Verschlüsselung.",
        en: "Expected {{mount}} below a crypt device, found {{device}} unencrypted.",
      },
      unreadable: volumeMessages.unreadable,
    },
    fix: null,
  },
  evaluate(_profile, facts) {
    const findings: Finding[] = [];
    const disk = facts.disk;
    const root = fstabMount(facts, "/");
    if (disk.crypttab.length === 0 && disk.volumes.length === 0) {
      findings.push(
        fail("noEncryptionConfigured", {}, [
          ev(
            "/etc/crypttab",
            "an entry for the root volume",
            "no entries",
            root?.source ?? "/etc/crypttab",
          ),
        ]),
      );
    }
    for (const entry of persistentMounts(facts)) {
      const mount = entry.file;
      if (!onCryptMapping(entry.spec, facts))
        findings.push(
          fail("mountUnencrypted", { mount, spec: entry.spec }, [
            ev(`fstab ${mount}`, "/dev/mapper/<crypttab name>", entry.spec, entry.source),
          ]),
        );
    }
    for (const entry of disk.fstab.filter((e) => e.vfstype === "swap")) {
      if (!onCryptMapping(entry.spec, facts) && !entry.spec.includes("zram"))
        findings.push(
          fail("mountUnencrypted", { mount: "swap", spec: entry.spec }, [
            ev("fstab swap", "/dev/mapper/<crypttab name> or zram", entry.spec, entry.source),
          ]),
        );
    }
    const seen = new Set<string>();
    for (const volume of disk.volumes) {
      if (volume.crypttabName !== null) seen.add(volume.crypttabName);
      if (volume.error !== undefined || volume.version === null) {
        findings.push(unreadableFinding(volume));
        continue;
      }
      const label = volumeLabel(volume);
      if (volume.version !== 2) {
        findings.push(
          fail("luks1", { version: volume.version, volume: label }, [
            ev(`LUKS volume ${volume.device}`, "LUKS2", `LUKS${volume.version}`, volume.source),
          ]),
        );
      } else if (volume.requirements.some((r) => r.startsWith("online-reencrypt"))) {
        // Known to cryptsetup, but the volume opens only with tools that can finish it.
        findings.push(
          fail(
            "reencryptInterrupted",
            { requirements: volume.requirements.join(", "), volume: label },
            [
              ev(
                `LUKS volume ${volume.device}`,
                "no unfinished re-encryption",
                volume.requirements.join(", "),
                volume.source,
              ),
            ],
          ),
        );
      } else if (volume.requirements.length > 0) {
        findings.push(
          fail("requirements", { requirements: volume.requirements.join(", "), volume: label }, [
            ev(
              `LUKS volume ${volume.device}`,
              "no unknown mandatory requirements",
              volume.requirements.join(", "),
              volume.source,
            ),
          ]),
        );
      } else {
        findings.push(
          pass("ok", { volumes: label }, [
            ev(`LUKS volume ${volume.device}`, "LUKS2", "LUKS2", volume.source),
          ]),
        );
      }
    }
    // A crypttab volume whose header we were not given cannot be judged here.
    for (const entry of disk.crypttab) {
      if (seen.has(entry.name) || entry.options.includes("swap") || entry.options.includes("tmp"))
        continue;
      findings.push(
        skip("headerMissing", { name: entry.name, device: entry.device }, [
          ev(`crypttab ${entry.name}`, "its LUKS header", "not available", entry.source),
        ]),
      );
    }
    if (disk.blockDevices.available)
      findings.push(...liveFindings(disk.blockDevices.value, disk.blockDevices.source));
    if (findings.length === 0) findings.push(pass("ok", { volumes: "none" }));
    return findings;
  },
};
