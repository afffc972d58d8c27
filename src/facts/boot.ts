/**
 * Boot facts: Secure Boot from the EFI variable, the TPM from sysfs, the kernel command
 * line. Firmware state only exists on a running machine; an offline root reports it as
 * unavailable with the reason, and the command line comes from /etc/default/grub.
 */
import type { Target } from "../targets/types.js";
import { gatherInitrds } from "./initrd.js";
import { grubCmdline, readGrubDefaults, sourceShellFile } from "./parsers/grub.js";
import type { BootFacts, GatherContext, Live } from "./types.js";

/** EFI_GLOBAL_VARIABLE GUID (UEFI spec): SecureBoot lives under it. */
export const secureBootVar =
  "/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c";

export function emptyBootFacts(): BootFacts {
  return {
    secureBoot: { available: false, reason: "not gathered" },
    tpm: { available: false, reason: "not gathered" },
    kernelCmdline: null,
    efiBootEntries: { available: false, reason: "not gathered" },
    initrds: [],
  };
}

const offline = "firmware state is not visible in an offline root filesystem";

/** efivarfs files start with 4 bytes of attributes; SecureBoot's data is one byte, 1 = on. */
export function parseSecureBootVar(data: Buffer): boolean | null {
  if (data.length < 5) return null;
  return data[4] === 1;
}

async function secureBoot(target: Target): Promise<Live<boolean>> {
  if (!target.live) return { available: false, reason: offline };
  if ((await target.stat("/sys/firmware/efi")) === null) {
    return { available: false, reason: "not booted with UEFI (no /sys/firmware/efi)" };
  }
  const data = await target.readFile(secureBootVar);
  if (data === null) {
    // UEFI without the variable: firmware without Secure Boot support, i.e. off.
    return { available: true, value: false, source: secureBootVar };
  }
  const on = parseSecureBootVar(data);
  if (on === null) return { available: false, reason: `${secureBootVar} is truncated` };
  return { available: true, value: on, source: secureBootVar };
}

async function tpm(target: Target): Promise<Live<{ present: boolean; version: number | null }>> {
  if (!target.live) return { available: false, reason: offline };
  const devices = ((await target.readDir("/sys/class/tpm")) ?? []).filter((n) =>
    /^tpm\d+$/.test(n),
  );
  if (devices.length === 0) {
    return { available: true, value: { present: false, version: null }, source: "/sys/class/tpm" };
  }
  const first = devices[0] as string;
  const major = (await target.readText(`/sys/class/tpm/${first}/tpm_version_major`))?.trim();
  return {
    available: true,
    value: { present: true, version: major && /^\d+$/.test(major) ? Number(major) : null },
    source: `/sys/class/tpm/${first}`,
  };
}

/** GRUB_CMDLINE_LINUX and GRUB_CMDLINE_LINUX_DEFAULT of one file, evaluated as sh does. */
export function parseGrubDefault(text: string): string[] {
  const vars = {};
  sourceShellFile(text, "/etc/default/grub", vars);
  return grubCmdline({ vars, files: [] }).value;
}

async function kernelCmdline(target: Target): Promise<BootFacts["kernelCmdline"]> {
  if (target.live) {
    const proc = await target.readText("/proc/cmdline");
    if (proc !== null) {
      return {
        value: proc
          .trim()
          .split(/\s+/)
          .filter((w) => w !== ""),
        source: "/proc/cmdline",
      };
    }
  }
  // grub.d snippets are sourced after the main file: they may append to it or replace it.
  const defaults = await readGrubDefaults(target);
  if (defaults === null) return null;
  const { value, chain } = grubCmdline(defaults);
  return { value, source: defaults.files.join(", "), chain };
}

async function efiBootEntries(target: Target): Promise<Live<string[]>> {
  if (!target.live) return { available: false, reason: offline };
  const names = await target.readDir("/sys/firmware/efi/efivars");
  if (names === null) return { available: false, reason: "not booted with UEFI" };
  const entries = names.filter((n) => /^Boot[0-9A-F]{4}-8be4df61/.test(n));
  const out: string[] = [];
  for (const name of entries.sort()) {
    const data = await target.readFile(`/sys/firmware/efi/efivars/${name}`);
    // EFI_LOAD_OPTION after 4 attribute bytes: UINT32 attributes, UINT16 path length, UCS-2 description.
    if (data === null || data.length < 10) continue;
    let end = 10;
    while (end + 1 < data.length && (data[end] !== 0 || data[end + 1] !== 0)) end += 2;
    out.push(`${name.slice(0, 8)} ${data.subarray(10, end).toString("utf16le")}`);
  }
  return { available: true, value: out, source: "/sys/firmware/efi/efivars" };
}

/** Gather the boot area. */
export async function gatherBoot(target: Target, _ctx: GatherContext): Promise<BootFacts> {
  return {
    secureBoot: await secureBoot(target),
    tpm: await tpm(target),
    kernelCmdline: await kernelCmdline(target),
    efiBootEntries: await efiBootEntries(target),
    initrds: await gatherInitrds(target),
  };
}
