/**
 * "A second provision changes nothing" on the rig's SSH-administered laptop (the GNOME laptop
 * root plus openssh-server, sudo and a technician, test/helpers/ssh-laptop.ts), with the
 * profile of the ssh tests (network.ssh: true, a tunnel address, admins: [technik]):
 *
 * - offline, `--root` on a private tmpfs copy of the tree: provision, then the plan is empty
 *   and a second provision applies nothing and leaves every file under /etc as it was;
 * - over `--ssh` against the booted laptop's real sshd: provision, then `plan --ssh` is empty
 *   and a second `provision --ssh` applies nothing: no file under /etc gets a new inode or
 *   modification time (the device key and certificate request included).
 *
 * Both used to re-plan the certificate request on every run (the gatherer looked for pending
 * requests where nothing writes them, not in /etc/swanctl/x509req), and the offline run
 * stopped at the sshd drop-in (`sshd -t` in the sandbox missed /run/sshd). Over ssh the
 * container laptop could not load nftables (no CAP_NET_ADMIN): the first run stopped at that
 * unit and left the later phases (the sudo group, the certificate request) to the second run.
 * Here the laptop has CAP_NET_ADMIN, as a real one; the firewall then lets SSH in only
 * through IPsec, for which the test stands in (SshLaptop.admitController).
 */
import { execa } from "execa";
import { lstat, mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { koffer } from "../helpers/cli.js";
import {
  rigLaptopProfile as profileFile,
  sshLaptopRig,
  sshLaptopSkipReason,
  type SshLaptop,
  type SshLaptopRig,
} from "../helpers/ssh-laptop.js";
import { track, undoLeftover } from "../rig/cleanup.js";
import { copyRoot } from "../rig/laptop-root.js";

const skip = sshLaptopSkipReason();

/** inode, mtime and ctime of every entry below `dir` (host path), keyed by path. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (path: string): Promise<void> => {
    const s = await lstat(path);
    out.set(path.slice(dir.length), `ino ${s.ino} mtime ${s.mtimeMs} ctime ${s.ctimeMs}`);
    if (s.isDirectory()) for (const name of await readdir(path)) await walk(join(path, name));
  };
  await walk(dir);
  return out;
}

/** Entries that differ between two snapshots, as "path: before → after". */
function differences(before: Map<string, string>, after: Map<string, string>): string[] {
  const out: string[] = [];
  for (const path of new Set([...before.keys(), ...after.keys()]))
    if (before.get(path) !== after.get(path))
      out.push(`${path}: ${before.get(path) ?? "absent"} → ${after.get(path) ?? "absent"}`);
  return out.sort();
}

const planChanges = (stdout: string) =>
  (JSON.parse(stdout) as { changes: { summary: string }[] }).changes.map((c) => c.summary);

describe.skipIf(skip !== null)("a second provision changes nothing", () => {
  let rig: SshLaptopRig;
  let layer: [string, string];
  const cleanups: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    rig = await sshLaptopRig("koffer-second-");
    layer = await rig.layer();
  }, 1_200_000);

  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
    if (rig) await rig.cleanup();
  }, 120_000);

  it("offline (--root): the second plan is empty and the second run applies nothing", async () => {
    // The layer over the laptop root, read-only, copied to a tmpfs: sshd -t runs in the
    // sandbox, whose id-mapped mounts an overlay does not support.
    const dir = await mkdtemp(join("/var/tmp", "kof-root-"));
    const merged = join(dir, "root");
    await mkdir(merged);
    const item = {
      kind: "mount" as const,
      name: dir.split("/").pop() as string,
      path: merged,
      dir,
    };
    const untrack = track(item, () => undoLeftover(item));
    let copy: Awaited<ReturnType<typeof copyRoot>>;
    try {
      await execa("mount", [
        "-t",
        "overlay",
        "overlay",
        "-o",
        `ro,lowerdir=${layer.join(":")}`,
        merged,
      ]);
      copy = await copyRoot(merged);
    } finally {
      await execa("umount", [merged], { reject: false });
      untrack();
      await rm(dir, { recursive: true, force: true });
    }
    cleanups.push(() => copy.cleanup());
    const root = copy.path;
    const args = ["--root", root, "--profile", profileFile];

    const first = await koffer(["provision", ...args, "--yes"], { timeoutMs: 600_000 });
    console.log(
      first.stdout
        .split("\n")
        .filter((l) => /^(Run| {2}failed|Verify)/.test(l))
        .join("\n"),
    );
    expect(first.stdout).toMatch(/^Run \S+: [1-9]\d* applied, \d+ already right, 0 failed/m);

    const plan = await koffer(["plan", ...args, "--format", "json"]);
    expect(plan.exitCode).toBe(0);
    expect(planChanges(plan.stdout)).toEqual([]);

    const before = await snapshot(join(root, "etc"));
    const second = await koffer(["provision", ...args, "--yes"], { timeoutMs: 600_000 });
    expect(second.stdout).toMatch(/^Plan: nothing to change\.$/m);
    expect(second.stdout).not.toMatch(/[1-9]\d* applied/);
    expect(differences(before, await snapshot(join(root, "etc")))).toEqual([]);
  }, 900_000);

  it("over --ssh against real sshd: the second plan is empty, the second run touches no file", async () => {
    const laptop: SshLaptop = await rig.boot({
      index: 41,
      routeTunnelAddress: true,
      // nftables loads its ruleset, as on a laptop: the first run completes.
      netAdmin: true,
    });
    const ssh = (destination: string) => [
      "--ssh",
      destination,
      "--ssh-identity",
      laptop.identity,
      "--known-hosts",
      laptop.knownHosts,
      "--profile",
      profileFile,
    ];

    const first = await laptop.koffer(["provision", ...ssh(laptop.destination), "--yes"]);
    console.log(
      `first provision --ssh: exit ${first.exitCode}\n${first.stderr.slice(-1500)}\n${first.stdout
        .split("\n")
        .filter((l) => /^(Run| {2}failed|Verify)/.test(l))
        .join("\n")}`,
    );
    expect(first.stdout).toMatch(/^Run \S+: [1-9]\d* applied, \d+ already right, 0 failed/m);

    // sshd now listens on the tunnel address only, and the firewall lets SSH in only through
    // the IPsec tunnel, which the rig stands in for.
    await laptop.admitController();
    const plan = await laptop.koffer([
      "plan",
      ...ssh(laptop.tunnelDestination),
      "--format",
      "json",
    ]);
    expect(plan.exitCode, plan.stderr).toBe(0);
    expect(planChanges(plan.stdout)).toEqual([]);

    const before = await snapshot(join(laptop.root, "etc"));
    const second = await laptop.koffer(["provision", ...ssh(laptop.tunnelDestination), "--yes"]);
    console.log(
      `second provision --ssh: exit ${second.exitCode}\n${second.stdout
        .split("\n")
        .filter((l) => /^(Plan|Run| {2}failed|Verify)/.test(l))
        .join("\n")}`,
    );
    expect(second.stdout).toMatch(/^Plan: nothing to change\.$/m);
    expect(second.stdout).not.toMatch(/[1-9]\d* applied/);
    expect(differences(before, await snapshot(join(laptop.root, "etc")))).toEqual([]);
  }, 1_200_000);
});
