import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { openTarget } from "../../src/targets/index.js";
import { gatherVpn, parseIpsecConf } from "../../src/facts/vpn.js";
import { buildRoot } from "../helpers/root-tree.js";
import { repoRoot } from "../helpers/cli.js";

const ctx = { profile: null, now: new Date() };
const caPem = readFileSync(`${repoRoot}examples/certs/test-vpn-ca.pem`, "utf8");
const keySecret =
  "-----BEGIN EC PRIVATE KEY-----\nTOP-SECRET-MATERIAL\n-----END EC PRIVATE KEY-----\n";

describe("vpn gatherer", () => {
  it("reads swanctl, certificates and key files (mode only, never content), and other tunnels", async () => {
    const root = await buildRoot({
      packages: [
        { name: "charon-systemd" },
        { name: "wireguard-tools", status: "deinstall ok config-files" },
      ],
      files: {
        "/etc/swanctl/swanctl.conf":
          "connections {\n  rathaus {\n    version = 2\n    local { auth = pubkey }\n  }\n}\ninclude conf.d/*.conf\n",
        "/etc/swanctl/x509ca/vpn-ca.pem": caPem,
        "/etc/swanctl/private/koffer.key": { content: keySecret, mode: 0o644 },
        "/etc/wireguard/wg0.conf": { content: "[Interface]\nPrivateKey=x\n", mode: 0o600 },
        "/etc/ipsec.conf":
          "config setup\n\nconn %default\n  keyexchange=ikev1\nconn old\n  keyexchange=ikev1\n  left=%any\nconn new\n  auto=add\n",
        "/etc/NetworkManager/system-connections/work.nmconnection":
          "[connection]\nid=work\ntype=vpn\n\n[vpn]\nservice-type=org.freedesktop.NetworkManager.openvpn\n",
        "/etc/NetworkManager/system-connections/home.nmconnection":
          "[connection]\nid=home\ntype=wifi\n",
      },
    });
    const facts = await gatherVpn(await openTarget({ root }), ctx);
    expect(facts.strongswanInstalled).toBe(true);
    expect(facts.swanctl.connections.map((c) => [c.name, c.version])).toEqual([["rathaus", "2"]]);
    expect(facts.swanctl.parseErrors).toEqual([]);
    expect(facts.caCertificates).toHaveLength(1);
    expect(facts.caCertificates[0]).toMatchObject({
      path: "/etc/swanctl/x509ca/vpn-ca.pem",
      isCa: true,
      keyType: "ec",
      file: { mode: 0o644 },
    });
    expect(facts.privateKeys).toEqual([
      {
        path: "/etc/swanctl/private/koffer.key",
        file: { path: "/etc/swanctl/private/koffer.key", mode: 0o644, uid: 0, gid: 0 },
        keyType: "ec",
        encrypted: false,
      },
    ]);
    expect(JSON.stringify(facts)).not.toContain("TOP-SECRET");
    expect(facts.legacyIpsec).toEqual([
      { name: "old", keyexchange: "ikev1", source: "/etc/ipsec.conf:5" },
      { name: "new", keyexchange: "ike", source: "/etc/ipsec.conf:8" },
    ]);
    expect(facts.otherTunnels).toEqual([
      { type: "wireguard", source: "/etc/wireguard/wg0.conf" },
      { type: "openvpn", source: "/etc/NetworkManager/system-connections/work.nmconnection" },
      { type: "ikev1", source: "/etc/ipsec.conf:5" },
    ]);
  });

  it("finds nothing on an empty root", async () => {
    const facts = await gatherVpn(await openTarget({ root: await buildRoot({}) }), ctx);
    expect(facts).toMatchObject({ strongswanInstalled: false, otherTunnels: [], certificates: [] });
    expect(facts.swanctl.files).toEqual([]);
  });

  it("ipsec.conf without conns", () => {
    expect(parseIpsecConf("config setup\n  charondebug=all\n", "/etc/ipsec.conf")).toEqual([]);
  });
});
