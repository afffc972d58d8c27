/**
 * Kernel settings (BOOT-04, DATA-03, VPN-07): one sysctl.d drop-in, and the IOMMU on the
 * kernel command line through a grub.d snippet (takes effect after update-grub).
 */
import { managedPath } from "../../facts/managed.js";
import type { Change } from "../types.js";
import { disableOverrides, fileChange, header, type PlanContext } from "./common.js";

const iommuOn = ["intel_iommu=on", "amd_iommu=on", "iommu=force", "amd_iommu=force_isolation"];
const iommuOff = ["intel_iommu=off", "amd_iommu=off", "iommu=off", "iommu=pt"];

/** Puts the sysctl.d files into effect on a running machine, in the order boot applies them. */
export const sysctlActivate = ["systemctl", "restart", "systemd-sysctl.service"];

/** The settings koffer wants, in file order; IPv6 is switched off only when it is not tunnelled. */
export function sysctlSettings(ctx: PlanContext): [key: string, value: string, why: string][] {
  const out: [string, string, string][] = [
    ["kernel.sysrq", "0", "BOOT-04: no magic SysRq"],
    ["kernel.kptr_restrict", "2", "BOOT-04: no kernel pointers for attackers"],
    ["kernel.dmesg_restrict", "1", "BOOT-04: kernel log for root only"],
  ];
  if (!ctx.profile.spec.data.coreDumps) {
    out.push(["fs.suid_dumpable", "0", "DATA-03: no core dumps of privileged programs"]);
    out.push(["kernel.core_pattern", "|/bin/false", "DATA-03: core dumps go nowhere"]);
  }
  if (!ctx.profile.spec.vpn.remoteNetworks.includes("::/0"))
    out.push(["net.ipv6.conf.all.disable_ipv6", "1", "VPN-07: IPv6 is not tunnelled"]);
  return out;
}

function value(ctx: PlanContext, key: string): string | undefined {
  return ctx.facts.data.sysctl[key]?.value.trim();
}

export function planSysctl(ctx: PlanContext): Change[] {
  const settings = sysctlSettings(ctx);
  const content =
    header() + settings.map(([k, v, why]) => `# ${why}\n${k} = ${v}`).join("\n") + "\n";
  // Only what a check judges decides without a byte-level record.
  const judged = ["kernel.sysrq", "fs.suid_dumpable", "net.ipv6.conf.all.disable_ipv6"];
  const satisfied = settings
    .filter(([k]) => judged.includes(k))
    .every(([k, v]) => value(ctx, k) === v);
  const changes: Change[] = fileChange(ctx, {
    resource: "sysctl",
    path: managedPath.sysctl,
    content,
    summary: `kernel settings: ${settings.map(([k, v]) => `${k}=${v}`).join(", ")}`,
    controls: ["BOOT-04", "DATA-03", "VPN-07"].filter(
      (id) => id !== "DATA-03" || !ctx.profile.spec.data.coreDumps,
    ),
    satisfied,
    // On a running laptop the checks judge the kernel's live values: apply every sysctl.d
    // file as at boot (systemd-sysctl skips a read-only /proc/sys, as in a container).
    activate: sysctlActivate,
  });
  // A later (or same-named, higher-ranking) sysctl.d file would win over koffer's own.
  for (const [key, wanted, why] of settings.filter(([k]) => judged.includes(k)))
    changes.push(
      ...disableOverrides(ctx, {
        resource: "sysctl",
        controls: [why.slice(0, why.indexOf(":"))],
        own: managedPath.sysctl,
        settings: ctx.facts.data.sysctl,
        wanted: { [key]: (v) => v.trim() === wanted },
        activate: sysctlActivate,
      }),
    );
  const args = ctx.facts.boot.kernelCmdline?.value ?? [];
  const iommuSatisfied =
    args.some((a) => iommuOn.includes(a)) && !args.some((a) => iommuOff.includes(a));
  changes.push(
    ...fileChange(ctx, {
      resource: "sysctl",
      path: managedPath.grub,
      content: `${header()}# BOOT-04: DMA protection by the IOMMU (run update-grub to apply)
GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX intel_iommu=on amd_iommu=force_isolation"
`,
      summary: "kernel command line: IOMMU on (intel_iommu=on amd_iommu=force_isolation)",
      controls: ["BOOT-04"],
      satisfied: iommuSatisfied,
    }),
  );
  return changes;
}
