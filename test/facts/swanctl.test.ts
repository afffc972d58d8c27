import { describe, expect, it } from "vitest";
import { openTarget } from "../../src/targets/index.js";
import { parseSwanctlFile, swanctlConnections } from "../../src/facts/swanctl.js";
import { buildRoot } from "../helpers/root-tree.js";

const koffer = `# koffer: written by koffer provision
connections {
    rathaus : connections.defaults {   # template
        remote_addrs = vpn.meerane.example
        proposals = aes256gcm16-prfsha384-ecp384, aes256gcm16-prfsha256-ecp256bp
        local {
            auth = pubkey
            certs = koffer-07.pem
            id = "CN=koffer-07, O=Stadt Meerane, C=DE"
        }
        remote {
            auth = pubkey
            id = "CN=vpn.meerane.example"
            cacerts = vpn-ca.pem
        }
        children {
            net {
                remote_ts = 0.0.0.0/0, ::/0
                esp_proposals = aes256gcm16-ecp384
                start_action = trap
                dpd_action = restart
            }
        }
    }
}
include conf.d/*.conf
`;

describe("swanctl.conf parser", () => {
  it("parses sections, comments, quoted values, templates and glob includes into connections", async () => {
    const root = await buildRoot({
      files: {
        "/etc/swanctl/swanctl.conf": `connections {\n  defaults {\n    version = 2\n    dpd_delay = 30s\n  }\n}\n${koffer}`,
        "/etc/swanctl/conf.d/10-extra.conf":
          'connections {\n  legacy {\n    version = 1\n    remote_addrs = 192.0.2.1\n    local-psk { auth = psk }\n  }\n}\nsecrets {\n  ike-1 { secret = "multi\\nline # not a comment" }\n}\n',
      },
    });
    const target = await openTarget({ root });
    const parse = await parseSwanctlFile("/etc/swanctl/swanctl.conf", target);
    expect(parse.errors).toEqual([]);
    expect(parse.files).toEqual(["/etc/swanctl/swanctl.conf", "/etc/swanctl/conf.d/10-extra.conf"]);
    expect(parse.tree).toMatchObject({
      secrets: { "ike-1": { secret: "multi\nline # not a comment" } },
    });
    const [defaults, rathaus, legacy] = swanctlConnections(parse);
    expect(defaults?.name).toBe("defaults");
    expect(rathaus).toEqual({
      name: "rathaus",
      version: "2", // inherited from the template
      remoteAddrs: ["vpn.meerane.example"],
      proposals: ["aes256gcm16-prfsha384-ecp384", "aes256gcm16-prfsha256-ecp256bp"],
      local: [
        { auth: "pubkey", certs: ["koffer-07.pem"], id: "CN=koffer-07, O=Stadt Meerane, C=DE" },
      ],
      remote: [{ auth: "pubkey", id: "CN=vpn.meerane.example", cacerts: ["vpn-ca.pem"] }],
      children: [
        {
          name: "net",
          localTs: [],
          remoteTs: ["0.0.0.0/0", "::/0"],
          espProposals: ["aes256gcm16-ecp384"],
          startAction: "trap",
          dpdAction: "restart",
          mode: null,
        },
      ],
      source: "/etc/swanctl/swanctl.conf:9",
    });
    expect(legacy).toMatchObject({ version: "1", local: [{ auth: "psk" }] });
  });

  it("reports errors with file:line and keeps parsing", async () => {
    const root = await buildRoot({
      files: {
        "/etc/swanctl/swanctl.conf":
          "connections {\n  a {\n    version 2\n    remote_addrs = x\n  }\n}\n}\ninclude missing.conf\nb : nowhere {\n}\nc {\n",
      },
    });
    const parse = await parseSwanctlFile("/etc/swanctl/swanctl.conf", await openTarget({ root }));
    expect(parse.errors).toEqual([
      "/etc/swanctl/swanctl.conf:3: expected '=' or '{' after 'version'",
      "/etc/swanctl/swanctl.conf:7: unexpected '}'",
      "/etc/swanctl/swanctl.conf:8: included file /etc/swanctl/missing.conf not found",
      "/etc/swanctl/swanctl.conf:9: section 'b' refers to unknown section 'nowhere'",
      "/etc/swanctl/swanctl.conf:12: missing '}' for section 'c'",
    ]);
    expect(swanctlConnections(parse)[0]?.remoteAddrs).toEqual(["x"]);
  });

  it("stops include loops", async () => {
    const root = await buildRoot({
      files: { "/etc/swanctl/swanctl.conf": "include swanctl.conf\n" },
    });
    const parse = await parseSwanctlFile("/etc/swanctl/swanctl.conf", await openTarget({ root }));
    expect(
      parse.errors.some((e) =>
        /include loop: \/etc\/swanctl\/swanctl.conf -> \/etc\/swanctl\/swanctl.conf/.test(e),
      ),
    ).toBe(true);
  });
});
