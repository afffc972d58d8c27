/**
 * SSH (NET-02, NET-03): without `network.ssh` the server is purged (packages resource) and its
 * units masked while still installed; with it, a drop-in read first (sshd: first match wins)
 * allows keys only, no root, and TR-02102-4 algorithms.
 */
import { isIP } from "node:net";
import { settingValue, unitOn, unitState } from "../../checks/util.js";
import { managedPath } from "../../facts/managed.js";
import type { Change } from "../types.js";
import { disableOverrides, fileChange, header, maskUnit, type PlanContext } from "./common.js";

/** Test the configuration, then have a running sshd re-read it (nothing when it does not run). */
export const sshdActivate = [
  "/bin/sh",
  "-c",
  "/usr/sbin/sshd -t && systemctl try-reload-or-restart ssh.service",
];

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

/** The sysctl that lets sshd bind `address` before it exists: net.ipv4 or net.ipv6. */
export function nonlocalBindKey(address: string): string {
  return `net.ipv${isIP(address.replace(/^\[|\]$/g, "")) === 6 ? 6 : 4}.ip_nonlocal_bind`;
}

/**
 * sshd listens only on the tunnel address, which exists only once the IPsec tunnel is up
 * (strongSwan installs the virtual IP). Without this sshd fails at boot ("Cannot bind any
 * address") and stays down. Of the ways out, nonlocal bind is the one that keeps sshd
 * itself bound to the tunnel address and up from boot: ordering sshd after the tunnel cannot
 * work (the tunnel comes and goes at run time, and an sshd restarted by an updown hook is
 * down while the tunnel is), socket activation with FreeBind would swap Debian's sshd for
 * per-connection `sshd -i` (no MaxStartups), and listening everywhere behind the firewall
 * alone fails open when nftables does not load. The kernel still delivers nothing to the
 * address until it is configured, and nftables lets port 22 in only through IPsec.
 */
function bindChanges(ctx: PlanContext, address: string | undefined): Change[] {
  const known = ctx.facts.managedFiles?.[managedPath.sshdBind];
  if (address === undefined)
    return known === undefined || known === null
      ? []
      : [
          {
            kind: "remove-file",
            path: managedPath.sshdBind,
            resource: "ssh",
            controls: ["NET-03"],
            summary: "sshd listens on no tunnel address: no nonlocal bind",
          },
        ];
  const key = nonlocalBindKey(address);
  const bare = address.replace(/^\[|\]$/g, "");
  return fileChange(ctx, {
    resource: "ssh",
    path: managedPath.sshdBind,
    content: `${header()}# NET-03: sshd listens only on the tunnel address ${bare}, which exists once the
# IPsec tunnel is up; binding it before lets sshd start at boot (nothing reaches it before).
${key} = 1
`,
    summary: `sshd can bind the tunnel address ${bare} before the tunnel is up (${key} = 1)`,
    controls: ["NET-03"],
    satisfied: ctx.facts.data.sysctl[key]?.value.trim() === "1",
    // Now, on a running laptop whose tunnel is not up: the sshd reload that follows binds it.
    activate: [
      "/bin/sh",
      "-c",
      'test -n "$(ip -o address show to "$1")" || exec sysctl -q -p "$2"',
      "sh",
      bare,
      managedPath.sshdBind,
    ],
  });
}

export function planSsh(ctx: PlanContext): Change[] {
  if (!ctx.profile.spec.network.ssh)
    return [
      ...["ssh.service", "ssh.socket"]
        .filter((u) => unitOn(unitState(ctx.facts, u)))
        .flatMap((u) => maskUnit(ctx, u, "ssh", ["NET-02"], "no SSH server")),
      ...bindChanges(ctx, undefined),
    ];
  const sshd = ctx.facts.network.sshd;
  const wanted: [string, string][] = [
    ["passwordauthentication", "no"],
    ["kbdinteractiveauthentication", "no"],
    ["permitrootlogin", "no"],
  ];
  const listen = ctx.profile.spec.network.sshListenAddress;
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
    content: sshdDropIn(listen),
    summary: "sshd: keys only, no root login, TR-02102-4 algorithms",
    controls: ["NET-03"],
    satisfied:
      wanted.every(([k, v]) => settingValue(sshd, k).toLowerCase() === v) &&
      settingValue(sshd, "listenaddress") !== "(not set)",
  });
  // sshd takes the first value it reads: an earlier drop-in or sshd_config line would win.
  return [
    ...bindChanges(ctx, listen),
    ...changes,
    ...disableOverrides(ctx, {
      resource: "ssh",
      controls: ["NET-03"],
      own: managedPath.sshd,
      settings: sshd,
      wanted: Object.fromEntries(wanted.map(([k, v]) => [k, (x: string) => x.toLowerCase() === v])),
      // The running sshd takes the remaining configuration (existing sessions stay; sshd -t
      // first, so a configuration it refuses is put back before any reload).
      activate: sshdActivate,
    }),
  ];
}
