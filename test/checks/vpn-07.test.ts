import { vpn07 } from "../../src/checks/vpn-07.js";
import { hardenedFacts } from "../helpers/facts.js";
import { describe, expect, it } from "vitest";
import { run, testControl } from "./control-tester.js";
import { makeProfile } from "../helpers/profile.js";

/** A profile whose tunnel also names the internal network 10.99.0.0/16. */
const withInternal = makeProfile({
  spec: { vpn: { remoteNetworks: ["0.0.0.0/0", "::/0", "10.99.0.0/16"] } },
});

const f = hardenedFacts();
const publicFallback = {
  DNS: { value: "10.99.0.53", source: "/etc/systemd/resolved.conf:2" },
  FallbackDNS: { value: "9.9.9.9", source: "/etc/systemd/resolved.conf:3" },
};
const conn = f.vpn.swanctl.connections[0]!;
const child = conn.children[0]!;
testControl(vpn07, import.meta.url, [
  {
    name: "a public fallback resolver of a systemd-resolved that starts at boot",
    profile: withInternal,
    facts: hardenedFacts({
      network: { resolved: publicFallback },
      services: { unitFiles: { "systemd-resolved.service": "enabled" } },
    }),
    status: "fail",
    messages: ["publicResolver"],
    data: { resolver: "9.9.9.9" },
    exact: true,
  },
  {
    name: "a public fallback resolver of a systemd-resolved started by hand (live: active, not enabled)",
    profile: withInternal,
    facts: hardenedFacts({
      network: { resolved: publicFallback },
      services: {
        unitFiles: { "systemd-resolved.service": "disabled" },
        active: {
          available: true,
          value: { "systemd-resolved.service": "active" },
          source: "systemctl is-active",
        },
      },
    }),
    status: "fail",
    messages: ["publicResolver"],
    data: { resolver: "9.9.9.9" },
    exact: true,
  },
  // issue 11: Debian 12 ships systemd-resolved as a package of its own; without it (the
  // desktop laptop root) nothing reads resolved.conf.d, glibc asks /etc/resolv.conf only.
  {
    name: "resolved.conf.d servers while systemd-resolved is not installed are read by nothing",
    profile: withInternal,
    facts: hardenedFacts({ network: { resolved: publicFallback } }),
    status: "pass",
    messages: ["ok"],
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

describe("VPN-07 evidence for resolved.conf.d that nothing reads", () => {
  it("names the unit state and the servers it ignored", () => {
    const { findings } = run(vpn07, {
      profile: withInternal,
      facts: hardenedFacts({ network: { resolved: publicFallback } }),
    });
    expect(findings.flatMap((f) => f.evidence)).toEqual([
      {
        subject: "systemd-resolved",
        expected: "its DNS= and FallbackDNS= judged when it runs",
        actual:
          "not read: systemd-resolved.service not-found; ignored 10.99.0.53 (/etc/systemd/resolved.conf:2), 9.9.9.9 (/etc/systemd/resolved.conf:3)",
        source: "systemctl is-enabled",
      },
    ]);
  });
});
