import { net01 } from "../../src/checks/net-01.js";
import { hardenedFacts } from "../helpers/facts.js";
import { testControl } from "./control-tester.js";

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
]);
