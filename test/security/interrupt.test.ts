/**
 * Security: an interrupted provision leaves nothing mounted and nothing running (issue 14).
 *
 * Ctrl-C (SIGINT) or kill -9 of `koffer provision` in the middle of apt used to leave proc,
 * sys, the host's /dev and /dev/pts, resolv.conf and the apt cache mounted inside the work
 * directory — a later `rm -rf` of it reached into the host. Now apt runs in a container whose
 * mounts exist only in its own namespace, and the container dies with koffer. The test starts
 * the real CLI on a copied Debian 12 root, waits until the container runs apt, interrupts,
 * and checks the host's mount table and process list; after kill -9 a re-run (declined at
 * the confirmation) removes the policy-rc.d the killed run left.
 */
import { execa, type ResultPromise } from "execa";
import { mkdtemp, readFile, readdir, realpath, rm, stat } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mountsBelow } from "../../src/provision/handlers/index.js";
import { provision } from "../../src/provision/provision.js";
import { kofferBin, repoRoot } from "../helpers/cli.js";
import { debianRoot, debianRootSkipReason } from "../helpers/debian-root.js";

const skip = debianRootSkipReason();
const profile = join(repoRoot, "examples/meerane.yaml");
let dir: string;
let root: string;

/** Pids of the containers running on `root` (nspawn's command line names the directory). */
async function containersOn(tree: string): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const cmd = await readFile(`/proc/${name}/cmdline`, "utf8").catch(() => "");
    if (
      cmd.includes("systemd-nspawn") &&
      (cmd.includes(`--directory=${tree}\0`) || cmd.includes(`--directory=${tree}/\0`))
    )
      pids.push(Number(name));
  }
  return pids;
}

async function until(what: string, test: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await test()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function startProvision(): ResultPromise {
  return execa(
    process.execPath,
    [kofferBin, "provision", "--root", root, "--profile", profile, "--yes"],
    {
      reject: false,
      env: {
        NO_COLOR: "1",
        KOFFER_TEST_PBKDF: "fast",
        KOFFER_APT_ARCHIVES: join(homedir(), ".cache", "koffer", "apt-archives"),
      },
    },
  );
}

describe.skipIf(skip !== null)("security: interrupting provision during apt", () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "koffer-sec-interrupt-"));
    await execa("cp", ["-a", await debianRoot(), join(dir, "root")]);
    // nspawn is given the real path (RootTarget resolves the host's own links first).
    root = await realpath(join(dir, "root"));
  }, 600_000);
  afterAll(async () => {
    // Only after checking nothing is mounted below it: rm -rf must never reach the host.
    if (dir && (await mountsBelow(dir)).length === 0)
      await rm(dir, { recursive: true, force: true });
  });

  for (const signal of ["SIGINT", "SIGKILL"] as const) {
    it(`${signal} mid-apt leaves no mount and no process of the image`, async () => {
      const child = startProvision();
      try {
        await until(
          "apt in the container",
          async () => {
            if (child.exitCode !== null)
              throw new Error(`provision ended early: ${(await child).stderr}`);
            return (await containersOn(root)).length > 0;
          },
          240_000,
        );
        // Let apt get going (lists, downloads) before the interrupt.
        await new Promise((r) => setTimeout(r, 1500));
        child.kill(signal);
        await child;
      } finally {
        if (child.exitCode === null) child.kill("SIGKILL");
      }
      await until(
        "the container to end",
        async () => (await containersOn(root)).length === 0,
        20_000,
      );
      expect(await mountsBelow(dir)).toEqual([]);
      const { stdout } = await execa("findmnt", ["-rn", "-o", "TARGET"], { reject: false });
      expect(stdout.split("\n").filter((t) => t.startsWith(dir))).toEqual([]);
    }, 300_000);
  }

  it("a re-run after kill -9 removes the killed run's policy-rc.d under the lock", async () => {
    const policy = join(root, "usr/sbin/policy-rc.d");
    const left = await readFile(policy, "utf8").catch(() => null);
    // The killed run may have died before or after it placed its policy-rc.d.
    if (left !== null) expect(left).toContain("koffer: provision in progress");
    const outcome = await provision({ profileFile: profile, root, confirm: async () => false });
    expect(outcome.declined).toBe(true);
    expect(await stat(policy).catch(() => null)).toBeNull();
    expect(await mountsBelow(dir)).toEqual([]);
  }, 300_000);
});
