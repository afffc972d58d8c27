/**
 * `initrd-tpm2`: the initrd that unlocks the root with its systemd-tpm2 token. dracut and
 * what its `systemd`, `crypt` and `tpm2-tss` modules need are installed (apt in the image
 * sandbox for a root target), then the initrd of every installed kernel is regenerated — by
 * the IMAGE's dracut, so for a root target inside the sandbox (src/targets/sandbox.ts), never
 * on the host — and each new initrd is listed from the host (src/facts/initrd.ts) to prove it
 * holds systemd-cryptsetup, the token plugin and the TPM2 libraries and that its crypttab asks
 * for the token. A run that cannot prove it fails the change.
 *
 * The boot loader: dracut writes /boot/initrd.img-<kver>, the same path initramfs-tools used,
 * so GRUB's menu entries stay valid. On a running laptop `update-grub` runs all the same (it
 * is the documented step after changing initrds); an offline image has no boot loader
 * installed to run it against, so the note says the image builder runs it.
 *
 * The initrds it replaces are backed up first, so `koffer rollback` restores them (not the
 * packages: dracut stays installed, initramfs-tools stays removed).
 */
import { IncompleteError } from "../../errors.js";
import { parseCrypttab } from "../../facts/disk.js";
import { compareKernelVersions, initrdCapabilities } from "../../facts/initrd.js";
import { runInSandbox } from "../../targets/sandbox.js";
import type { Target } from "../../targets/types.js";
import type { ChangeHandler, ChangeOutcome, RunContext } from "../apply.js";
import { MAX_BACKUP_BYTES } from "../state.js";
import { initrdProblem, wantsTpm2 } from "../resources/initrd.js";
import type { Change } from "../types.js";
import type { HandlerState } from "./context.js";
import { aptEnv, ensurePackages } from "./packages.js";

/** Kernels with an image in /boot and modules in /lib/modules: each gets an initrd. */
export async function installedKernels(target: Target): Promise<string[]> {
  const boot = (await target.readDir("/boot")) ?? [];
  const kvers: string[] = [];
  for (const name of boot) {
    const kver = /^vmlinuz-(.+)$/.exec(name)?.[1];
    if (kver === undefined) continue;
    if ((await target.stat(`/usr/lib/modules/${kver}`))?.type === "directory") kvers.push(kver);
  }
  return kvers.sort(compareKernelVersions);
}

async function regenerate(target: Target, kver: string): Promise<void> {
  const args = ["--force", "--kver", kver, `/boot/initrd.img-${kver}`];
  const root = target.kind === "root" ? target.hostPath("/") : null;
  const result =
    root !== null
      ? await runInSandbox(root, "dracut", args, { env: { ...aptEnv }, timeoutMs: 30 * 60_000 })
      : await target.exec("dracut", args, { timeoutMs: 30 * 60_000 });
  if (result.exitCode !== 0)
    throw new IncompleteError(
      "E_INITRD",
      `dracut for ${kver} failed (exit ${result.exitCode}): ${(result.stderr.trim() || result.stdout.trim()).split("\n").slice(-4).join(" ")}`,
    );
}

export function initrdTpm2Handler(state: HandlerState): ChangeHandler {
  return async (change: Change, target: Target, run: RunContext): Promise<ChangeOutcome> => {
    if (change.kind !== "initrd-tpm2") throw new Error("unreachable");
    // `koffer rollback` puts the old initrds back: saved before dracut's install trigger or
    // koffer's own run replaces them.
    for (const kver of await installedKernels(target)) {
      const path = `/boot/initrd.img-${kver}`;
      if ((await target.stat(path))?.type === "file")
        await run.backup(path, { maxBytes: MAX_BACKUP_BYTES });
    }
    // A fresh dracut install regenerates the newest initrd itself (its dpkg trigger), already
    // with the drop-in and crypttab written earlier in the run: such an initrd is not built twice.
    const installed = (await ensurePackages(target, state, change.packages)) === "applied";
    const kernels = await installedKernels(target);
    if (kernels.length === 0)
      throw new IncompleteError("E_INITRD", `no kernel in /boot of ${target.location}`);
    const crypttab = parseCrypttab((await target.readText("/etc/crypttab")) ?? "");
    const wanted = crypttab.filter(wantsTpm2).map((e) => e.name);
    for (const kver of kernels) {
      const path = `/boot/initrd.img-${kver}`;
      const fresh =
        installed &&
        (await target.stat(path))?.type === "file" &&
        initrdProblem(await initrdCapabilities(target, path), wanted) === null;
      if (!fresh) {
        state.options.log?.(`dracut --kver ${kver}`);
        await regenerate(target, kver);
      }
      const problem = initrdProblem(await initrdCapabilities(target, path), wanted);
      if (problem !== null)
        throw new IncompleteError(
          "E_INITRD",
          `the new initrd ${path} cannot unlock with the TPM2 token: ${problem}`,
        );
    }
    if (target.live) {
      if ((await target.stat("/usr/sbin/update-grub"))?.type === "file") {
        const grub = await target.exec("update-grub", [], { timeoutMs: 10 * 60_000 });
        if (grub.exitCode !== 0)
          throw new IncompleteError(
            "E_INITRD",
            `update-grub failed (exit ${grub.exitCode}): ${grub.stderr.trim().split("\n").slice(-3).join(" ")}`,
          );
      }
    } else {
      state.notes.push({
        resource: "initrd",
        kind: "initrd-bootloader",
        message: `initrd of ${kernels.join(", ")} regenerated with dracut at /boot/initrd.img-<kver> (the same paths GRUB's entries name); run update-grub in the image when its boot loader is installed, or on the laptop's first boot`,
      });
    }
    return "applied";
  };
}
