import { vpn06 } from "../../src/checks/vpn-06.js";
import { hardenedFacts } from "../helpers/facts.js";
import { describe, expect, it } from "vitest";
import { parseNftables } from "../../src/facts/parsers/nftables.js";
import { run, testControl } from "./control-tester.js";

const f = hardenedFacts();
const conn = f.vpn.swanctl.connections[0]!;
const child = conn.children[0]!;
const [input, output] = f.network.nftables.chains;
/** /etc/hosts naming the profile's gateway (vpn.meerane.example) with two addresses. */
const gatewayHosts = [
  { address: "127.0.0.1", names: ["localhost"], source: "/etc/hosts:1" },
  { address: "192.0.2.10", names: ["vpn.meerane.example"], source: "/etc/hosts:3" },
  { address: "2001:db8::a", names: ["vpn.meerane.example", "vpn"], source: "/etc/hosts:4" },
];
testControl(vpn06, import.meta.url, [
  { name: "full tunnel, trap, output drop", status: "pass", messages: ["ok"], exact: true },
  {
    name: "a connection without children tunnels nothing",
    facts: hardenedFacts({ vpn: { swanctl: { connections: [{ ...conn, children: [] }] } } }),
    status: "fail",
    messages: ["splitTunnel"],
    exact: true,
  },
  {
    name: "output drop in a file that does not load",
    facts: hardenedFacts({
      network: {
        nftables: { ...f.network.nftables, parseErrors: ["/etc/nftables.conf:12:5: syntax error"] },
      },
    }),
    status: "fail",
    messages: ["notLoaded"],
    exact: true,
  },
  {
    name: "output drop but nftables.service disabled",
    facts: hardenedFacts({ services: { unitFiles: { "nftables.service": "disabled" } } }),
    status: "fail",
    messages: ["notLoaded"],
    data: { actual: "nftables.service disabled" },
    exact: true,
  },
  {
    name: "split tunnel",
    facts: hardenedFacts({
      vpn: {
        swanctl: { connections: [{ ...conn, children: [{ ...child, remoteTs: ["10.0.0.0/8"] }] }] },
      },
    }),
    status: "fail",
    messages: ["splitTunnel"],
    exact: true,
  },
  {
    name: "started by hand",
    facts: hardenedFacts({
      vpn: {
        swanctl: { connections: [{ ...conn, children: [{ ...child, startAction: "none" }] }] },
      },
    }),
    status: "fail",
    messages: ["startAction"],
  },
  {
    name: "output accept",
    facts: hardenedFacts({
      network: { nftables: { chains: [input!, { ...output!, policy: "accept" }] } },
    }),
    status: "fail",
    messages: ["noKillSwitch"],
  },
  {
    name: "a drop policy only for IPv4 lets IPv6 leave outside the tunnel",
    facts: hardenedFacts({
      network: { nftables: { chains: [input!, { ...output!, family: "ip" }] } },
    }),
    status: "fail",
    messages: ["noKillSwitch"],
    data: { actual: "ip koffer output policy drop (IPv6 not covered)" },
  },
  {
    name: "ip and ip6 output chains with drop together cover both",
    facts: hardenedFacts({
      network: {
        nftables: {
          chains: [
            input!,
            { ...output!, family: "ip" },
            { ...output!, family: "ip6", table: "koffer6" },
          ],
        },
      },
    }),
    status: "pass",
    messages: ["ok"],
  },
  {
    name: "a rule accepting everything defeats the drop policy",
    facts: hardenedFacts({
      network: {
        nftables: { chains: [input!, { ...output!, rules: ["counter accept", ...output!.rules] }] },
      },
    }),
    status: "fail",
    messages: ["noKillSwitch"],
  },
  {
    name: "drop without an ipsec rule",
    facts: hardenedFacts({
      network: { nftables: { chains: [input!, { ...output!, rules: ['oif "lo" accept'] }] } },
    }),
    status: "fail",
    messages: ["noIpsecRule"],
  },
  {
    name: "no connection",
    facts: hardenedFacts({ vpn: { swanctl: { connections: [] } } }),
    status: "fail",
    messages: ["noConnection"],
  },
  // issue 11: no DNS leaves outside the tunnel, to whichever address.
  ...[
    "udp dport 53 accept",
    "ip daddr 192.168.178.1 udp dport domain accept",
    "meta l4proto { tcp, udp } th dport 53 accept",
    "tcp dport 853 accept",
    "ip daddr 9.9.9.9 accept",
  ].map((rule) => ({
    name: `the kill switch lets DNS out: "${rule}"`,
    facts: hardenedFacts({
      network: { nftables: { chains: [input!, { ...output!, rules: [rule, ...output!.rules] }] } },
    }),
    status: "fail" as const,
    messages: ["dnsLeak"],
    data: { rule },
    exact: true,
  })),
  {
    name: "NTP accepted outside the tunnel leaves outside the tunnel",
    facts: hardenedFacts({
      network: {
        nftables: {
          chains: [input!, { ...output!, rules: ["udp dport 123 accept", ...output!.rules] }],
        },
      },
    }),
    status: "fail",
    messages: ["outsideTunnel"],
    exact: true,
  },
  // The provisioned kill switch pins IKE/NAT-T and ESP to the gateway's /etc/hosts addresses:
  // once the address is known, an accept to any address is a hole (anything on UDP 500/4500).
  ...(
    [
      ["udp dport { 500, 4500 } accept", "fail"],
      ["meta l4proto esp accept", "fail"],
      ["ip daddr 192.0.2.10 udp dport { 500, 4500 } accept", "pass"],
      ["ip daddr { 192.0.2.10 } udp dport 4500 accept", "pass"],
      ["ip6 daddr 2001:db8:0:0::a meta l4proto esp accept", "pass"],
      ["ip daddr 192.0.2.0/24 udp dport 500 accept", "fail"],
      ["ip daddr != 198.51.100.1 udp dport 4500 accept", "fail"],
      ["ip daddr 198.51.100.1 udp dport 4500 accept", "fail"],
    ] as const
  ).map(([rule, status]) => ({
    name: `gateway known from /etc/hosts: "${rule}" ${status === "pass" ? "is pinned" : "is not pinned"}`,
    facts: hardenedFacts({
      network: {
        hosts: gatewayHosts,
        nftables: {
          chains: [
            input!,
            { ...output!, rules: ['oif "lo" accept', rule, "rt ipsec exists accept"] },
          ],
        },
      },
    }),
    status,
    messages: [status === "pass" ? "ok" : "unpinnedIke"],
    ...(status === "fail" ? { data: { rule, addresses: "192.0.2.10, 2001:db8::a" } } : {}),
    exact: true,
  })),
  {
    name: "gateway name not in /etc/hosts: its address is unknown, IKE to any address passes",
    status: "pass",
    messages: ["ok"],
    exact: true,
  },
]);

describe("VPN-06 names the unpinned rule's line", () => {
  it("evidence and message carry FILE:LINE from the parsed nftables.conf", () => {
    const conf = `table inet koffer {
  chain output {
    type filter hook output priority filter; policy drop;
    oif "lo" accept
    udp dport { 500, 4500 } accept
    rt ipsec exists accept
  }
}
`;
    const { chains } = parseNftables(conf, "/etc/nftables.conf");
    const { findings } = run(vpn06, {
      facts: hardenedFacts({ network: { hosts: gatewayHosts, nftables: { chains } } }),
    });
    const unpinned = findings.find((x) => x.messageId === "unpinnedIke");
    expect(unpinned?.data?.["site"]).toBe("/etc/nftables.conf:5");
    expect(unpinned?.evidence?.[0]).toEqual({
      subject: "nftables inet koffer output",
      expected: "IKE/NAT-T and ESP only to 192.0.2.10, 2001:db8::a (/etc/hosts:3, /etc/hosts:4)",
      actual: "udp dport { 500, 4500 } accept",
      source: "/etc/nftables.conf:5",
    });
  });
});
