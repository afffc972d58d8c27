/**
 * Network behaviour of a running mutated laptop (issue 11, live oracle): the truth of the
 * firewall controls is what the kernel's netfilter does with packets, not what a listing of
 * the ruleset says. A booted machine gets a veth link named `wlan0` (its Wi-Fi, as on the
 * real laptop) to a peer network namespace the test creates (10.251.11.0/24, never routed
 * out of the host); the peer is the café LAN, its router and everything behind it.
 *
 * - inbound (NET-01): the peer sends new TCP connections, UDP datagrams, an ICMP echo and an
 *   ICMPv6 echo to the laptop; raw sockets inside the laptop record what netfilter's input
 *   hook let through (the kernel hands raw sockets a copy only after NF_INET_LOCAL_IN, and
 *   before any reply, so the output chain does not blur the answer). Neighbour discovery is
 *   what the catalogue allows: the peer knows the laptop's link-layer address statically and
 *   ICMPv6 other than echo is not counted.
 * - egress (VPN-06, the kill switch while the tunnel is down): the laptop sends DNS, DoT,
 *   NTP, HTTP(S) and SSH to the LAN, its router and public resolvers, and IKE/NAT-T (UDP
 *   500/4500) and ESP to them too; tcpdump on the peer's end of the link records what left.
 *   IKE, ESP and DHCP are what the catalogue lets leave outside the tunnel: IKE and ESP to the
 *   gateway only, once the laptop knows its address without DNS (its /etc/hosts, asked with
 *   `getent -s files`), and to anywhere while it does not.
 *
 * Both senders are the laptop tree's own python3 (the peer runs it chrooted into the tree,
 * in the peer namespace), so the host needs nothing but iproute2 and tcpdump.
 */
import { execa } from "execa";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { BootedMachine } from "../rig/machine.js";
import { createNetns, deleteNetns } from "../rig/netns.js";

export const laptopAddr = "10.251.11.1";
export const peerAddr = "10.251.11.2";
export const laptopIf = "wlan0";

/** TCP ports and UDP ports the peer tries inbound (remote desktop, file sharing, printing …). */
export const inboundTcp = [22, 80, 139, 443, 445, 631, 3389, 5900, 8080];
export const inboundUdp = [53, 137, 631, 1900, 5353];
/** Destinations and ports the laptop tries outbound: the LAN peer, a home router, public DNS. */
export const egressDestinations = [peerAddr, "192.168.178.1", "9.9.9.9", "1.1.1.1"];
/** IKE and NAT-T (500, 4500) too: they may leave only to the gateway once its address is known. */
export const egressUdp = [53, 123, 500, 853, 4500, 5353];
export const egressTcp = [22, 53, 80, 443, 853];

export interface LiveNet {
  peerNs: string;
  peerIf: string;
  /** The laptop's IPv6 link-local address on wlan0. */
  laptopLinkLocal: string;
  close(): Promise<void>;
}

async function must(cmd: string, args: string[]): Promise<string> {
  const r = await execa(cmd, args, { reject: false, env: { LC_ALL: "C" } });
  if (r.exitCode !== 0)
    throw new Error(`${cmd} ${args.join(" ")} failed (${r.exitCode}): ${r.stderr}`);
  return r.stdout;
}

async function inMachine(machine: BootedMachine, argv: string[]): Promise<string> {
  const r = await machine.run(argv, { timeoutMs: 20_000 });
  if (r.exitCode !== 0)
    throw new Error(`${argv.join(" ")} in ${machine.name} failed (${r.exitCode}): ${r.stderr}`);
  return r.stdout;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Give a booted machine its wlan0 to a fresh peer namespace. NetworkManager is told to leave
 * the link alone (a DHCP attempt would flush the address); the default route points at the
 * peer, so every destination's packets arrive there and nowhere else.
 */
export async function attachNetwork(machine: BootedMachine): Promise<LiveNet> {
  const peerNs = await createNetns("kof-mutpeer");
  try {
    const tag = randomBytes(3).toString("hex");
    const peerIf = `kv${tag}p`;
    const inner = `kv${tag}l`;
    await must("ip", [
      "link",
      "add",
      peerIf,
      "netns",
      peerNs,
      "type",
      "veth",
      "peer",
      "name",
      inner,
      "netns",
      String(machine.leaderPid),
    ]);
    await must("ip", ["-n", peerNs, "addr", "add", `${peerAddr}/24`, "dev", peerIf]);
    await must("ip", ["-n", peerNs, "link", "set", peerIf, "up"]);
    await inMachine(machine, ["ip", "link", "set", inner, "name", laptopIf]);
    // Unmanaged before it comes up: NetworkManager would otherwise start DHCP on it.
    await machine.run(["nmcli", "device", "set", laptopIf, "managed", "no"], { timeoutMs: 10_000 });
    await inMachine(machine, ["ip", "addr", "add", `${laptopAddr}/24`, "dev", laptopIf]);
    await inMachine(machine, ["ip", "link", "set", laptopIf, "up"]);
    await inMachine(machine, ["ip", "route", "replace", "default", "via", peerAddr]);
    // The link-local address, once duplicate address detection is over.
    let laptopLinkLocal = "";
    for (let i = 0; i < 100 && laptopLinkLocal === ""; i++) {
      const out = await inMachine(machine, ["ip", "-6", "-o", "addr", "show", "dev", laptopIf]);
      const m = /inet6 (fe80::[0-9a-f:]+)\/64 scope link(?! tentative)/.exec(out);
      if (m && !/tentative/.test(out)) laptopLinkLocal = m[1]!;
      else await sleep(100);
    }
    if (laptopLinkLocal === "") throw new Error(`${laptopIf} got no usable link-local address`);
    // The peer's own link-local address too: while it is tentative, the peer has no source
    // address for ICMPv6 to the laptop (sendto: EADDRNOTAVAIL).
    let peerReady = false;
    for (let i = 0; i < 100 && !peerReady; i++) {
      const out = await must("ip", ["-n", peerNs, "-6", "-o", "addr", "show", "dev", peerIf]);
      peerReady = /inet6 fe80::/.test(out) && !/tentative/.test(out);
      if (!peerReady) await sleep(100);
    }
    if (!peerReady) throw new Error(`${peerIf} got no usable link-local address`);
    const link = await inMachine(machine, ["cat", `/sys/class/net/${laptopIf}/address`]);
    const mac = link.trim();
    // The laptop's own neighbour solicitations and advertisements may be dropped by its output
    // chain (they are, in koffer's ruleset): the peer knows the laptop's address statically.
    for (const address of [laptopAddr, laptopLinkLocal])
      await must("ip", [
        ...["-n", peerNs, "neigh", "replace", address],
        ...["lladdr", mac, "dev", peerIf, "nud", "permanent"],
      ]);
    const peerMac = (
      await must("ip", ["netns", "exec", peerNs, "cat", `/sys/class/net/${peerIf}/address`])
    ).trim();
    await inMachine(machine, [
      "ip",
      "neigh",
      "replace",
      peerAddr,
      "lladdr",
      peerMac,
      "dev",
      laptopIf,
      "nud",
      "permanent",
    ]);
    return {
      peerNs,
      peerIf,
      laptopLinkLocal,
      close: () => deleteNetns(peerNs),
    };
  } catch (error) {
    await deleteNetns(peerNs);
    throw error;
  }
}

/** Records, for `seconds`, every packet from the peer that netfilter's input hook let through. */
const sniffer = `
import socket, select, struct, sys, time, os
peer4, ready, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
socks = []
for fam, proto, name in ((socket.AF_INET, socket.IPPROTO_TCP, "tcp"), (socket.AF_INET, socket.IPPROTO_UDP, "udp"),
                         (socket.AF_INET, socket.IPPROTO_ICMP, "icmp"), (socket.AF_INET6, socket.IPPROTO_ICMPV6, "icmpv6"),
                         (socket.AF_INET6, socket.IPPROTO_TCP, "tcp6"), (socket.AF_INET6, socket.IPPROTO_UDP, "udp6")):
    s = socket.socket(fam, socket.SOCK_RAW, proto)
    socks.append((s, name))
open(ready, "w").close()
end = time.time() + seconds
seen = set()
while time.time() < end:
    r, _, _ = select.select([s for s, _ in socks], [], [], max(0.0, end - time.time()))
    for s, name in socks:
        if s not in r:
            continue
        data, addr = s.recvfrom(65535)
        if name in ("tcp", "udp", "icmp"):
            if addr[0] != peer4:
                continue
            body = data[(data[0] & 15) * 4:]
        else:
            if not addr[0].startswith("fe80:"):
                continue
            body = data
        if name in ("tcp", "tcp6") and not (body[13] & 0x02):
            continue
        if name in ("tcp", "udp", "tcp6", "udp6"):
            seen.add("%s %d" % (name, struct.unpack("!H", body[2:4])[0]))
        elif name == "icmp":
            seen.add("icmp type %d" % body[0])
        elif body[0] == 128:
            seen.add("icmpv6 echo-request")
for line in sorted(seen):
    print(line)
`;

/**
 * One sender for both experiments: a UDP datagram and a new TCP connection (a socket kept
 * open, errors are the answer too) to each destination and port. Given the laptop's IPv6
 * address and the sending interface as well (the peer's inbound probe), it also sends ICMP
 * and ICMPv6 echo requests to the first destination, and sends everything twice; without it
 * (the laptop's egress probe) also a raw ESP packet to each destination.
 */
const sender = `
import random, socket, struct, sys, time
dests, tcp, udp = sys.argv[1].split(","), sys.argv[2], sys.argv[3]
echo = sys.argv[4:6]
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff
keep = []
# A fresh echo identifier each run: conntrack keys ICMP flows on it, and a flow an earlier,
# open ruleset let through (and answered) would come back as "established".
ident = random.randrange(1, 0xffff)
for rnd in range(2 if echo else 1):
    for d in dests:
        for port in map(int, udp.split(",")):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                s.sendto(b"koffer-probe", (d, port))
            except OSError:
                pass
            s.close()
        for port in map(int, tcp.split(",")):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            try:
                s.connect((d, port))
            except OSError:
                pass
            keep.append(s)
        if not echo:
            # ESP (IP protocol 50) outbound: the kill switch may let it out only to the gateway.
            try:
                s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 50)
                s.sendto(bytes(16), (d, 0))
                s.close()
            except OSError:
                pass
    if echo:
        laptop6, scope = echo[0], socket.if_nametoindex(echo[1])
        icmp = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        hdr = struct.pack("!BBHHH", 8, 0, 0, ident, rnd) + b"koffer-probe"
        icmp.sendto(struct.pack("!BBHHH", 8, 0, csum(hdr), ident, rnd) + b"koffer-probe", (dests[0], 0))
        icmp6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        icmp6.sendto(struct.pack("!BBHHH", 128, 0, 0, ident, rnd) + b"koffer-probe", (laptop6, 0, 0, scope))
        time.sleep(0.3)
time.sleep(0.5)
`;

/**
 * What the laptop's input hook admits from the peer: one line per admitted kind of packet
 * ("tcp 5900", "udp 5353", "icmp type 8", "icmpv6 echo-request"); empty when nothing got in.
 */
export async function inboundExperiment(machine: BootedMachine, net: LiveNet): Promise<string> {
  const readyFile = "/root/.kof-sniff-ready";
  const readyOnHost = join(machine.root, readyFile);
  await rm(readyOnHost, { force: true });
  const sniffing = machine.run(["python3", "-c", sniffer, peerAddr, readyFile, "3"], {
    timeoutMs: 20_000,
  });
  for (let i = 0; i < 200 && !existsSync(readyOnHost); i++) await sleep(50);
  if (!existsSync(readyOnHost))
    throw new Error(`the sniffer in ${machine.name} did not start: ${(await sniffing).stderr}`);
  const sent = await execa(
    "ip",
    [
      "netns",
      "exec",
      net.peerNs,
      "chroot",
      machine.root,
      "python3",
      "-c",
      sender,
      laptopAddr,
      inboundTcp.join(","),
      inboundUdp.join(","),
      net.laptopLinkLocal,
      net.peerIf,
    ],
    {
      reject: false,
      env: { LC_ALL: "C", PATH: "/usr/sbin:/usr/bin:/sbin:/bin" },
      extendEnv: false,
    },
  );
  const sniffed = await sniffing;
  await rm(readyOnHost, { force: true });
  if (sent.exitCode !== 0) throw new Error(`the peer's sender failed: ${sent.stderr}`);
  if (sniffed.exitCode !== 0) throw new Error(`the sniffer failed: ${sniffed.stderr}`);
  return sniffed.stdout;
}

/**
 * The IPv4 addresses the running laptop has for the gateway without DNS: glibc's own answer
 * from the files service (`getent -s files ahostsv4`); none when /etc/hosts does not name it.
 */
async function gatewayWithoutDns(machine: BootedMachine, gateway: string): Promise<string[]> {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(gateway)) return [gateway];
  const r = await machine.run(["getent", "-s", "files", "ahostsv4", gateway], {
    timeoutMs: 20_000,
  });
  // exit 2: the name is not there
  if (r.exitCode === 2) return [];
  if (r.exitCode !== 0) throw new Error(`getent in ${machine.name} failed: ${r.stderr}`);
  return [
    ...new Set(
      r.stdout
        .split("\n")
        .map((l) => l.split(/\s+/)[0] ?? "")
        .filter((a) => a !== ""),
    ),
  ];
}

/**
 * What left the laptop on wlan0 while the tunnel is down, as tcpdump on the peer's end saw it:
 * one line per packet other than DHCP and IKE/ESP to the gateway (the catalogue's exceptions;
 * IKE/ESP to any address while the laptop cannot know the gateway's); empty when the kill
 * switch held.
 */
export async function egressExperiment(
  machine: BootedMachine,
  net: LiveNet,
  gateway?: string,
): Promise<string> {
  const ike = "(udp port 500 or udp port 4500 or ip proto 50)";
  const known = gateway === undefined ? [] : await gatewayWithoutDns(machine, gateway);
  const allowed =
    known.length === 0 ? ike : `(${ike} and (${known.map((a) => `dst host ${a}`).join(" or ")}))`;
  const filter = `(ip and src host ${laptopAddr} and not ${allowed}) or (ip6 and not icmp6)`;
  const dump = spawn(
    "ip",
    ["netns", "exec", net.peerNs, "tcpdump", "-i", net.peerIf, "-n", "-l", "-p", filter],
    { stdio: ["ignore", "pipe", "pipe"], env: { LC_ALL: "C", PATH: process.env.PATH ?? "" } },
  );
  let out = "";
  let err = "";
  dump.stdout.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => dump.on("close", () => resolve()));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`tcpdump did not start: ${err}`)), 15_000);
      dump.stderr.on("data", (d: Buffer) => {
        err += d.toString();
        if (/listening on/.test(err)) {
          clearTimeout(timer);
          resolve();
        }
      });
      dump.on("close", () => {
        clearTimeout(timer);
        reject(new Error(`tcpdump exited: ${err}`));
      });
    });
    const sent = await machine.run(
      [
        "python3",
        "-c",
        sender,
        egressDestinations.join(","),
        egressTcp.join(","),
        egressUdp.join(","),
      ],
      { timeoutMs: 20_000 },
    );
    if (sent.exitCode !== 0) throw new Error(`the laptop's sender failed: ${sent.stderr}`);
    // tcpdump's -l flushes per line; a moment for the last packets to cross the pair.
    await sleep(300);
  } finally {
    dump.kill("SIGINT");
    await exited;
  }
  return out;
}
