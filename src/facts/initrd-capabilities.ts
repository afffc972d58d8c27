/**
 * What an initrd needs to unlock a LUKS2 volume with its systemd-tpm2 token, as data that
 * both the initrd gatherer (src/facts/initrd.ts) and DISK-04 use. Pure: no I/O.
 */
import type { InitrdCapabilities } from "./types.js";

/** Capability names DISK-04 requires, in the order evidence lists them. */
export const requiredCapabilities: readonly (keyof InitrdCapabilities)[] = [
  "systemdCryptsetup",
  "tpm2TokenPlugin",
  "tss2Esys",
  "tss2TctiDevice",
];

/** The file each capability stands for, for evidence and messages. */
export const capabilityFiles: Readonly<Record<keyof InitrdCapabilities, string>> = {
  systemdCryptsetup: "systemd-cryptsetup",
  tpm2TokenPlugin: "libcryptsetup-token-systemd-tpm2.so",
  tss2Esys: "libtss2-esys",
  tss2TctiDevice: "libtss2-tcti-device",
};
