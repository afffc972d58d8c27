import { describe, expect, it } from "vitest";
import { cidrProblem, isGatewayId, isHostname, isLogTarget } from "../../src/profiles/net.js";
import { checkProposal } from "../../src/profiles/proposals.js";
import { isExpired, parseDate } from "../../src/profiles/rules.js";

describe("strongSwan proposals against TR-02102-3", () => {
  it.each([
    ["aes256gcm16-prfsha384-ecp384", "ike"],
    ["aes128gcm12-prfsha256-ecp256bp", "ike"],
    ["aes256-sha384-modp4096", "ike"],
    ["aes256ctr-sha512-prfsha512-ecp521", "ike"],
    ["aes256gcm16-prfsha384-ecp384-ke1_mlkem768", "ike"],
    ["aes256gcm16-ecp384", "esp"],
    ["aes128ccm16-modp3072-esn", "esp"],
    ["aes192-aesxcbc-ecp512bp", "esp"],
  ] as const)("accepts %s (%s)", (proposal, kind) => {
    expect(checkProposal(proposal, kind)).toEqual([]);
  });

  it.each([
    ["aes256-sha1-ecp384", "ike", "tr02102/integrity"],
    ["3des-sha256-ecp384", "ike", "tr02102/cipher"],
    ["camellia256-sha256-ecp384", "ike", "tr02102/cipher"],
    ["aes256gcm16-prfsha1-ecp384", "ike", "tr02102/prf"],
    ["aes256gcm16-prfsha256-modp2048", "ike", "tr02102/dh-group"],
    ["aes256gcm16-prfsha256-x25519", "ike", "tr02102/dh-group"],
    ["aes256gcm16-prfsha256-mlkem768", "ike", "tr02102/pq-hybrid"],
    ["aes256gcm8-ecp384", "esp", "tr02102/icv"],
    ["aes256gcm16", "esp", "tr02102/pfs"],
    ["default", "esp", "tr02102/proposal-default"],
    ["aes256-sha256-modp3072-ikev1", "ike", "tr02102/ikev1"],
    ["aes256gcm16-ecp384", "ike", "vpn/proposal-incomplete"],
    ["aes256-ecp384", "esp", "vpn/proposal-incomplete"],
    ["aes256-rot13-ecp384", "esp", "vpn/proposal-token"],
  ] as const)("rejects %s (%s) with %s", (proposal, kind, rule) => {
    expect(checkProposal(proposal, kind).map((i) => i.rule)).toContain(rule);
    for (const issue of checkProposal(proposal, kind))
      expect(issue.message).toMatch(/^Expected .+, found .+/);
  });
});

describe("names, networks and dates", () => {
  it("host names follow RFC 1123", () => {
    expect(isHostname("vpn.meerane.example")).toBe(true);
    expect(isHostname("a-b.c")).toBe(true);
    for (const bad of [
      "",
      "-a.example",
      "a_b.example",
      "a..b",
      "x".repeat(64) + ".example",
      "1.2.3.4",
    ]) {
      expect(isHostname(bad)).toBe(false);
    }
  });

  it("CIDRs must be networks with a valid prefix, v4 and v6", () => {
    for (const good of [
      "0.0.0.0/0",
      "::/0",
      "10.0.0.0/8",
      "fd00::/8",
      "2001:db8::/32",
      "192.168.1.7/32",
    ]) {
      expect(cidrProblem(good)).toBeUndefined();
    }
    expect(cidrProblem("10.0.0.1/8")).toBe("host bits set after the prefix");
    expect(cidrProblem("2001:db8::1/64")).toBe("host bits set after the prefix");
    expect(cidrProblem("10.0.0.0/33")).toBe("a prefix outside 0–32");
    expect(cidrProblem("fd00::/129")).toBe("a prefix outside 0–128");
    expect(cidrProblem("10.0.0.0")).toBe("no /prefix");
    expect(cidrProblem("vpn/24")).toBe("no IP address before the /");
  });

  it("gateway ids are DNs or FQDNs", () => {
    expect(isGatewayId("CN=vpn.meerane.example, O=Stadt Meerane, C=DE")).toBe(true);
    expect(isGatewayId("@vpn.meerane.example")).toBe(true);
    expect(isGatewayId("vpn.meerane.example")).toBe(true);
    expect(isGatewayId("vpn")).toBe(false);
    expect(isGatewayId("CN=")).toBe(false);
    expect(isLogTarget("https://logs.kisa.example:19532")).toBe(true);
    expect(isLogTarget("logs.kisa.example:514")).toBe(true);
    expect(isLogTarget("logs .example")).toBe(false);
  });

  it("dates are calendar dates; a waiver holds through its last day (UTC)", () => {
    expect(parseDate("2027-02-30")).toBeUndefined();
    expect(parseDate("2028-02-29")?.toISOString()).toBe("2028-02-29T00:00:00.000Z");
    expect(isExpired("2027-03-31", new Date("2027-03-31T23:59:59Z"))).toBe(false);
    expect(isExpired("2027-03-31", new Date("2027-04-01T00:00:00Z"))).toBe(true);
  });
});
