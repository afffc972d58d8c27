/**
 * Who the laptop is: hostname, machine-id and (live only) the DMI serial number,
 * so a report names the device a data-protection officer can find in the inventory.
 */
import type { Target } from "../targets/types.js";
import type { Facts } from "./types.js";

export async function gatherHost(target: Target): Promise<Facts["host"]> {
  const hostnameFile = (await target.readText("/etc/hostname"))?.trim();
  const hostname =
    hostnameFile ||
    (target.live ? (await target.readText("/proc/sys/kernel/hostname"))?.trim() : undefined) ||
    "unknown";
  const machineId = (await target.readText("/etc/machine-id"))?.trim() || null;
  let serialNumber: string | null = null;
  if (target.live) {
    // Readable by root only; a non-root run simply has no serial.
    try {
      serialNumber = (await target.readText("/sys/class/dmi/id/product_serial"))?.trim() || null;
    } catch {
      serialNumber = null;
    }
  }
  return { hostname, machineId, serialNumber };
}
