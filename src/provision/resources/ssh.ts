/**
 * SSH (NET-02, NET-03): without `network.ssh` the server is purged (packages resource) and its
 * units masked while still installed; with it, a drop-in read first (sshd: first match wins)
 * allows keys only, no root, and TR-02102-4 algorithms.
 */
import { settingValue, unitOn, unitState } from "../../checks/util.js";
import { managedPath } from "../../facts/managed.js";
import type { Change } from "../types.js";
import { disableOverrides, fileChange, header, maskUnit, type PlanContext } from "./common.js";

/** The drop-in: keys only, no root, TR-02102-4 algorithms, the tunnel address only. */
export function sshdDropIn(listenAddress: string | undefined): string {
  const listen =
    listenAddress === undefined
      ? ""
      : `ListenAddress ${listenAddress.includes(":") ? `[${listenAddress}]` : listenAddress}\n`;
  return `${sshdHardening}${listen}`;
}

const sshdHardening = `${header()}PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
KexAlgorithms ecdh-sha2-nistp384,ecdh-sha2-nistp256,diffie-hellman-group16-sha512
Ciphers aes256-gcm@openssh.com,aes128-gcm@openssh.com,aes256-ctr,aes128-ctr
MACs hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512,hmac-sha2-256
`;

export function planSsh(ctx: PlanContext): Change[] {
  if (!ctx.profile.spec.network.ssh)
    return ["ssh.service", "ssh.socket"]
      .filter((u) => unitOn(unitState(ctx.facts, u)))
      .flatMap((u) => maskUnit(ctx, u, "ssh", ["NET-02"], "no SSH server"));
  const sshd = ctx.facts.network.sshd;
  const wanted: [string, string][] = [
    ["passwordauthentication", "no"],
    ["kbdinteractiveauthentication", "no"],
    ["permitrootlogin", "no"],
  ];
  const changes = fileChange(ctx, {
    // ListenAddress takes effect only when sshd re-reads its configuration; a broken file
    // would keep sshd from starting at all (and lock the technician out).
    check: {
      command: ["/usr/sbin/sshd", "-t"],
      // An image often has no host keys yet (made at first boot): test with a throwaway one.
      // Nor its privilege separation directory, which ssh.service makes (RuntimeDirectory) in
      // /run; the sandbox's /run is its own tmpfs, so the image does not change.
      image: [
        "/bin/sh",
        "-c",
        'mkdir -p -m 0755 /run/sshd && d=$(mktemp -d) && ssh-keygen -q -t ecdsa -N "" -f "$d/k" >/dev/null && exec "$@" -h "$d/k"',
        "sh",
        "/usr/sbin/sshd",
        "-t",
      ],
      reload: "ssh.service",
    },
    resource: "ssh",
    path: managedPath.sshd,
    content: sshdDropIn(ctx.profile.spec.network.sshListenAddress),
    summary: "sshd: keys only, no root login, TR-02102-4 algorithms",
    controls: ["NET-03"],
    satisfied:
      wanted.every(([k, v]) => settingValue(sshd, k).toLowerCase() === v) &&
      settingValue(sshd, "listenaddress") !== "(not set)",
  });
  // sshd takes the first value it reads: an earlier drop-in or sshd_config line would win.
  return [
    ...changes,
    ...disableOverrides(ctx, {
      resource: "ssh",
      controls: ["NET-03"],
      own: managedPath.sshd,
      settings: sshd,
      wanted: Object.fromEntries(wanted.map(([k, v]) => [k, (x: string) => x.toLowerCase() === v])),
    }),
  ];
}
