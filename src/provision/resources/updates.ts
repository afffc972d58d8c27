/** Security updates (UPD-01): unattended-upgrades daily, from the security archive. */
import { setting } from "../../checks/util.js";
import { managedPath } from "../../facts/managed.js";
import type { Change } from "../types.js";
import { disableOverrides, enableUnit, fileChange, header, type PlanContext } from "./common.js";

const periodic = ["APT::Periodic::Update-Package-Lists", "APT::Periodic::Unattended-Upgrade"];

export const autoUpgrades = `${header("//")}${periodic.map((k) => `${k} "1";`).join("\n")}\n`;

export const unattendedOrigins = `${header("//")}Unattended-Upgrade::Origins-Pattern {
\t"origin=Debian,codename=\${distro_codename},label=Debian-Security";
\t"origin=Debian,codename=\${distro_codename}-security,label=Debian-Security";
};
`;

export function planUpdates(ctx: PlanContext): Change[] {
  if (!ctx.profile.spec.updates.unattended) return [];
  const conf = ctx.facts.updates.aptConf;
  const security = ctx.facts.updates.unattendedUpgradesOrigins.some((o) =>
    /Debian-Security/.test(o),
  );
  return [
    ...fileChange(ctx, {
      resource: "updates",
      path: managedPath.autoUpgrades,
      content: autoUpgrades,
      summary: "apt: update lists and run unattended-upgrades daily",
      controls: ["UPD-01"],
      satisfied: periodic.every((k) => setting(conf, k)?.value.trim() === "1"),
    }),
    ...disableOverrides(ctx, {
      resource: "updates",
      controls: ["UPD-01"],
      own: managedPath.autoUpgrades,
      settings: conf,
      wanted: Object.fromEntries(periodic.map((k) => [k, (v: string) => v.trim() === "1"])),
      comment: "//",
    }),
    ...fileChange(ctx, {
      resource: "updates",
      path: managedPath.unattendedOrigins,
      content: unattendedOrigins,
      summary: "unattended-upgrades: Debian security updates",
      controls: ["UPD-01"],
      satisfied: security,
    }),
    ...enableUnit(ctx, "apt-daily.timer", "updates", ["UPD-01"], "apt"),
    ...enableUnit(ctx, "apt-daily-upgrade.timer", "updates", ["UPD-01"], "apt"),
  ];
}
