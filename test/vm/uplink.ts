/**
 * The laptop VM's network (issue 10, item 5: the kill switch): a host network namespace the
 * test creates (never the host's own network; nothing routes out of it) holding
 *
 * - a tap device, the VM's NIC (virtio-net, no option ROM) attached to it by QEMU run with
 *   `ip netns exec` (qemu.ts, BootOptions.net); its host side is where the captures are taken;
 * - the municipality's VPN gateway on the tap's address: the rig's strongSwan responder
 *   (test/rig/vpn-gateway.ts, systemd-nspawn, kernel-libipsec because this host's kernel has no
 *   ESP/AES-GCM xfrm; the VM's Debian kernel uses its own ESP), with a server certificate the
 *   test issues from the example VPN CA that also signed the laptop's certificate at provision
 *   time, and the profile's gateway identity and proposals;
 * - the town hall's network behind the gateway (a host in a namespace of its own, see
 *   startGateway) and the town hall's time server: chronyd on the gateway's inner address
 *   (`local stratum 8`, answering only the tunnel's address pool, so it is reached only through
 *   the tunnel), the profile's `logging.ntpServers`.
 *
 * Addresses: see network.ts.
 */
import { createHash } from "node:crypto";
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { loadProfileOrThrow } from "../../src/profiles/loader.js";
import { repoRoot } from "../helpers/cli.js";
import { track, undoLeftover } from "../rig/cleanup.js";
import { aptLayerScript, cachedLayer, copyRoot } from "../rig/laptop-root.js";
import { createNetns, deleteNetns } from "../rig/netns.js";
import {
  examplePki,
  gatewayPackages,
  gatewayRoot,
  issueGatewayCert,
  startGateway,
  type Gateway,
} from "../rig/vpn-gateway.js";
import { vmNet } from "./network.js";

const cacheDir = join(homedir(), ".cache", "koffer");
const ntpScript = aptLayerScript(
  ["chrony"],
  // The packaged service would discipline the clock (no CAP_SYS_TIME in the container): the
  // rig runs its own chronyd with -x (never touches a clock) from koffer-rig-ntp.service.
  "ln -sf /dev/null /etc/systemd/system/chrony.service\n",
);

/** The gateway root with chrony (a cached layer on the rig's gateway root). */
export async function vmGatewayRoot(): Promise<string> {
  const recipe = { base: "gatewayRoot(debian-12)", packages: gatewayPackages, script: ntpScript };
  const key = createHash("sha256").update(JSON.stringify(recipe)).digest("hex").slice(0, 12);
  return cachedLayer({
    finalPath: join(cacheDir, `vm-gateway-12-${key}`),
    base: () => gatewayRoot(),
    script: ntpScript,
    archives: join(cacheDir, "apt-archives"),
    what: "VM gateway root (strongSwan, chrony)",
    recipe,
  });
}

/** chronyd as the town hall's time server: its own clock as stratum 8, the tunnel pool only. */
async function addTimeServer(root: string): Promise<void> {
  await mkdir(join(root, "etc/chrony"), { recursive: true });
  await writeFile(
    join(root, "etc/chrony/koffer-rig.conf"),
    `# koffer VM rig: the town hall's time server, answering only the tunnel's address pool\n` +
      `local stratum 8\nallow ${vmNet.pool4}\nbindaddress ${vmNet.ntp}\ncmdport 0\n`,
  );
  await writeFile(
    join(root, "etc/systemd/system/koffer-rig-ntp.service"),
    `[Unit]\nDescription=koffer VM rig: town hall time server\nAfter=network.target\n\n` +
      `[Service]\nExecStart=/usr/sbin/chronyd -d -x -f /etc/chrony/koffer-rig.conf\n\n` +
      `[Install]\nWantedBy=multi-user.target\n`,
  );
  const wants = join(root, "etc/systemd/system/multi-user.target.wants");
  await mkdir(wants, { recursive: true });
  await symlink(
    "/etc/systemd/system/koffer-rig-ntp.service",
    join(wants, "koffer-rig-ntp.service"),
  );
}

export interface VmUplink {
  /** The namespace of the tap and the gateway (qemu runs in it). */
  netns: string;
  tap: string;
  gateway: Gateway;
  /** Stop the gateway, remove the namespaces, the tree copy and the test PKI. Idempotent. */
  stop(): Promise<void>;
}

/** Create the uplink namespace with the tap, boot the gateway (with the time server) on it. */
export async function startVmUplink(opts: {
  profilePath: string;
  name: string;
}): Promise<VmUplink> {
  const profile = await loadProfileOrThrow(opts.profilePath);
  const vpn = profile.spec.vpn;
  if (vpn.gateway === undefined || vpn.gatewayId === undefined)
    throw new Error(`${opts.profilePath} names no VPN gateway`);
  const cleanups: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const undo of cleanups.splice(0).reverse()) await undo().catch(() => undefined);
  };
  try {
    // The test PKI (a copy of the example CA's key) goes also when the run is interrupted.
    const dir = await mkdtemp(join(tmpdir(), "kof-vmnet-pki-"));
    await chmod(dir, 0o700);
    const item = { kind: "mount" as const, name: dir.slice(dir.lastIndexOf("/") + 1), dir };
    const untrack = track({ ...item, path: join(dir, "none") }, () =>
      undoLeftover({ ...item, path: join(dir, "none") }),
    );
    cleanups.push(async () => {
      untrack();
      await rm(dir, { recursive: true, force: true });
    });
    const pki = await examplePki(dir, repoRoot);
    const server = await issueGatewayCert(pki, "gateway", vpn.gatewayId, vpn.gateway);

    const netns = await createNetns("kof-vmup");
    cleanups.push(() => deleteNetns(netns));
    const tap = `kt${createHash("sha256").update(netns).digest("hex").slice(0, 8)}`;
    const ip = (args: string[]) => execa("ip", ["-n", netns, ...args]);
    await ip(["tuntap", "add", "dev", tap, "mode", "tap"]);
    await ip(["addr", "add", `${vmNet.gateway}/24`, "dev", tap]);
    await ip(["link", "set", tap, "up"]);

    const copy = await copyRoot(await vmGatewayRoot(), "overlay");
    cleanups.push(() => copy.cleanup());
    await addTimeServer(copy.path);
    const gateway = await startGateway({
      root: copy.path,
      name: opts.name,
      netns,
      config: {
        id: vpn.gatewayId,
        ike: vpn.proposals.ike,
        esp: vpn.proposals.esp,
        cert: server.cert,
        key: server.key,
        clientCas: [join(dir, "vpn-ca.pem")],
        remoteNet: `${vmNet.townHall}/24`,
        pool4: vmNet.pool4,
        pool6: vmNet.pool6,
      },
    });
    cleanups.push(() => gateway.stop());
    return { netns, tap, gateway, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Capture with tcpdump in `netns` on `iface` (link-level header, numeric, `filter`) while
 * `during` runs; returns tcpdump's lines. tcpdump ends with the capture (SIGINT), and in any
 * case after 10 minutes (`timeout`), so an interrupted run leaves no capture behind.
 */
export async function captureFrames<T>(
  netns: string,
  iface: string,
  filter: string,
  during: () => Promise<T>,
): Promise<{ frames: string[]; result: T }> {
  const tcpdump = execa(
    "ip",
    [
      "netns",
      "exec",
      netns,
      "timeout",
      "600",
      "tcpdump",
      "-i",
      iface,
      "-nn",
      "-e",
      "-l",
      "-U",
    ].concat(filter === "" ? [] : [filter]),
    { reject: false, env: { LC_ALL: "C" } },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      let err = "";
      const timer = setTimeout(() => reject(new Error(`tcpdump did not start: ${err}`)), 30_000);
      tcpdump.stderr?.on("data", (d: Buffer) => {
        err += d.toString();
        if (err.includes("listening on")) {
          clearTimeout(timer);
          resolve();
        }
      });
      void tcpdump.then((r) => {
        clearTimeout(timer);
        reject(new Error(`tcpdump ended (${r.exitCode}): ${err}`));
      });
    });
    const result = await during();
    // Frames still in flight (the last reply) reach the capture.
    await new Promise((r) => setTimeout(r, 1500));
    tcpdump.kill("SIGINT");
    const done = await tcpdump;
    const frames = done.stdout.split("\n").filter((l) => l.trim() !== "");
    return { frames, result };
  } finally {
    if (tcpdump.exitCode === null) tcpdump.kill("SIGKILL");
  }
}

/**
 * What a frame the laptop sent is, by the kill switch's own categories (templates/nftables.conf
 * via src/provision/resources/nftables.ts): "arp" (not IP: the inet table does not see it),
 * "nd" (neighbour/router solicitation and advertisement), "dhcp", "ike" (UDP 500/4500 to the
 * gateway), "esp" (ESP, or ESP in UDP 4500, to the gateway); anything else is "leak".
 */
export function classifyFrame(line: string, gateway: string = vmNet.gateway): string {
  if (/ethertype ARP/.test(line)) return "arp";
  if (/ICMP6, (neighbor solicitation|neighbor advertisement|router solicitation)/.test(line))
    return "nd";
  if (/\.68 > [\d.]+\.67: |\.546 > [\w:.]+\.547: /.test(line)) return "dhcp";
  const to = gateway.replace(/\./g, "\\.");
  if (new RegExp(`> ${to}\\.4500: UDP-encap: ESP|> ${to}: ESP`).test(line)) return "esp";
  if (new RegExp(`> ${to}\\.(500|4500): `).test(line)) return "ike";
  return "leak";
}
