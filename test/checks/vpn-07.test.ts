import { vpn07 } from "../../src/checks/vpn-07.js";
import { hardenedFacts } from "../helpers/facts.js";
import { testControl } from "./control-tester.js";
import { makeProfile } from "../helpers/profile.js";

/** A profile whose tunnel also names the internal network 10.99.0.0/16. */
const withInternal = makeProfile({
  spec: { vpn: { remoteNetworks: ["0.0.0.0/0", "::/0", "10.99.0.0/16"] } },
});

const f = hardenedFacts();
const conn = f.vpn.swanctl.connections[0]!;
const child = conn.children[0]!;
testControl(vpn07, import.meta.url, [
  {
    name: "a public fallback resolver",
    profile: withInternal,
    facts: hardenedFacts({
      network: {
        resolved: {
          DNS: { value: "10.99.0.53", source: "/etc/systemd/resolved.conf:2" },
          FallbackDNS: { value: "9.9.9.9", source: "/etc/systemd/resolved.conf:3" },
        },
      },
    }),
    status: "fail",
    messages: ["publicResolver"],
    data: { resolver: "9.9.9.9" },
    exact: true,
  },
  { name: "::/0 tunnelled, internal resolver", status: "pass", messages: ["ok"], exact: true },
  {
    name: "IPv6 outside the tunnel",
    facts: hardenedFacts({
      vpn: {
        swanctl: { connections: [{ ...conn, children: [{ ...child, remoteTs: ["0.0.0.0/0"] }] }] },
      },
    }),
    status: "fail",
    messages: ["ipv6"],
    exact: true,
  },
  {
    name: "public resolver",
    facts: hardenedFacts({
      network: { resolvConf: { nameservers: ["8.8.8.8"], source: "/etc/resolv.conf" } },
    }),
    status: "fail",
    messages: ["publicResolver"],
    data: { resolver: "8.8.8.8" },
  },
  // issue 11: a private address is not "through the tunnel" by itself.
  {
    name: "a LAN resolver (private, neither pushed nor in an internal network) leaks",
    facts: hardenedFacts({
      network: {
        resolvConf: { nameservers: ["192.168.178.1"], source: "/etc/resolv.conf", vpnPushed: [] },
      },
    }),
    status: "fail",
    messages: ["publicResolver"],
    data: { resolver: "192.168.178.1" },
    exact: true,
  },
  {
    name: "a resolver inside the profile's internal network is reached through the tunnel",
    profile: withInternal,
    facts: hardenedFacts({
      network: {
        resolvConf: { nameservers: ["10.99.1.53"], source: "/etc/resolv.conf", vpnPushed: [] },
      },
    }),
    status: "pass",
    messages: ["ok"],
    exact: true,
  },
]);
