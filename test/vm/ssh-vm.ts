/**
 * The laptop VM administered over ssh (issue 12): koffer on the controller in the town hall's
 * network (the uplink's namespace behind the gateway, uplink.ts) reaches the running laptop's
 * sshd through the IPsec tunnel, at the profile's sshListenAddress (the laptop's virtual
 * address from the gateway's pool), as the profile's admin with a key and `sudo -n`.
 *
 * What the technician does once on the laptop's console before that (harness: typed on the
 * serial console): authorise the controller's key for the admin, allow the admin sudo without
 * a password (koffer never types one), and read the host key off the console for known_hosts.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { repoRoot } from "../helpers/cli.js";
import { adminUser, vmProfilePath } from "./image.js";
import type { Vm } from "./qemu.js";

export interface SshAccess {
  /** `kisa-admin@10.252.9.1`. */
  destination: string;
  /** `--ssh … --ssh-identity … --known-hosts …`. */
  args: string[];
  remove(): Promise<void>;
}

/**
 * The controller's key (ECDSA P-384, made here), authorised for the admin on the VM with a
 * sudoers drop-in (NOPASSWD, the admin only); the laptop's ECDSA host key read off the console.
 */
export async function prepareSshAccess(vm: Vm, address: string): Promise<SshAccess> {
  const dir = await mkdtemp(join(tmpdir(), "kof-vmssh-"));
  const identity = join(dir, "id_ecdsa");
  await execa("ssh-keygen", ["-q", "-t", "ecdsa", "-b", "384", "-N", "", "-f", identity]);
  const pub = (await readFile(`${identity}.pub`, "utf8")).trim();
  const home = `/home/${adminUser}`;
  const setup = await vm.sh(
    [
      `install -d -m 700 -o ${adminUser} -g ${adminUser} ${home}/.ssh`,
      `printf '%s\\n' '${pub}' > ${home}/.ssh/authorized_keys`,
      `chown ${adminUser}:${adminUser} ${home}/.ssh/authorized_keys`,
      `chmod 600 ${home}/.ssh/authorized_keys`,
      `printf '%s ALL=(ALL:ALL) NOPASSWD: ALL\\n' ${adminUser} > /etc/sudoers.d/${adminUser}`,
      `chmod 440 /etc/sudoers.d/${adminUser}`,
      "visudo -c >/dev/null",
      "systemctl is-active ssh.service",
      "cat /etc/ssh/ssh_host_ecdsa_key.pub",
    ].join(" && "),
  );
  if (setup.code !== 0) throw new Error(`setting up ssh access on the VM failed:\n${setup.out}`);
  const hostKey = /^(ecdsa-sha2-nistp\d+) (\S+)/m.exec(setup.out);
  if (hostKey === null) throw new Error(`no ECDSA host key on the console:\n${setup.out}`);
  const knownHosts = join(dir, "known_hosts");
  await writeFile(knownHosts, `${address} ${hostKey[1]} ${hostKey[2]}\n`, { mode: 0o600 });
  const destination = `${adminUser}@${address}`;
  return {
    destination,
    args: ["--ssh", destination, "--ssh-identity", identity, "--known-hosts", knownHosts],
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

export interface KofferRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** The built koffer (bin/koffer.js) run in `netns` (the town hall's network). */
export async function kofferIn(netns: string, args: string[]): Promise<KofferRun> {
  const started = Date.now();
  const r = await execa(
    "ip",
    ["netns", "exec", netns, process.execPath, join(repoRoot, "bin", "koffer.js"), ...args],
    {
      reject: false,
      timeout: 15 * 60_000,
      env: { LC_ALL: "C", NO_COLOR: "1" },
      extendEnv: true,
    },
  );
  return {
    exitCode: r.exitCode ?? -1,
    stdout: String(r.stdout),
    stderr: String(r.stderr),
    seconds: Math.round((Date.now() - started) / 100) / 10,
  };
}

/** `koffer verify --ssh` with the VM's profile, as JSON. */
export const verifySshArgs = (access: SshAccess) => [
  "verify",
  ...access.args,
  "--profile",
  vmProfilePath,
  "--format",
  "json",
  "--lang",
  "en",
];

/** `koffer provision --ssh --yes` with the VM's profile and the example VPN CA. */
export const provisionSshArgs = (access: SshAccess) => [
  "provision",
  ...access.args,
  "--profile",
  vmProfilePath,
  "--yes",
  "--ca-p12",
  join(repoRoot, "examples", "certs", "test-vpn-ca.p12"),
  "--ca-passphrase-file",
  join(repoRoot, "examples", "certs", "test-vpn-ca.pass"),
  "--lang",
  "en",
];

/** Control id → status of a `--format json` result. */
export function statusesOf(json: string): Map<string, string> {
  const result = JSON.parse(json) as { controls: { id: string; status: string }[] };
  return new Map(result.controls.map((c) => [c.id, c.status] as const));
}

/** Controls whose status differs between two results, as "ID: a ≠ b". */
export function differingControls(a: Map<string, string>, b: Map<string, string>): string[] {
  return [...new Set([...a.keys(), ...b.keys()])]
    .filter((id) => a.get(id) !== b.get(id))
    .map((id) => `${id}: ${a.get(id) ?? "absent"} ≠ ${b.get(id) ?? "absent"}`)
    .sort();
}

/**
 * Drift on the running laptop that provisioning fixes without a reboot: a kernel setting
 * (BOOT-04: SysRq on, koffer's sysctl.d file gone), sshd (NET-03: password logins allowed by
 * a drop-in read before koffer's, sshd reloaded) and the firewall (VPN-06: the kill switch's
 * output policy accept, the ruleset reloaded).
 */
export const driftScript = [
  "rm -f /etc/sysctl.d/90-koffer.conf && sysctl -q -w kernel.sysrq=1",
  "printf 'PasswordAuthentication yes\\n' > /etc/ssh/sshd_config.d/00-aaa-drift.conf && systemctl reload ssh.service",
  "sed -i '/hook output/,/}/s/policy drop;/policy accept;/' /etc/nftables.conf && nft -f /etc/nftables.conf",
  "sysctl -n kernel.sysrq; sshd -T 2>/dev/null | grep -i '^passwordauthentication'; nft list chain inet koffer output 2>/dev/null | grep -m1 policy || nft list ruleset | grep -m2 'hook output'",
].join(" && ");
