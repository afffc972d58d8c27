/**
 * Opening a target from the command line's choice: `--root DIR` (with `--disk PATH`…),
 * `--ssh [USER@]HOST`, or nothing for the local machine.
 */
import { UsageError } from "../errors.js";
import { LocalTarget } from "./local.js";
import { RootTarget } from "./root.js";
import type { Target } from "./types.js";

export interface OpenTargetOptions {
  root?: string;
  disks?: string[];
  ssh?: string;
  /** For `ssh`: private key file, known_hosts file, pinned host key, ssh_config file. */
  sshIdentity?: string;
  knownHosts?: string;
  hostKeyFingerprint?: string;
  sshConfig?: string;
}

/**
 * Open the target the options name. Throws {@link UsageError} for contradictory options,
 * {@link IncompleteError} (exit 2) when the target cannot be reached.
 */
export async function openTarget(options: OpenTargetOptions = {}): Promise<Target> {
  if (options.root !== undefined && options.ssh !== undefined) {
    throw new UsageError("--root and --ssh name different targets; give one of them");
  }
  if (options.ssh !== undefined) {
    if ((options.disks ?? []).length > 0) {
      throw new UsageError("--disk names images on this machine; it cannot be combined with --ssh");
    }
    const { SshTarget } = await import("./ssh.js");
    return SshTarget.open({
      destination: options.ssh,
      ...(options.sshIdentity === undefined ? {} : { identityFile: options.sshIdentity }),
      ...(options.knownHosts === undefined ? {} : { knownHostsFile: options.knownHosts }),
      ...(options.hostKeyFingerprint === undefined
        ? {}
        : { hostKeyFingerprint: options.hostKeyFingerprint }),
      ...(options.sshConfig === undefined ? {} : { configFile: options.sshConfig }),
    });
  }
  for (const [flag, value] of [
    ["--ssh-identity", options.sshIdentity],
    ["--known-hosts", options.knownHosts],
    ["--host-key-fingerprint", options.hostKeyFingerprint],
    ["--ssh-config", options.sshConfig],
  ] as const) {
    if (value !== undefined) throw new UsageError(`${flag} only applies with --ssh`);
  }
  if (options.root !== undefined) {
    return RootTarget.open({ root: options.root, disks: options.disks ?? [] });
  }
  return new LocalTarget({ disks: options.disks ?? [] });
}

export { LocalTarget } from "./local.js";
export { RootTarget } from "./root.js";
