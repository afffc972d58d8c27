import { execa } from "execa";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gatherStrongswanPlugins, pluginLoadState } from "../../src/facts/strongswan-plugins.js";
import { openTarget } from "../../src/targets/index.js";
import { koffer, repoRoot } from "../helpers/cli.js";
import { debianRootSkipReason } from "../helpers/debian-root.js";
import { buildRoot } from "../helpers/root-tree.js";
import { gatewayRoot } from "../rig/vpn-gateway.js";

const profile = join(repoRoot, "examples/meerane.yaml");

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

/**
 * On a real Debian 12 root with strongSwan (the rig's gateway root): verify judges the plugins
 * that are installed. With libstrongswan-standard-plugins purged by dpkg, VPN-01 fails and
 * names the package; with it, no plugin finding.
 */
describe.skipIf(debianRootSkipReason() !== null)("VPN-01 on a real strongSwan install", () => {
  let dir: string;
  let root: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "koffer-swplugins-"));
    root = join(dir, "root");
    await execa("cp", ["-a", await gatewayRoot(), root]);
  }, 1_800_000);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const vpn01 = async () => {
    const run = await koffer(["verify", "--root", root, "--profile", profile, "--format", "json"]);
    const result = JSON.parse(run.stdout) as {
      controls: { id: string; messages: { id: string; data: Record<string, string> }[] }[];
    };
    return result.controls.find((c) => c.id === "VPN-01")!.messages;
  };

  it("with the standard plugins: openssl and gcm loaded, no plugin finding", async () => {
    const facts = await gatherStrongswanPlugins(await openTarget({ root }));
    const loaded = facts!.plugins.filter((p) => p.loaded).map((p) => p.name);
    expect(loaded).toEqual(expect.arrayContaining(["openssl", "gcm", "aes", "x509"]));
    // Installed but off: Debian ships kernel-libipsec with `load = no`.
    expect(facts!.plugins.find((p) => p.name === "kernel-libipsec")).toEqual({
      name: "kernel-libipsec",
      loaded: false,
      source: "/etc/strongswan.conf: charon.plugins.kernel-libipsec.load = no",
    });
    expect((await vpn01()).map((m) => m.id)).not.toContain("pluginMissing");
  });

  it("without them (dpkg --purge): VPN-01 fails naming libstrongswan-standard-plugins", async () => {
    await execa("dpkg", [`--root=${root}`, "--purge", "libstrongswan-standard-plugins"], {
      env: { LC_ALL: "C", PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin" },
    });
    const facts = await gatherStrongswanPlugins(await openTarget({ root }));
    expect(facts!.plugins.map((p) => p.name)).not.toContain("openssl");
    const missing = (await vpn01()).filter((m) => m.id === "pluginMissing");
    expect(missing).toHaveLength(1);
    expect(missing[0]!.data).toMatchObject({
      package: "libstrongswan-standard-plugins",
      needs: "aes256gcm16, ecp384, ecdsa-p384",
    });
  });
});
