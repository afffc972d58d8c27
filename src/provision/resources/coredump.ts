/** Core dumps (DATA-03): a crashed program's memory can hold applicant data; none is kept. */
import { effectiveCoreLimits } from "../../checks/data-03.js";
import { setting } from "../../checks/util.js";
import { managedPath } from "../../facts/managed.js";
import type { Facts } from "../../facts/types.js";
import type { Change } from "../types.js";
import { fileChange, header, type PlanContext } from "./common.js";

export const coredumpConf = `${header()}[Coredump]\nStorage=none\nProcessSizeMax=0\n`;

/**
 * koffer's limits.d file. pam_limits lets a line naming a user (or group) win over `*`
 * whatever the file order, and the last line of one class win within it; so besides `*` the
 * file names root (Debian 13's systemd-coredump raises root's hard limit to infinity in
 * 10-coredump-debian.conf, which sorts before 90-koffer.conf) and every other domain another
 * file gives a core limit above 0.
 */
export function limitsConf(facts?: Facts): string {
  const domains = ["*", "root"];
  for (const l of facts?.data.coreLimits ?? [])
    if (!l.source.startsWith(`${managedPath.limits}:`) && !domains.includes(l.domain))
      domains.push(l.domain);
  const lines = domains.flatMap((d) => [`${d}\thard\tcore\t0`, `${d}\tsoft\tcore\t0`]);
  return `${header()}${lines.join("\n")}\n`;
}

export function planCoredump(ctx: PlanContext): Change[] {
  if (ctx.profile.spec.data.coreDumps) return [];
  const d = ctx.facts.data;
  const effective = [...effectiveCoreLimits(d.coreLimits).values()];
  return [
    ...fileChange(ctx, {
      resource: "coredump",
      path: managedPath.coredump,
      content: coredumpConf,
      summary: "systemd-coredump stores nothing",
      controls: ["DATA-03"],
      satisfied: setting(d.coredump, "Storage")?.value.trim().toLowerCase() === "none",
    }),
    ...fileChange(ctx, {
      resource: "coredump",
      path: managedPath.limits,
      content: limitsConf(ctx.facts),
      summary: "core file size limit 0 for everyone, root and every user or group named elsewhere",
      controls: ["DATA-03"],
      satisfied: effective.some((l) => l.domain === "*") && effective.every((l) => l.value === "0"),
    }),
  ];
}
