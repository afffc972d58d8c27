/**
 * The firewall of a profile that allows administrative SSH admits new SSH connections only
 * through the IPsec tunnel; the file is checked by the real nft (`nft -c -f`).
 */
import { execa } from "execa";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadProfileOrThrow } from "../../../src/profiles/loader.js";
import { nftablesConf } from "../../../src/provision/resources/nftables.js";

const fixture = join(import.meta.dirname, "..", "..", "fixtures", "ssh", "rig-laptop.yaml");
const nftMissing =
  (await execa("nft", ["--version"], { reject: false }).catch(() => null)) === null;

describe("nftables.conf and administrative SSH", () => {
  it("admits tcp/22 only from the tunnel when network.ssh is true, not otherwise", async () => {
    const profile = await loadProfileOrThrow(fixture);
    const conf = nftablesConf(profile);
    const input = conf.slice(conf.indexOf("chain input"), conf.indexOf("chain forward"));
    expect(input).toContain("meta ipsec exists tcp dport 22 accept");
    expect(conf).not.toMatch(/^\s*tcp dport 22 accept/m);
    const closed = nftablesConf({
      ...profile,
      spec: { ...profile.spec, network: { ...profile.spec.network, ssh: false } },
    });
    expect(closed).not.toContain("dport 22");
  });

  it.skipIf(nftMissing || process.getuid?.() !== 0)("is accepted by nft -c", async () => {
    const dir = await mkdtemp(join(tmpdir(), "koffer-nft-"));
    try {
      const file = join(dir, "nftables.conf");
      await writeFile(file, nftablesConf(await loadProfileOrThrow(fixture)));
      const r = await execa("nft", ["-c", "-f", file], { reject: false });
      expect(r.stderr).toBe("");
      expect(r.exitCode).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
