import type { BlockDevice, Facts } from "../facts/types.js";
import type { Control, Finding } from "./types.js";
import { ev, fail, falsy, isMasked, onCryptMapping, pass, setting, unitState } from "./util.js";

/**
 * Is an active swap device encrypted? /proc/swaps names a mapping by its kernel name
 * (`/dev/dm-1`), and device-mapper is no proof: the installer's plain LVM is dm too. lsblk's
 * tree decides where it shows the device: encrypted when it is a crypt device or sits on one
 * (every place it appears, for an LV spanning several PVs). Without lsblk, or a device it
 * does not show, the name decides as before.
 */
function activeSwapEncrypted(name: string, facts: Facts): boolean {
  if (name.includes("zram")) return true;
  const devices = facts.disk.blockDevices;
  if (devices.available) {
    const onCrypt: boolean[] = [];
    const walk = (nodes: readonly BlockDevice[], below: boolean) => {
      for (const d of nodes) {
        const crypt = below || d.type === "crypt";
        if (d.path === name || (d.kname !== undefined && `/dev/${d.kname}` === name))
          onCrypt.push(crypt);
        walk(d.children, crypt);
      }
    };
    walk(devices.value, false);
    if (onCrypt.length > 0) return onCrypt.every((c) => c);
  }
  return name.startsWith("/dev/mapper/") || name.startsWith("/dev/dm-");
}

const hibernateUnits = ["hibernate.target", "hybrid-sleep.target", "suspend-then-hibernate.target"];
const sleepKeys = ["AllowHibernation", "AllowHybridSleep", "AllowSuspendThenHibernate"];

export const disk06: Control = {
  meta: {
    id: "DISK-06",
    kind: "auto",
    title: {
      de: "Kein unverschlüsselter Auslagerungsspeicher, kein Ruhezustand",
      en: "No unencrypted swap, no hibernation",
    },
    description: {
      de: "Arbeitsspeicher mit biometrischen Daten gelangt nie unverschlüsselt auf den Datenträger: Swap liegt auf einem verschlüsselten Volume oder in zram, und der Ruhezustand (Hibernation) ist abgeschaltet.",
      en: "Memory holding biometric data never reaches the disk in clear: swap sits on an encrypted volume or in zram, and hibernation is disabled.",
    },
    severity: "high",
    references: ["BSI SYS.2.1.A28", "DSGVO Art. 32 Abs. 1 lit. a"],
    sdmGoals: ["vertraulichkeit", "datenminimierung"],
    art32: ["a"],
    facts: ["disk", "services"],
    messages: {
      ok: {
        de: "Erwartet verschlüsselten oder keinen Swap und keinen Ruhezustand, gefunden: {{swap}}; Ruhezustand abgeschaltet.",
        en: "Expected encrypted or no swap and no hibernation, found: {{swap}}; hibernation disabled.",
      },
      swapUnencrypted: {
        de: "Erwartet Swap auf einem verschlüsselten Volume oder zram, gefunden {{swap}}.",
        en: "Expected swap on an encrypted volume or zram, found {{swap}}.",
      },
      hibernation: {
        de: "Erwartet abgeschalteten Ruhezustand ({{units}} maskiert oder {{keys}}=no), gefunden {{actual}}.",
        en: "Expected hibernation disabled ({{units}} masked or {{keys}}=no), found {{actual}}.",
      },
    },
    fix: {
      de: "hibernate.target, hybrid-sleep.target und suspend-then-hibernate.target maskieren und AllowHibernation=no in sleep.conf.d setzen.",
      en: "Mask hibernate.target, hybrid-sleep.target and suspend-then-hibernate.target and set AllowHibernation=no in sleep.conf.d.",
    },
  },
  evaluate(profile, facts) {
    const findings: Finding[] = [];
    const swaps: string[] = [];
    for (const entry of facts.disk.fstab.filter((e) => e.vfstype === "swap")) {
      swaps.push(entry.spec);
      const ok = entry.spec.includes("zram") || onCryptMapping(entry.spec, facts);
      if (!ok)
        findings.push(
          fail("swapUnencrypted", { swap: entry.spec }, [
            ev("fstab swap", "encrypted or zram", entry.spec, entry.source),
          ]),
        );
    }
    if (facts.disk.activeSwap.available) {
      for (const s of facts.disk.activeSwap.value) {
        if (!activeSwapEncrypted(s.name, facts))
          findings.push(
            fail("swapUnencrypted", { swap: s.name }, [
              ev(
                "active swap",
                "encrypted or zram",
                `${s.name} (${s.type})`,
                facts.disk.activeSwap.source,
              ),
            ]),
          );
      }
    }
    if (!profile.spec.disk.hibernation) {
      const states = hibernateUnits.map((u) => `${u}=${unitState(facts, u)}`);
      const masked = hibernateUnits.every((u) => isMasked(unitState(facts, u)));
      const sleepOff = sleepKeys.every((k) => falsy(setting(facts.disk.sleepConf, k)?.value));
      if (!masked && !sleepOff) {
        const sleep = sleepKeys.map(
          (k) => `${k}=${setting(facts.disk.sleepConf, k)?.value ?? "(default yes)"}`,
        );
        findings.push(
          fail(
            "hibernation",
            {
              units: hibernateUnits.join(", "),
              keys: sleepKeys.join("/"),
              actual: [...states, ...sleep].join(", "),
            },
            [
              ev(
                "hibernation",
                "targets masked or sleep.conf Allow*=no",
                [...states, ...sleep].join(", "),
                "/etc/systemd/sleep.conf",
              ),
            ],
          ),
        );
      }
    }
    if (findings.length === 0)
      findings.push(
        pass("ok", {
          swap: swaps.length === 0 ? (facts.disk.zramSwap ? "zram" : "none") : swaps.join(", "),
        }),
      );
    return findings;
  },
};
