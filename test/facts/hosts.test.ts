import { describe, expect, it } from "vitest";
import { hostsAddresses, parseHosts } from "../../src/facts/parsers/hosts.js";

describe("/etc/hosts", () => {
  const text = [
    "127.0.0.1\tlocalhost",
    "::1     localhost ip6-localhost ip6-loopback",
    "# 10.0.0.9 commented.example",
    "10.251.9.2\tvpn.meerane.example vpn # the town hall's gateway",
    "fd00::2 VPN.Meerane.Example.",
    "not-an-address vpn.meerane.example",
    "10.251.9.2 vpn.meerane.example",
    "192.0.2.4",
  ].join("\n");

  it("reads address and names per line, comments and non-addresses ignored", () => {
    expect(parseHosts(text, "/etc/hosts")).toEqual([
      { address: "127.0.0.1", names: ["localhost"], source: "/etc/hosts:1" },
      {
        address: "::1",
        names: ["localhost", "ip6-localhost", "ip6-loopback"],
        source: "/etc/hosts:2",
      },
      { address: "10.251.9.2", names: ["vpn.meerane.example", "vpn"], source: "/etc/hosts:4" },
      { address: "fd00::2", names: ["VPN.Meerane.Example."], source: "/etc/hosts:5" },
      { address: "10.251.9.2", names: ["vpn.meerane.example"], source: "/etc/hosts:7" },
    ]);
  });

  it("resolves a name to every address, case-insensitively, each once", () => {
    const entries = parseHosts(text, "/etc/hosts");
    expect(hostsAddresses(entries, "vpn.meerane.example")).toEqual(["10.251.9.2", "fd00::2"]);
    expect(hostsAddresses(entries, "commented.example")).toEqual([]);
  });
});
