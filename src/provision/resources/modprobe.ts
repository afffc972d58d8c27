/** Kernel modules (USB-02): USB mass storage cannot load, even if a rule slipped. */
import { managedPath } from "../../facts/managed.js";
import type { Change } from "../types.js";
import { fileChange, header, type PlanContext } from "./common.js";

const modules = ["usb_storage", "uas"];

export const modprobeConf = `${header()}# USB-02: no USB mass storage (uas needs usb_storage; both are blocked)
${modules.map((m) => `blacklist ${m}\ninstall ${m} /bin/false`).join("\n")}
`;

export function planModprobe(ctx: PlanContext): Change[] {
  if (!ctx.profile.spec.devices.blockMassStorage) return [];
  return fileChange(ctx, {
    resource: "modprobe",
    path: managedPath.modprobeUsbStorage,
    content: modprobeConf,
    summary: "block the usb_storage and uas kernel modules",
    controls: ["USB-02"],
    satisfied: modules.every((m) => ctx.facts.usb.modprobeBlocked.includes(m)),
  });
}
