import { vpn06 } from "../../src/checks/vpn-06.js";
import { hardenedFacts } from "../helpers/facts.js";
import { testControl } from "./control-tester.js";

const f = hardenedFacts();
const conn = f.vpn.swanctl.connections[0]!;
const child = conn.children[0]!;
const [input, output] = f.network.nftables.chains;
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
]);
