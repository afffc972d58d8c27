/**
 * The firewall koffer writes loads in the kernel (not only `nft -c`, which skips the
 * kernel's per-hook validation): with the kill switch, and without it; and with the kill
 * switch, datagrams to the gateway leave, to any other address not (sent in a namespace).
 */
import { execa } from "execa";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { allowedOutboundAccept, leaksDns } from "../../../src/checks/util.js";
import { parseNftJson, parseNftables } from "../../../src/facts/parsers/nftables.js";
import { nftablesConf } from "../../../src/provision/resources/nftables.js";
import { loadNftInNetns } from "../../helpers/nft.js";
import { makeProfile } from "../../helpers/profile.js";
import { createNetns, deleteNetns, linkNetns } from "../../rig/netns.js";

const canNetns = process.getuid?.() === 0;

describe.skipIf(!canNetns)("nftables.conf as provisioned loads in a kernel", () => {
  it.each([
    ["kill switch, gateway by name", makeProfile()],
    ["kill switch, gateway by address", makeProfile({ spec: { vpn: { gateway: "192.0.2.10" } } })],
    ["no kill switch", makeProfile({ spec: { vpn: { killSwitch: false } } })],
    ["kill switch and SSH", makeProfile({ spec: { network: { ssh: true } } })],
  ])("%s", async (_name, profile) => {
    const text = nftablesConf(profile);
    expect(parseNftables(text, "/etc/nftables.conf").parseErrors).toEqual([]);
    const r = await loadNftInNetns(text);
    expect(r.exitCode, r.stderr).toBe(0);
    const chains = parseNftJson(r.stdout).chains;
    const output = chains.find((c) => c.hook === "output");
    expect(chains.find((c) => c.hook === "input")?.policy).toBe("drop");
    if (profile.spec.vpn.killSwitch) {
      expect(output?.policy).toBe("drop");
      expect(output?.rules).toContain("rt ipsec exists accept");
      // Everything it lets out is what VPN-06 allows a kill switch (as loaded, not as written).
      expect(
        output?.rules.filter((r) => !allowedOutboundAccept(r, profile.spec.network.ssh)),
      ).toEqual([]);
      expect(output?.rules.filter((r) => leaksDns(r))).toEqual([]);
    } else expect(output?.policy).toBe("accept");
  });
});

/**
 * Provisioning over SSH on the laptop's LAN starts the firewall during the run. The session
 * it runs over was opened before (conntrack picks it up mid-stream) and must survive the kill
 * switch, or the run dies at that step and leaves the rest undone (the sudo group and the
 * certificate request used to wait for a second run). A real TCP session between two network
 * namespaces, then the ruleset loaded on the "laptop" side, then traffic again.
 */
describe.skipIf(!canNetns)("an SSH session open when the kill switch starts", () => {
  const names: string[] = [];
  afterAll(async () => {
    for (const n of names) await deleteNetns(n);
  });

  it.each([
    ["survives with SSH allowed", true],
    ["is cut without SSH", false],
  ])("%s", async (_name, ssh) => {
    const laptop = await createNetns("kof-nftssh");
    const tech = await createNetns("kof-nftssh");
    names.push(laptop, tech);
    await linkNetns(tech, laptop, "10.251.77.1/24", "10.251.77.2/24");
    let client: ReturnType<typeof execa> | undefined;
    const server = execa(
      "ip",
      [
        "netns",
        "exec",
        laptop,
        process.execPath,
        "-e",
        // The laptop's side speaks first, as sshd does when the command it ran returns.
        `require("node:net").createServer((s) => {
           s.on("data", (d) => process.stdout.write(d));
           process.stdin.on("data", (d) => s.write(d));
         }).listen(22, "10.251.77.2", () => console.log("up"));`,
      ],
      { reject: false, buffer: false },
    );
    const lines: string[] = [];
    const echoed = async (word: string) => {
      server.stdin?.write(`${word}\n`);
      for (let i = 0; i < 30; i++) {
        if (lines.includes(word)) return true;
        await new Promise((r) => setTimeout(r, 100));
      }
      return false;
    };
    try {
      await new Promise<void>((resolve) => server.stdout?.once("data", () => resolve()));
      server.stdout?.on("data", (d: Buffer) =>
        lines.push(...d.toString().split("\n").filter(Boolean)),
      );
      client = execa(
        "ip",
        [
          "netns",
          "exec",
          tech,
          process.execPath,
          "-e",
          `const s = require("node:net").connect(22, "10.251.77.2"); s.pipe(s);`,
        ],
        { reject: false, buffer: false },
      );
      await new Promise((r) => setTimeout(r, 300));
      expect(await echoed("before")).toBe(true);
      const dir = await mkdtemp(join(tmpdir(), "koffer-nft-"));
      try {
        await writeFile(
          join(dir, "nftables.conf"),
          nftablesConf(makeProfile({ spec: { network: { ssh } } })),
        );
        const load = await execa(
          "ip",
          ["netns", "exec", laptop, "nft", "-f", join(dir, "nftables.conf")],
          {
            reject: false,
          },
        );
        expect(load.exitCode, load.stderr).toBe(0);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
      expect(await echoed("after")).toBe(ssh);
    } finally {
      client?.kill("SIGKILL");
      server.kill("SIGKILL");
      await Promise.allSettled([client, server]);
    }
  });
});

/**
 * What leaves a namespace with the ruleset loaded: UDP datagrams from bash (`/dev/udp`) to
 * `targets` ("ADDRESS/PORT"); nft's drop in output makes the send fail (EPERM), exit 1.
 */
async function sendsThrough(text: string, targets: string[]): Promise<Record<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), "koffer-nft-"));
  try {
    const file = join(dir, "nftables.conf");
    await writeFile(file, text);
    const script = `set -e
ip link set lo up
ip link add kva type veth peer name kvb
ip addr add 10.9.0.1/24 dev kva
ip link set kva up
ip link set kvb up
ip route add default via 10.9.0.2
nft -f "$1"
shift
for t in "$@"; do
  if bash -c "echo koffer > /dev/udp/\${t%/*}/\${t#*/}" 2>/dev/null; then echo "$t=0"; else echo "$t=1"; fi
done`;
    const r = await execa("unshare", ["--net", "sh", "-c", script, "sh", file, ...targets], {
      reject: false,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    return Object.fromEntries(
      r.stdout.split("\n").map((l) => [l.split("=")[0], Number(l.split("=")[1])] as const),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe.skipIf(!canNetns)("the kill switch lets IKE out only to the gateway", () => {
  const gateway = "10.9.0.2";
  const name = makeProfile().spec.vpn.gateway!;
  const hosts = [
    { address: gateway, names: [name], source: "/etc/hosts:3" },
    { address: "10.9.0.77", names: ["other.example"], source: "/etc/hosts:4" },
  ];

  it("pins IKE/NAT-T and ESP to the address /etc/hosts gives the gateway's name", async () => {
    const text = nftablesConf(makeProfile(), hosts);
    expect(text).toContain(`ip daddr ${gateway} udp dport { 500, 4500 } accept`);
    expect(text).toContain(`ip daddr ${gateway} meta l4proto esp accept`);
    expect(text).not.toMatch(/^\s*udp dport \{ 500, 4500 \} accept/m);
    const sent = await sendsThrough(text, [
      `${gateway}/500`,
      `${gateway}/4500`,
      "192.0.2.1/500",
      "192.0.2.1/4500",
      "10.9.0.77/500",
      "192.0.2.1/53",
    ]);
    expect(sent).toEqual({
      [`${gateway}/500`]: 0,
      [`${gateway}/4500`]: 0,
      "192.0.2.1/500": 1,
      "192.0.2.1/4500": 1,
      "10.9.0.77/500": 1,
      "192.0.2.1/53": 1,
    });
    // The pinned rules are what VPN-06 admits outside the tunnel.
    const r = await loadNftInNetns(text);
    const output = parseNftJson(r.stdout).chains.find((c) => c.hook === "output")!;
    expect(output.rules.filter((rule) => !allowedOutboundAccept(rule))).toEqual([]);
  });

  it("a name /etc/hosts does not resolve keeps IKE open to any address (stated in the file)", async () => {
    const text = nftablesConf(makeProfile(), []);
    expect(text).toContain("is a name)");
    const sent = await sendsThrough(text, ["192.0.2.1/500", "192.0.2.1/53"]);
    expect(sent).toEqual({ "192.0.2.1/500": 0, "192.0.2.1/53": 1 });
  });
});
