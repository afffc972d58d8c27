/** Core dumps (DATA-03): a crashed program's memory can hold applicant data; none is kept. */
import { setting } from "../../checks/util.js";
import { managedPath } from "../../facts/managed.js";
import type { Change } from "../types.js";
import { fileChange, header, type PlanContext } from "./common.js";

export const coredumpConf = `${header()}[Coredump]\nStorage=none\nProcessSizeMax=0\n`;
export const limitsConf = `${header()}*\thard\tcore\t0\n*\tsoft\tcore\t0\n`;

export function planCoredump(ctx: PlanContext): Change[] {
  if (ctx.profile.spec.data.coreDumps) return [];
  const d = ctx.facts.data;
  const hard = d.coreLimits.filter(
    (l) => l.domain === "*" && (l.type === "hard" || l.type === "-"),
  );
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
      content: limitsConf,
      summary: "core file size limit 0 for everyone",
      controls: ["DATA-03"],
      satisfied: hard[hard.length - 1]?.value === "0",
    }),
  ];
}
