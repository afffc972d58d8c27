/** Units on their own: Bluetooth masked (NET-04), AppArmor enabled (APP-01), pcscd for readers. */
import { installed, unitState } from "../../checks/util.js";
import type { Change } from "../types.js";
import { enableUnit, maskUnit, type PlanContext } from "./common.js";

export function planBluetooth(ctx: PlanContext): Change[] {
  if (ctx.profile.spec.network.bluetooth) return [];
  const absent =
    unitState(ctx.facts, "bluetooth.service") === "not-found" && !installed(ctx.facts, "bluez");
  return absent ? [] : maskUnit(ctx, "bluetooth.service", "bluetooth", ["NET-04"], "no Bluetooth");
}

export function planApparmor(ctx: PlanContext): Change[] {
  return enableUnit(ctx, "apparmor.service", "apparmor", ["APP-01"], "apparmor");
}

/** Services the device inventory names (pcscd.socket for card readers): readiness, not a control. */
export function planDeviceServices(ctx: PlanContext): Change[] {
  const changes: Change[] = [];
  for (const device of ctx.profile.spec.devices.allow)
    for (const service of device.services ?? []) {
      const unit = /\.[a-z]+$/.test(service) ? service : `${service}.service`;
      if (changes.some((c) => "unit" in c && c.unit === unit)) continue;
      changes.push(...enableUnit(ctx, unit, "devices", [], device.packages?.[0]));
    }
  return changes;
}
