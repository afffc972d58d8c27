/**
 * Devices known to koffer (domain.md §1.3: ids from usb.ids, libccid and AusweisApp):
 * what `koffer init` offers, and what provisioning needs to know to make each work.
 */
import type { DeviceRole } from "./types.js";

export interface KnownDevice {
  /** Stable key used on the command line (`koffer init --device cyberjack-rfid-komfort`). */
  id: string;
  name: string;
  role: DeviceRole;
  /** `vvvv:pppp`, lower-case; more than one when the device re-enumerates. */
  usb: string[];
  packages?: string[];
  services?: string[];
  note?: string;
}

const pcsc = { packages: ["pcscd", "libccid"], services: ["pcscd.socket"] };
const cyberjack = { packages: ["pcscd", "libifd-cyberjack6"], services: ["pcscd.socket"] };

export const knownDevices: readonly KnownDevice[] = [
  {
    id: "cyberjack-rfid-komfort",
    name: "REINER SCT cyberJack RFID komfort",
    role: "eid-reader",
    usb: ["0c4b:0501"],
    ...cyberjack,
  },
  {
    id: "cyberjack-rfid-standard",
    name: "REINER SCT cyberJack RFID standard",
    role: "eid-reader",
    usb: ["0c4b:0500"],
    ...cyberjack,
    note: "disabled in libccid since 1.4.30; needs REINER's libifd-cyberjack6",
  },
  {
    id: "cyberjack-rfid-basis",
    name: "REINER SCT cyberJack RFID basis",
    role: "eid-reader",
    usb: ["0c4b:9102"],
    ...pcsc,
  },
  {
    id: "omnikey-5422",
    name: "HID OMNIKEY 5422",
    role: "card-reader",
    usb: ["076b:5422"],
    ...pcsc,
  },
  {
    id: "omnikey-5022",
    name: "HID OMNIKEY 5022",
    role: "card-reader",
    usb: ["076b:5022"],
    ...pcsc,
  },
  {
    id: "acs-acr1281u",
    name: "ACS ACR1281U-C4 (BSI)",
    role: "card-reader",
    usb: ["072f:0901"],
    ...pcsc,
  },
  {
    id: "identiv-3700f",
    name: "Identiv uTrust 3700 F",
    role: "card-reader",
    usb: ["04e6:5790"],
    ...pcsc,
  },
  {
    id: "crossmatch",
    name: "Cross Match fingerprint scanner",
    role: "fingerprint-scanner",
    usb: ["080b:0010", "080b:0002"],
    note: "re-enumerates after its firmware loads, so both ids are allowed",
  },
  { id: "signotec-sigma", name: "signotec Sigma", role: "signature-pad", usb: ["2133:0001"] },
  { id: "signotec-omega", name: "signotec Omega", role: "signature-pad", usb: ["2133:010b"] },
  {
    id: "quectel-ec25",
    name: "Quectel EC25 LTE modem",
    role: "lte-modem",
    usb: ["2c7c:0125"],
    packages: ["modemmanager"],
    services: ["ModemManager.service"],
  },
];

/** The known device with this key, or undefined. */
export function findKnownDevice(id: string): KnownDevice | undefined {
  return knownDevices.find((d) => d.id === id);
}
