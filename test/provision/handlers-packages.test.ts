/**
 * Package changes in a container (systemd-nspawn) on a real (copied) Debian 12 root, with
 * real apt-get and the Debian mirror: installs and purges, nothing started, nothing ever
 * mounted on the host — also when apt fails.
 */
import { execa } from "execa";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadProfileOrThrow } from "../../src/profiles/loader.js";
import { applyChanges } from "../../src/provision/apply.js";
import {
  cleanupChroot,
  installedPackages,
  makeHandlers,
  mountsBelow,
  needsCleanup,
} from "../../src/provision/handlers/index.js";
import type { Change } from "../../src/provision/types.js";
import { RootTarget } from "../../src/targets/root.js";
import { repoRoot } from "../helpers/cli.js";
import { debianRoot, debianRootSkipReason } from "../helpers/debian-root.js";

const skip = debianRootSkipReason();
let dir: string;
let root: string;
let target: RootTarget;

const pkgs = (kind: "install-packages" | "purge-packages", packages: string[]): Change => ({
  kind,
  resource: "packages",
  summary: `${kind} ${packages.join(" ")}`,
  controls: [],
  packages,
});

async function handlers() {
  const profile = await loadProfileOrThrow(join(repoRoot, "examples/meerane.yaml"));
  return makeHandlers({
    profile,
    pbkdfCost: "fast",
    aptArchives: join(homedir(), ".cache", "koffer", "apt-archives"),
  });
}

describe.skipIf(skip !== null)("packages in a container", () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "koffer-apt-"));
    root = join(dir, "root");
    await execa("cp", ["-a", await debianRoot(), root]);
    target = await RootTarget.open({ root });
  }, 600_000);
  afterAll(async () => {
    if (root) await cleanupChroot(await RootTarget.open({ root }));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("installs with apt-get in the container, starts nothing, mounts nothing on the host", async () => {
    const set = await handlers();
    // cron's postinst would start the daemon: policy-rc.d must stop it.
    const report = await applyChanges(target, [pkgs("install-packages", ["hello", "cron"])], {
      handlers: set.handlers,
    });
    expect(report.failed).toEqual([]);
    expect(report.applied).toBe(1);
    expect([...(await installedPackages(target, ["hello", "cron"]))].sort()).toEqual([
      "cron",
      "hello",
    ]);
    expect(await mountsBelow(root)).toEqual([]);
    expect(await stat(join(root, "usr/sbin/policy-rc.d")).catch(() => null)).toBeNull();
    const { stdout } = await execa("pgrep", ["-x", "cron"], { reject: false });
    for (const pid of stdout.split("\n").filter(Boolean)) {
      const rootOf = await import("node:fs/promises").then((fs) =>
        fs.readlink(`/proc/${pid}/root`).catch(() => ""),
      );
      expect(rootOf).not.toBe(root);
    }
    // The tree keeps its own resolv.conf (the host's was only bind-mounted over it).
    expect(await readFile(join(root, "etc/resolv.conf"), "utf8")).toBe(
      await readFile(join(await debianRoot(), "etc/resolv.conf"), "utf8"),
    );
    // Already installed: no apt run at all.
    const again = await applyChanges(target, [pkgs("install-packages", ["hello"])], {
      handlers: (await handlers()).handlers,
    });
    expect(again).toMatchObject({ applied: 0, unchanged: 1 });
  }, 600_000);

  it("purges, and a failing apt still leaves no mount behind", async () => {
    const set = await handlers();
    const report = await applyChanges(
      target,
      [pkgs("purge-packages", ["hello"]), pkgs("install-packages", ["koffer-no-such-package"])],
      { handlers: set.handlers },
    );
    expect(report.applied).toBe(1);
    expect(report.failed[0]?.message).toMatch(/apt-get install .*failed/);
    expect((await installedPackages(target, ["hello"])).size).toBe(0);
    expect(await mountsBelow(root)).toEqual([]);
  }, 600_000);

  it("removes only koffer's own stale policy-rc.d, and unmounts nothing it did not mount", async () => {
    // A mount below the tree that koffer did not make (an administrator's) is not koffer's to undo.
    await execa("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", join(root, "mnt")]);
    try {
      const { writeFile } = await import("node:fs/promises");
      await writeFile(
        join(root, "usr/sbin/policy-rc.d"),
        "#!/bin/sh\n# koffer: provision in progress: start no services inside the image\nexit 101\n",
        { mode: 0o755 },
      );
      expect(await needsCleanup(target)).toBe(true);
      const report = await cleanupChroot(target);
      expect(report.removedPolicy).toBe(true);
      expect(await needsCleanup(target)).toBe(false);
      expect(await mountsBelow(root)).toEqual([join(root, "mnt")]);
    } finally {
      await execa("umount", [join(root, "mnt")], { reject: false });
    }
  });
});
