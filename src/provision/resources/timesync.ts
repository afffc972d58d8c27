/** Time (TIME-01): systemd-timesyncd from the profile's approved servers. */
import { setting, unitOn, unitState } from "../../checks/util.js";
import { managedPath } from "../../facts/managed.js";
import type { Change } from "../types.js";
import { disableOverrides, enableUnit, fileChange, header, type PlanContext } from "./common.js";

export function planTimesync(ctx: PlanContext): Change[] {
  const logging = ctx.profile.spec.logging;
  if (!logging.timeSync) return [];
  const chrony =
    unitOn(unitState(ctx.facts, "chrony.service")) && ctx.facts.logging.chrony !== null;
  if (chrony) return []; // chrony is the time service; its sources are its own configuration
  const changes: Change[] = [];
  const servers = logging.ntpServers;
  if (servers !== undefined && servers.length > 0) {
    const current = (setting(ctx.facts.logging.timesyncd, "NTP")?.value ?? "")
      .split(/\s+/)
      .filter((s) => s !== "");
    changes.push(
      ...fileChange(ctx, {
        resource: "timesync",
        path: managedPath.timesyncd,
        content: `${header()}[Time]\nNTP=${servers.join(" ")}\nFallbackNTP=\n`,
        summary: `time from ${servers.join(", ")}`,
        controls: ["TIME-01"],
        satisfied: current.length > 0 && current.every((s) => servers.includes(s)),
      }),
      ...disableOverrides(ctx, {
        resource: "timesync",
        controls: ["TIME-01"],
        own: managedPath.timesyncd,
        settings: ctx.facts.logging.timesyncd,
        wanted: {
          NTP: (v) => {
            const list = v.split(/\s+/).filter((s) => s !== "");
            return list.length > 0 && list.every((s) => servers.includes(s));
          },
        },
      }),
    );
  }
  changes.push(
    ...enableUnit(ctx, "systemd-timesyncd.service", "timesync", ["TIME-01"], "systemd-timesyncd"),
  );
  return changes;
}
