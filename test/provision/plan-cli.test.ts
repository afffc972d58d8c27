import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { koffer } from "../helpers/cli.js";
import { debianRoot, debianRootSkipReason } from "../helpers/debian-root.js";
import { buildRoot } from "../helpers/root-tree.js";
import { tempDir } from "../helpers/tmp.js";

const skipReason = debianRootSkipReason();

/** Paths, modes, sizes and bytes of every file below `root`: any write changes it. */
async function treeHash(root: string): Promise<string> {
  const listing = await execa("find", [root, "-xdev", "-printf", "%P %m %s %T@\\n"]);
  return createHash("sha256")
    .update(String(listing.stdout).split("\n").sort().join("\n"))
    .digest("hex");
}

describe("koffer plan", () => {
  it("refuses an invalid profile with exit 78 and changes nothing", async () => {
    const dir = tempDir("plan");
    const file = join(dir, "broken.yaml");
    await writeFile(
      file,
      "apiVersion: koffer/v1\nkind: Profile\nmetadata: { name: x }\nspec: { bogus: 1 }\n",
    );
    const run = await koffer(["plan", "--profile", file, "--root", dir]);
    expect(run.exitCode).toBe(78);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/broken\.yaml:\d+:\d+/);
  });

  it("says the profile's warnings on stderr, the plan stays clean JSON on stdout", async () => {
    // Debian 13's strongSwan implements no ML-KEM: whoever plans the trixie example must hear
    // that the hybrid proposal will stay classical (issue 13), not only whoever runs validate.
    const dir = tempDir("plan");
    const run = await koffer([
      ...["plan", "--profile", "examples/meerane-trixie.yaml", "--root", dir, "--format", "json"],
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stderr).toMatch(
      /^examples\/meerane-trixie\.yaml:\d+:\d+: warning: Expected an ML-KEM implementation in Debian 13 \(trixie\)'s strongSwan for postQuantum: preferred, .*stays classical \(at \/spec\/vpn\/postQuantum\) \[platform\/post-quantum-provider\]$/m,
    );
    expect(JSON.parse(run.stdout)).toHaveProperty("changes");
  });

  it("rejects an unknown format with exit 64", async () => {
    const run = await koffer(["plan", "--profile", "examples/meerane.yaml", "--format", "yaml"]);
    expect(run.exitCode).toBe(64);
  });

  describe.skipIf(skipReason !== null)("on a Debian 12 root", () => {
    let root: string;
    beforeAll(async () => {
      root = await buildRoot();
      await execa("cp", ["-a", `${await debianRoot()}/.`, root]);
    }, 600_000);

    it("prints the changes as JSON and writes nothing", async () => {
      const before = await treeHash(root);
      const run = await koffer([
        "plan",
        "--profile",
        "examples/meerane.yaml",
        "--root",
        root,
        "--format",
        "json",
      ]);
      expect(run.exitCode).toBe(0);
      const { changes } = JSON.parse(run.stdout) as { changes: { kind: string; path?: string }[] };
      expect(changes[0]).toMatchObject({ kind: "install-packages" });
      expect(changes.filter((c) => c.kind === "write-file").map((c) => c.path)).toContain(
        "/etc/nftables.conf",
      );
      expect(changes.at(-1)).toMatchObject({ kind: "vpn-certificate", action: "request" });
      expect(await treeHash(root)).toBe(before);
    });

    it("prints a unified diff against the files on the target", async () => {
      const run = await koffer([
        "plan",
        "--profile",
        "examples/meerane.yaml",
        "--root",
        root,
        "--ca-p12",
        "x.p12",
      ]);
      expect(run.exitCode).toBe(0);
      expect(run.stdout).toContain("--- /dev/null\n+++ b/etc/usbguard/rules.conf\n@@ -0,0 +1,");
      // fstab exists: its diff keeps the old line as context.
      expect(run.stdout).toMatch(
        /--- a\/etc\/fstab\n\+\+\+ b\/etc\/fstab\n@@ -1,1 \+1,7 @@\n # UNCONFIGURED FSTAB/,
      );
      expect(run.stdout).toMatch(/issue the VPN certificate/);
      expect(run.stdout).toMatch(/\d+ changes: 1 install-packages, \d+ write-file/);
    });

    it("plans on a saved snapshot as on the target", async () => {
      const dir = tempDir("plan");
      const factsFile = join(dir, "facts.json");
      const saved = await koffer([
        "facts",
        "--profile",
        "examples/meerane.yaml",
        "--root",
        root,
        "--out",
        factsFile,
      ]);
      expect(saved.exitCode).toBe(0);
      const fromFacts = await koffer([
        "plan",
        "--profile",
        "examples/meerane.yaml",
        "--facts",
        factsFile,
        "--format",
        "json",
      ]);
      const fromRoot = await koffer([
        "plan",
        "--profile",
        "examples/meerane.yaml",
        "--root",
        root,
        "--format",
        "json",
      ]);
      expect(fromFacts.exitCode).toBe(0);
      expect(JSON.parse(fromFacts.stdout)).toEqual(JSON.parse(fromRoot.stdout));
    });
  });
});
