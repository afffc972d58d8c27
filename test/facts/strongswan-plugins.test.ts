import { describe, expect, it } from "vitest";
import { gatherStrongswanPlugins, pluginLoadState } from "../../src/facts/strongswan-plugins.js";
import { openTarget } from "../../src/targets/index.js";
import { buildRoot } from "../helpers/root-tree.js";

const debianConf =
  "charon {\n\tload_modular = yes\n\tplugins {\n\t\tinclude strongswan.d/charon/*.conf\n\t}\n}\ninclude strongswan.d/*.conf\n";
const pluginConf = (name: string, load: string) => `${name} {\n    load = ${load}\n}\n`;
const so = (name: string) => `/usr/lib/ipsec/plugins/libstrongswan-${name}.so`;

describe("strongSwan plugin facts", () => {
  it("reads packages, plugin files and Debian's modular load settings (charon-systemd falls back to charon)", async () => {
    const root = await buildRoot({
      packages: [
        { name: "libstrongswan", version: "5.9.8-5+deb12u6" },
        { name: "libstrongswan-standard-plugins", version: "5.9.8-5+deb12u6" },
        { name: "charon-systemd", version: "5.9.8-5+deb12u6" },
        { name: "libcharon-extra-plugins", status: "deinstall ok config-files" },
        { name: "sudo" },
      ],
      files: {
        "/etc/strongswan.conf": debianConf,
        "/etc/strongswan.d/charon/aes.conf": pluginConf("aes", "yes"),
        "/etc/strongswan.d/charon/gcm.conf": pluginConf("gcm", "no"),
        "/etc/strongswan.d/charon/openssl.conf": pluginConf("openssl", "yes"),
        // charon-systemd's own section wins over charon's.
        "/etc/strongswan.d/charon-systemd.conf":
          "charon-systemd {\n  plugins {\n    openssl {\n      load = 0\n    }\n  }\n}\n",
        [so("aes")]: "",
        [so("gcm")]: "",
        [so("openssl")]: "",
        [so("x509")]: "",
      },
    });
    const facts = await gatherStrongswanPlugins(await openTarget({ root }));
    expect(facts?.packages.map((p) => p.name)).toEqual([
      "charon-systemd",
      "libstrongswan",
      "libstrongswan-standard-plugins",
    ]);
    expect(facts?.plugins).toEqual([
      { name: "aes", loaded: true, source: "/etc/strongswan.conf: charon.plugins.aes.load = yes" },
      { name: "gcm", loaded: false, source: "/etc/strongswan.conf: charon.plugins.gcm.load = no" },
      {
        name: "openssl",
        loaded: false,
        source: "/etc/strongswan.conf: charon-systemd.plugins.openssl.load = 0",
      },
      { name: "x509", loaded: true, source: "/etc/strongswan.conf: (no load setting)" },
    ]);
  });

  it("is null without strongSwan", async () => {
    const root = await buildRoot({ packages: [{ name: "sudo" }] });
    expect(await gatherStrongswanPlugins(await openTarget({ root }))).toBeNull();
  });

  it("an explicit load list without load_modular names the plugins", () => {
    const tree = { charon: { load: "aes sha2 openssl! x509" } };
    expect(pluginLoadState(tree, ["gcm", "openssl"], "/etc/strongswan.conf")).toEqual([
      { name: "gcm", loaded: false, source: "/etc/strongswan.conf: charon.load" },
      { name: "openssl", loaded: true, source: "/etc/strongswan.conf: charon.load" },
    ]);
  });
});
