import { net01 } from "../../src/checks/net-01.js";
import { hardenedFacts } from "../helpers/facts.js";
import { testControl } from "./control-tester.js";
import { makeProfile } from "../helpers/profile.js";

const f = hardenedFacts();
const [input, output] = f.network.nftables.chains;
testControl(net01, import.meta.url, [
  { name: "enabled, inet input drop", status: "pass", messages: ["ok"], exact: true },
  {
    name: "nftables disabled",
    facts: hardenedFacts({ services: { unitFiles: { "nftables.service": "disabled" } } }),
    status: "fail",
    messages: ["notEnabled"],
    exact: true,
  },
  {
    name: "input accept",
    facts: hardenedFacts({
      network: { nftables: { chains: [{ ...input!, policy: "accept" }, output!] } },
    }),
    status: "fail",
    messages: ["noDefaultDeny"],
  },
  {
    name: "ip only, no ip6",
    facts: hardenedFacts({ network: { nftables: { chains: [{ ...input!, family: "ip" }] } } }),
    status: "fail",
    messages: ["noDefaultDeny"],
  },
  {
    name: "a rule accepting everything before the drop policy",
    facts: hardenedFacts({
      network: {
        nftables: { chains: [{ ...input!, rules: [...input!.rules, "accept"] }, output!] },
      },
    }),
    status: "fail",
    messages: ["noDefaultDeny"],
  },
  {
    name: "ruleset does not parse",
    facts: hardenedFacts({
      network: { nftables: { parseErrors: ["/etc/nftables.conf:3:1: unexpected }"] } },
    }),
    status: "fail",
    messages: ["parseErrors"],
  },
  // issue 11: only replies, loopback and IPv6 neighbour discovery may be accepted inbound.
  ...[
    "tcp dport 5900 accept",
    "meta l4proto ipv6-icmp accept",
    "ct state new accept",
    "ip saddr 10.0.0.0/8 accept",
  ].map((rule) => ({
    name: `an inbound "${rule}" breaks default deny`,
    facts: hardenedFacts({
      network: { nftables: { chains: [{ ...input!, rules: [...input!.rules, rule] }, output!] } },
    }),
    status: "fail" as const,
    messages: ["inboundAccept"],
    data: { rule },
    exact: true,
  })),
  {
    name: "an accept in a chain the input chain jumps to counts too",
    facts: hardenedFacts({
      network: {
        nftables: {
          chains: [
            { ...input!, rules: [...input!.rules, "jump extra"] },
            {
              family: "inet",
              table: "koffer",
              name: "extra",
              hook: null,
              policy: null,
              rules: ["tcp dport 22 accept"],
            },
            output!,
          ],
        },
      },
    }),
    status: "fail",
    messages: ["inboundAccept"],
    exact: true,
  },
  {
    name: "SSH through the tunnel is allowed where the profile allows SSH",
    profile: makeProfile({ spec: { network: { ssh: true } } }),
    facts: hardenedFacts({
      network: {
        nftables: {
          chains: [
            { ...input!, rules: [...input!.rules, "meta ipsec exists tcp dport 22 accept"] },
            output!,
          ],
        },
      },
    }),
    status: "pass",
    messages: ["ok"],
    exact: true,
  },
]);
