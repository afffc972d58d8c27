/**
 * The firewall koffer writes loads in the kernel (not only `nft -c`, which skips the
 * kernel's per-hook validation): with the kill switch, and without it.
 */
import { describe, expect, it } from "vitest";
import { parseNftJson, parseNftables } from "../../../src/facts/parsers/nftables.js";
import { nftablesConf } from "../../../src/provision/resources/nftables.js";
import { loadNftInNetns } from "../../helpers/nft.js";
import { makeProfile } from "../../helpers/profile.js";

const canNetns = process.getuid?.() === 0;

describe.skipIf(!canNetns)("nftables.conf as provisioned loads in a kernel", () => {
  it.each([
    ["kill switch, gateway by name", makeProfile()],
    ["kill switch, gateway by address", makeProfile({ spec: { vpn: { gateway: "192.0.2.10" } } })],
    ["no kill switch", makeProfile({ spec: { vpn: { killSwitch: false } } })],
  ])("%s", async (_name, profile) => {
    const text = nftablesConf(profile);
    expect(parseNftables(text, "/etc/nftables.conf").parseErrors).toEqual([]);
    const r = await loadNftInNetns(text);
    expect(r.exitCode, r.stderr).toBe(0);
    const chains = parseNftJson(r.stdout).chains;
    const output = chains.find((c) => c.hook === "output");
    expect(chains.find((c) => c.hook === "input")?.policy).toBe("drop");
    if (profile.spec.vpn.killSwitch) {
      expect(output?.policy).toBe("drop");
      expect(output?.rules).toContain("rt ipsec exists accept");
    } else expect(output?.policy).toBe("accept");
  });
});
