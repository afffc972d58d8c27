/**
 * The ssh target's options, shared by facts, verify, plan, provision and rollback.
 */
import type { Command } from "commander";

export interface SshCliOptions {
  ssh?: string;
  sshIdentity?: string;
  knownHosts?: string;
  hostKeyFingerprint?: string;
  sshConfig?: string;
}

export function addSshOptions(command: Command): Command {
  return command
    .option(
      "--ssh <[user@]host[:port]>",
      "a running laptop reached with OpenSSH (root, or a user with sudo -n)",
    )
    .option("--ssh-identity <file>", "with --ssh: the private key to log in with")
    .option(
      "--known-hosts <file>",
      "with --ssh: trust this known_hosts file (default: ~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts)",
    )
    .option(
      "--host-key-fingerprint <SHA256:…>",
      "with --ssh: trust only the host key with this fingerprint (as ssh-keygen -lf prints it)",
    )
    .option(
      "--ssh-config <file>",
      "with --ssh: an ssh_config file (koffer's security options win)",
    );
}

/** The target options these flags give (undefined ones left out). */
export function sshTargetOptions(o: SshCliOptions): SshCliOptions {
  const out: SshCliOptions = {};
  for (const key of [
    "ssh",
    "sshIdentity",
    "knownHosts",
    "hostKeyFingerprint",
    "sshConfig",
  ] as const) {
    if (o[key] !== undefined) out[key] = o[key];
  }
  return out;
}
