import type { Control, Finding } from "./types.js";
import { explain, explainUnset } from "../facts/effective.js";
import { sysctlInteger } from "../facts/parsers/sysctl.js";
import { cmdlineSource, ev, fail, pass } from "./util.js";

/** Kernel parameters that turn the IOMMU on (DMA protection). */
const iommuOn = ["intel_iommu=on", "amd_iommu=on", "iommu=force", "amd_iommu=force_isolation"];
const iommuOff = ["intel_iommu=off", "amd_iommu=off", "iommu=off", "iommu=pt"];

export const boot04: Control = {
  meta: {
    id: "BOOT-04",
    kind: "auto",
    title: {
      de: "Kernel-Härtung: SysRq aus, DMA-Schutz aktiv",
      en: "Kernel hardening: SysRq off, DMA protection on",
    },
    description: {
      de: "Kritische SysRq-Funktionen sind abgeschaltet (kernel.sysrq = 0) und die IOMMU schützt vor DMA-Angriffen über Thunderbolt oder andere Schnittstellen.",
      en: "Critical SysRq functions are off (kernel.sysrq = 0) and the IOMMU protects against DMA attacks through Thunderbolt or other ports.",
    },
    severity: "medium",
    references: ["BSI SYS.2.3.A20", "BSI SYS.2.1.A8", "DSGVO Art. 32 Abs. 1 lit. b"],
    sdmGoals: ["integritaet", "vertraulichkeit"],
    art32: ["b"],
    facts: ["boot", "data"],
    messages: {
      ok: {
        de: "Erwartet kernel.sysrq = 0 und IOMMU an, gefunden kernel.sysrq = 0 und {{iommu}}.",
        en: "Expected kernel.sysrq = 0 and the IOMMU on, found kernel.sysrq = 0 and {{iommu}}.",
      },
      sysrq: {
        de: "Erwartet kernel.sysrq = 0, gefunden {{value}}.",
        en: "Expected kernel.sysrq = 0, found {{value}}.",
      },
      iommu: {
        de: "Erwartet einen IOMMU-Parameter ({{expected}}) in der Kernel-Befehlszeile, gefunden {{actual}}.",
        en: "Expected an IOMMU parameter ({{expected}}) on the kernel command line, found {{actual}}.",
      },
    },
    fix: {
      de: "kernel.sysrq = 0 in /etc/sysctl.d schreiben und intel_iommu=on iommu=force in GRUB_CMDLINE_LINUX setzen.",
      en: "Write kernel.sysrq = 0 to /etc/sysctl.d and add intel_iommu=on iommu=force to GRUB_CMDLINE_LINUX.",
    },
  },
  evaluate(_profile, facts) {
    const findings: Finding[] = [];
    const live = facts.data.sysctlLive;
    const file = facts.data.sysctl["kernel.sysrq"];
    const value =
      live.available && live.value["kernel.sysrq"] !== undefined
        ? live.value["kernel.sysrq"]
        : file?.value;
    const source =
      live.available && live.value["kernel.sysrq"] !== undefined
        ? live.source
        : file !== undefined
          ? explain(file)
          : explainUnset(facts.data.sysctlNotRead ?? [], "not set in /etc/sysctl.d");
    if (sysctlInteger(value) !== 0)
      findings.push(
        fail("sysrq", { value: value ?? "(not set; kernel default)" }, [
          ev("kernel.sysrq", "0", value ?? "(not set)", source),
        ]),
      );
    const cmdline = facts.boot.kernelCmdline;
    const args = cmdline?.value ?? [];
    const on = args.filter((a) => iommuOn.includes(a));
    const off = args.filter((a) => iommuOff.includes(a));
    if (on.length === 0 || off.length > 0) {
      const actual =
        cmdline === null
          ? "no kernel command line"
          : args.length === 0
            ? "(empty)"
            : args.join(" ");
      findings.push(
        fail("iommu", { expected: iommuOn.join(" | "), actual }, [
          ev("kernel command line", iommuOn.join(" | "), actual, cmdlineSource(cmdline)),
        ]),
      );
    }
    if (findings.length === 0) findings.push(pass("ok", { iommu: on.join(" ") }));
    return findings;
  },
};
