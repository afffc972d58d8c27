import { vpn01 } from "../../src/checks/vpn-01.js";
import { hardenedFacts, withPackages } from "../helpers/facts.js";
import { testControl } from "./control-tester.js";

const f = hardenedFacts();
const conn = f.vpn.swanctl.connections[0]!;
testControl(vpn01, import.meta.url, [
  { name: "strongSwan IKEv2", status: "pass", messages: ["ok"], exact: true },
  {
    name: "wireguard-tools held back (hi)",
    facts: {
      ...f,
      apps: {
        ...f.apps,
        packages: [...f.apps.packages, { name: "wireguard-tools", version: "1.0", status: "hi" }],
      },
    },
    status: "fail",
    messages: ["otherPackage"],
    exact: true,
  },
  {
    name: "version not set (IKEv1 allowed)",
    facts: hardenedFacts({ vpn: { swanctl: { connections: [{ ...conn, version: null }] } } }),
    status: "fail",
    messages: ["version"],
    exact: true,
  },
  {
    name: "WireGuard instead",
    facts: withPackages(
      hardenedFacts({
        vpn: {
          strongswanInstalled: false,
          swanctl: { connections: [] },
          otherTunnels: [{ type: "wireguard", source: "/etc/wireguard/wg0.conf" }],
        },
      }),
      ["wireguard-tools"],
    ),
    status: "fail",
    messages: ["noStrongswan", "noConnection", "otherTunnel", "otherPackage"],
    exact: true,
  },
  {
    name: "legacy ipsec.conf IKEv1",
    facts: hardenedFacts({
      vpn: { legacyIpsec: [{ name: "old", keyexchange: "ikev1", source: "/etc/ipsec.conf:3" }] },
    }),
    status: "fail",
    messages: ["legacy"],
  },
]);
