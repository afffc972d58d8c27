/**
 * The laptop VM's side of its network (issue 10, item 5: the kill switch): the NIC's address
 * plan and what the installer leaves on the laptop for its uplink. Part of the disk's cache
 * key (image.ts); the test's network itself (namespace, tap, gateway, time server, captures)
 * is in uplink.ts, which is not.
 *
 * Addresses: uplink 10.251.9.0/24 (laptop .1 static, gateway .2); town hall 10.20.0.0/24 (a
 * host at .1, the gateway and time server at .254); the laptop's virtual IPs from
 * 10.252.9.0/24 and fd00:252:9::/120.
 */
import { mkdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** The VM's NIC and its static uplink (as the installer leaves it where no DHCP answers). */
export const vmNet = {
  mac: "52:54:00:4b:0f:01",
  laptop: "10.251.9.1/24",
  gateway: "10.251.9.2",
  /** The host in the town hall's network behind the gateway. */
  townHall: "10.20.0.1",
  /** The gateway's inner address, where the town hall's time server answers. */
  ntp: "10.20.0.254",
  pool4: "10.252.9.0/24",
  pool6: "fd00:252:9::/120",
} as const;

/**
 * The installer's network configuration on the laptop's tree: systemd-networkd with the static
 * uplink (matched by the NIC's MAC), and the gateway's name in /etc/hosts (the kill switch lets
 * no DNS out before the tunnel is up, so the name must resolve locally; see nftables.ts).
 * systemd-networkd-wait-online stays disabled: boots without the NIC must not wait for it.
 */
export async function writeUplinkConfig(root: string, gatewayName: string): Promise<void> {
  const dir = join(root, "etc/systemd/network");
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, "20-uplink.network"),
    `# The laptop's wired uplink (written by the installer: static, no DHCP on this link).\n` +
      `[Match]\nMACAddress=${vmNet.mac}\n\n[Network]\nAddress=${vmNet.laptop}\n` +
      `Gateway=${vmNet.gateway}\nLinkLocalAddressing=ipv6\n`,
  );
  const wants = join(root, "etc/systemd/system/multi-user.target.wants");
  const sockets = join(root, "etc/systemd/system/sockets.target.wants");
  await mkdir(wants, { recursive: true });
  await mkdir(sockets, { recursive: true });
  await rm(join(wants, "systemd-networkd.service"), { force: true });
  await symlink(
    "/lib/systemd/system/systemd-networkd.service",
    join(wants, "systemd-networkd.service"),
  );
  await rm(join(sockets, "systemd-networkd.socket"), { force: true });
  await symlink(
    "/lib/systemd/system/systemd-networkd.socket",
    join(sockets, "systemd-networkd.socket"),
  );
  const hosts = join(root, "etc/hosts");
  const text = await readFile(hosts, "utf8");
  if (!text.includes(gatewayName))
    await writeFile(hosts, `${text.replace(/\n?$/, "\n")}${vmNet.gateway}\t${gatewayName}\n`);
}
