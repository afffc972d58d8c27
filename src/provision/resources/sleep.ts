/** Hibernation (DISK-06): the image of RAM would hold keys and data; targets masked, sleep.conf off. */
import { falsy, setting } from "../../checks/util.js";
import { managedPath } from "../../facts/managed.js";
import type { Change } from "../types.js";
import { fileChange, header, maskUnit, type PlanContext } from "./common.js";

const targets = ["hibernate.target", "hybrid-sleep.target", "suspend-then-hibernate.target"];
const keys = ["AllowHibernation", "AllowHybridSleep", "AllowSuspendThenHibernate"];

export const sleepConf = `${header()}[Sleep]\n${keys.map((k) => `${k}=no`).join("\n")}\n`;

export function planSleep(ctx: PlanContext): Change[] {
  if (ctx.profile.spec.disk.hibernation) return [];
  return [
    ...fileChange(ctx, {
      resource: "sleep",
      path: managedPath.sleep,
      content: sleepConf,
      summary: "no hibernation (AllowHibernation=no …)",
      controls: ["DISK-06"],
      satisfied: keys.every((k) => falsy(setting(ctx.facts.disk.sleepConf, k)?.value)),
    }),
    ...targets.flatMap((t) => maskUnit(ctx, t, "sleep", ["DISK-06"], "no hibernation")),
  ];
}
