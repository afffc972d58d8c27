/**
 * `koffer provision` and `koffer rollback` through the built CLI, on small hand-made roots:
 * a broken profile changes nothing (tree hash), consent is required, rollback restores
 * byte for byte.
 */
import { createHash } from "node:crypto";
import { lstat, readFile, readdir, readlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { applyChanges } from "../../src/provision/apply.js";
import type { Change } from "../../src/provision/types.js";
import { RootTarget } from "../../src/targets/root.js";
import { koffer, kofferBin, repoRoot } from "../helpers/cli.js";
import { makeLuksImage, testPassphrase } from "../helpers/luks.js";
import { buildRoot } from "../helpers/root-tree.js";

/** Everything of a tree: paths, types, modes, owners, bytes and link targets. */
async function treeHash(root: string, extra: string[] = []): Promise<string> {
  const hash = createHash("sha256");
  async function walk(dir: string): Promise<void> {
    for (const name of (await readdir(dir)).sort()) {
      const path = join(dir, name);
      const s = await lstat(path);
      hash.update(`${path.slice(root.length)} ${s.mode.toString(8)} ${s.uid}:${s.gid}\n`);
      if (s.isSymbolicLink()) hash.update(await readlink(path));
      else if (s.isDirectory()) await walk(path);
      else hash.update(await readFile(path));
    }
  }
  await walk(root);
  for (const file of extra) hash.update(await readFile(file));
  return hash.digest("hex");
}

async function smallLaptop() {
  const root = await buildRoot({
    files: {
      "/etc/hostname": "koffer-07\n",
      "/etc/group": "root:x:0:\nsudo:x:27:mallory\n",
      "/etc/shadow": { content: "root:$y$j9T$abc$def:19000:0:99999:7:::\n", mode: 0o640 },
      "/etc/fstab": "# empty\n",
    },
    enable: ["ssh.service"],
  });
  const image = await makeLuksImage({
    pbkdf: "pbkdf2",
    extraKeyslots: [{ pbkdf: "pbkdf2" }],
    copyTo: join(root, "..", `${root.split("/").pop()}.img`),
  });
  const passphrase = join(root, "..", `${root.split("/").pop()}.pass`);
  await writeFile(passphrase, testPassphrase);
  return { root, image: image.path, passphrase };
}

describe("koffer provision", () => {
  it("with a broken profile exits 78 and touches nothing on the target", async () => {
    const { root, image, passphrase } = await smallLaptop();
    const broken = join(root, "..", "broken.yaml");
    await writeFile(
      broken,
      "apiVersion: koffer/v1\nkind: Profile\nmetadata: { name: x }\nextends: [koffer:baseline]\nspec:\n  disk: { unlock: fingerprint }\n",
    );
    const before = await treeHash(root, [image]);
    const run = await koffer([
      "provision",
      "--root",
      root,
      "--disk",
      image,
      "--profile",
      broken,
      "--yes",
      "--passphrase-file",
      passphrase,
    ]);
    expect(run.exitCode).toBe(78);
    expect(run.stderr).toMatch(/broken\.yaml:\d+:\d+: /);
    expect(run.stdout).toBe("");
    expect(await treeHash(root, [image])).toBe(before);
  });

  it("without a terminal and without --yes exits 64 before touching anything", async () => {
    const { root, image, passphrase } = await smallLaptop();
    const before = await treeHash(root, [image]);
    const run = await koffer([
      "provision",
      "--root",
      root,
      "--disk",
      image,
      "--profile",
      join(repoRoot, "examples/meerane.yaml"),
      "--passphrase-file",
      passphrase,
    ]);
    expect(run.exitCode).toBe(64);
    expect(run.stderr).toMatch(/--yes/);
    expect(await treeHash(root, [image])).toBe(before);
  });

  it("on a terminal asks before applying; answering no changes nothing", async () => {
    const { root } = await smallLaptop();
    const before = await treeHash(root);
    // script(1) gives the CLI a terminal; the answer "n" is typed into it.
    const command = [
      process.execPath,
      kofferBin,
      "provision",
      "--root",
      root,
      "--profile",
      join(repoRoot, "examples/meerane.yaml"),
    ].join(" ");
    const run = await execa("script", ["-qec", command, "/dev/null"], {
      input: "n\n",
      reject: false,
      env: { NO_COLOR: "1" },
      timeout: 120_000,
    });
    expect(run.stdout).toMatch(/Apply these \d+ changes\? \[y\/N\]/);
    expect(run.stdout).toMatch(/Nothing applied \(not confirmed\)/);
    expect(run.exitCode).toBe(1);
    expect(await treeHash(root)).toBe(before);
  });

  it("needs the disk passphrase from a file or the environment, never argv", async () => {
    const { root, image } = await smallLaptop();
    const run = await koffer([
      "provision",
      "--root",
      root,
      "--disk",
      image,
      "--profile",
      join(repoRoot, "examples/meerane.yaml"),
      "--yes",
    ]);
    expect(run.exitCode).toBe(64);
    expect(run.stderr).toMatch(/--passphrase-file FILE or set KOFFER_DISK_PASSPHRASE/);
    const help = await koffer(["provision", "--help"]);
    expect(help.stdout).not.toMatch(/--passphrase </);
  });
});

describe("koffer rollback", () => {
  it("restores the files of a run byte for byte, modes and owners included", async () => {
    const { root } = await smallLaptop();
    const before = await treeHash(root);
    const target = await RootTarget.open({ root });
    const write = (path: string, content: string, mode: number): Change => ({
      kind: "write-file",
      resource: "test",
      summary: path,
      controls: [],
      path,
      content,
      mode,
      uid: 0,
      gid: 0,
    });
    const changes: Change[] = [
      write("/etc/hostname", "changed\n", 0o600),
      write("/etc/koffer-new.conf", "new\n", 0o644),
      {
        kind: "set-group-members",
        resource: "t",
        summary: "",
        controls: [],
        group: "sudo",
        members: [],
      },
      { kind: "lock-account", resource: "t", summary: "", controls: [], user: "root" },
      { kind: "remove-file", resource: "t", summary: "", controls: [], path: "/etc/fstab" },
    ];
    const report = await applyChanges(target, changes);
    expect(report.applied).toBe(5);
    expect(await treeHash(root)).not.toBe(before);

    const run = await koffer(["rollback", report.runId, "--root", root]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/4 restored, 1 removed/);
    // koffer's own state (backups, journal) stays; the laptop's files are as before.
    const { rm, rmdir } = await import("node:fs/promises");
    await rm(join(root, "var/lib/koffer"), { recursive: true, force: true });
    await rmdir(join(root, "var/lib"));
    await rmdir(join(root, "var"));
    expect(await treeHash(root)).toBe(before);
  });

  it("refuses a malformed run id (64) and an unknown one (78)", async () => {
    const { root } = await smallLaptop();
    expect((await koffer(["rollback", "yesterday", "--root", root])).exitCode).toBe(64);
    const unknown = await koffer(["rollback", "20261120T213700Z-1a2b3c", "--root", root]);
    expect(unknown.exitCode).toBe(78);
    expect(unknown.stderr).toMatch(/no backups of run 20261120T213700Z-1a2b3c/);
  });
});
