import { vpn01 } from "../../src/checks/vpn-01.js";
import type { Facts } from "../../src/facts/types.js";
import { makeProfile } from "../helpers/profile.js";
import { hardenedFacts, withPackages } from "../helpers/facts.js";
import { testControl } from "./control-tester.js";

const f = hardenedFacts();
const conn = f.vpn.swanctl.connections[0]!;

/** Plugin facts as Debian 12 installs them: libstrongswan (+ standard plugins when asked). */
function plugins(options: { standard: boolean; off?: string }): Facts {
  const base = ["aes", "gmp", "hmac", "pem", "pkcs1", "pkcs8", "sha2", "x509", "xcbc"];
  const names = options.standard ? [...base, "gcm", "openssl"] : base;
  const packages = [{ name: "libstrongswan", version: "5.9.8-5+deb12u6" }];
  if (options.standard)
    packages.push({ name: "libstrongswan-standard-plugins", version: "5.9.8-5+deb12u6" });
  return hardenedFacts({
    vpn: {
      strongswanPlugins: {
        packages,
        plugins: names.map((name) => ({
          name,
          loaded: name !== options.off,
          source: `/etc/strongswan.conf: charon.plugins.${name}.load = ${name === options.off ? "no" : "yes"}`,
        })),
      },
    },
  });
}

testControl(vpn01, import.meta.url, [
  { name: "strongSwan IKEv2", status: "pass", messages: ["ok"], exact: true },
  {
    name: "strongSwan with the standard plugins (openssl, gcm)",
    facts: plugins({ standard: true }),
    status: "pass",
    messages: ["ok"],
    exact: true,
  },
  {
    name: "libstrongswan only: no ECDSA, ECP-384 or AES-GCM",
    facts: plugins({ standard: false }),
    status: "fail",
    messages: ["pluginMissing"],
    exact: true,
    data: {
      package: "libstrongswan-standard-plugins",
      needs:
        "aes256gcm16, ecp384, ecdsa-p384, ECDSA P-384 (/etc/swanctl/x509/koffer-07.pem), ECDSA P-384 (/etc/swanctl/x509ca/meerane-vpn-ca.pem)",
    },
  },
  {
    name: "openssl plugin installed but load = no",
    facts: plugins({ standard: true, off: "openssl" }),
    status: "fail",
    messages: ["pluginDisabled"],
    exact: true,
    data: { plugin: "openssl", source: "/etc/strongswan.conf: charon.plugins.openssl.load = no" },
  },
  {
    // Debian 13's strongSwan 6.0.1 has no ML-KEM either: its openssl plugin lacks it (AWS-LC only).
    name: "hybrid ML-KEM asked for: no plugin for mlkem768",
    profile: makeProfile({
      spec: { vpn: { proposals: { ike: ["aes256gcm16-prfsha384-ecp384-ke1_mlkem768"] } } },
    }),
    facts: plugins({ standard: true }),
    status: "fail",
    messages: ["pluginMissing"],
    exact: true,
    data: { needs: "ke1_mlkem768", plugins: "ml" },
  },
  {
    // The trixie profile: hybrid first, classical fallback; Debian 13 negotiates the fallback.
    name: "postQuantum preferred: no ml plugin is no failure (VPN-02 counts the fallback's days)",
    profile: makeProfile({
      spec: {
        vpn: {
          postQuantum: "preferred",
          proposals: {
            ike: ["aes256gcm16-prfsha384-ecp384-ke1_mlkem768", "aes256gcm16-prfsha384-ecp384"],
          },
        },
      },
    }),
    facts: plugins({ standard: true }),
    status: "pass",
    messages: ["ok"],
    exact: true,
  },
  {
    name: "postQuantum required: no ml plugin fails, naming what Debian lacks",
    profile: makeProfile({
      spec: {
        vpn: {
          postQuantum: "required",
          proposals: { ike: ["aes256gcm16-prfsha384-ecp384-ke1_mlkem768"] },
        },
      },
    }),
    facts: plugins({ standard: true }),
    status: "fail",
    messages: ["pluginMissing"],
    exact: true,
    data: {
      needs: "ke1_mlkem768",
      plugins: "ml",
      package: "strongswan ≥ 6.0 built with the ml plugin (not in Debian 12 or 13)",
    },
  },
  {
    name: "gcm disabled: openssl still does AES-GCM",
    facts: plugins({ standard: true, off: "gcm" }),
    status: "pass",
    messages: ["ok"],
    exact: true,
  },
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
