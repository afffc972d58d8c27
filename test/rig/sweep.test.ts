/**
 * The sweeper after a run killed outright (issue 7/12): a machine is a whole PID namespace
 * (the guest's systemd and its daemons), not just systemd-nspawn. A run whose test process
 * and nspawn are both killed with -9 leaves the guest's init running, reparented to the
 * host's; the next sweep must kill it with everything under it and remove the run's network
 * namespace, mounts and directories. And a pid the kernel has given to another process
 * since (same number, other start time) is never killed.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  findLeader,
  namespaceMembers,
  processStart,
  stateDir,
  sweepStale,
  type Leftover,
} from "./cleanup.js";
import type { KilledBuild, KilledRun } from "./killed-run.js";
import { laptopRootSkipReason } from "./laptop-root.js";

const skip = laptopRootSkipReason();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Wait until `pid` is gone (it is not our child, so no exit event tells us). */
async function gone(pid: number, start: string, ms = 10_000): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await sleep(100))
    if (processStart(pid) !== start) return true;
  return false;
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once("exit", () => resolve()));
}

/** Write a state record as a run whose owner has died would have left it. */
function writeRecord(item: Leftover): string {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const path = join(stateDir, `${item.kind}-${item.name}.json`);
  writeFileSync(path, JSON.stringify({ ownerPid: 2 ** 22 + 1, ownerStart: "1", item }));
  return path;
}

describe.skipIf(skip !== null)("rig: the sweeper after a run killed with -9", () => {
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const child of children) {
      child.kill("SIGKILL");
      await exited(child);
    }
    // Whatever a failed assertion left: its owner (the child) is dead now.
    sweepStale();
  });

  it("kills the machine's whole PID namespace, deletes its netns, unmounts its root", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kof-sweeptest-"));
    try {
      const out = join(dir, "run.json");
      const child = spawn(
        process.execPath,
        [new URL("./killed-run.mjs", import.meta.url).pathname, out],
        { stdio: ["ignore", "ignore", "pipe"] },
      );
      children.push(child);
      let stderr = "";
      child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
      while (!existsSync(out)) {
        if (child.exitCode !== null) throw new Error(`the run exited early: ${stderr}`);
        await sleep(250);
      }
      const run = JSON.parse(readFileSync(out, "utf8")) as KilledRun;
      const recordPath = join(stateDir, `machine-${run.machine}.json`);
      const { item } = JSON.parse(readFileSync(recordPath, "utf8")) as {
        item: Extract<Leftover, { kind: "machine" }>;
      };
      // The record names the guest's init with its start time, not only nspawn.
      expect(item.leaderPid).toBe(run.leaderPid);
      expect(item.leaderStart).toBe(processStart(run.leaderPid));
      const ns = readlinkSync(`/proc/${run.leaderPid}/ns/pid`);
      const before = namespaceMembers(ns).map((pid) => ({ pid, start: processStart(pid) }));
      expect(before.length).toBeGreaterThan(2); // systemd, journald, logind …

      // The run dies as under an OOM kill or a crashed runner: no hook, no cleanup.
      const childStart = processStart(child.pid!);
      process.kill(item.nspawnPid, "SIGKILL");
      child.kill("SIGKILL");
      await exited(child);
      expect(await gone(item.nspawnPid, item.nspawnStart)).toBe(true);
      expect(processStart(child.pid!)).not.toBe(childStart);
      // What the sweeper is for: the guest outlived both.
      expect(processStart(run.leaderPid)).toBe(item.leaderStart);
      expect(namespaceMembers(ns).length).toBeGreaterThan(0);

      const swept = sweepStale();

      const mountName = run.root.split("/").at(-2) as string;
      expect(swept).toEqual(
        expect.arrayContaining([
          `machine ${run.machine}`,
          `netns ${run.netns}`,
          `mount ${mountName}`,
        ]),
      );
      expect(namespaceMembers(ns)).toEqual([]);
      expect(before.filter((p) => processStart(p.pid) === p.start)).toEqual([]);
      expect(execFileSync("ip", ["netns", "list"], { encoding: "utf8" })).not.toContain(run.netns);
      const mounts = readFileSync("/proc/self/mountinfo", "utf8");
      expect(mounts).not.toContain(run.root);
      expect(existsSync(join(run.root, ".."))).toBe(false);
      expect(item.dir !== undefined && existsSync(item.dir)).toBe(false);
      for (const record of [
        recordPath,
        join(stateDir, `netns-${run.netns}.json`),
        join(stateDir, `mount-${mountName}.json`),
      ])
        expect(existsSync(record)).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 300_000);

  it("kills a tree build (nspawn --as-pid2) whose run and nspawn were killed with -9", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kof-sweeptest-"));
    let archives: string | undefined;
    try {
      const out = join(dir, "build.json");
      const child = spawn(
        process.execPath,
        [new URL("./killed-run.mjs", import.meta.url).pathname, out, "build"],
        { stdio: ["ignore", "ignore", "pipe"] },
      );
      children.push(child);
      let stderr = "";
      child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
      // The build's record, once nspawn runs its stub init and the script under it.
      let item: Extract<Leftover, { kind: "machine" }> | undefined;
      let ns = "";
      for (const deadline = Date.now() + 120_000; ns === "" && Date.now() < deadline;) {
        if (child.exitCode !== null) throw new Error(`the build exited early: ${stderr}`);
        const file = readdirSync(stateDir).find((f) =>
          f.startsWith(`machine-kof-build-${child.pid}-`),
        );
        if (file !== undefined) {
          item = (JSON.parse(readFileSync(join(stateDir, file), "utf8")) as { item: typeof item })
            .item;
          const leader = findLeader(item!.nspawnPid);
          if (leader !== null) {
            const candidate = readlinkSync(`/proc/${leader}/ns/pid`);
            if (namespaceMembers(candidate).length >= 2) ns = candidate;
          }
        }
        if (ns === "") await sleep(250);
      }
      expect(ns).not.toBe("");
      archives = (JSON.parse(readFileSync(out, "utf8")) as KilledBuild).archives;
      const build = item as Extract<Leftover, { kind: "machine" }>;
      process.kill(build.nspawnPid, "SIGKILL");
      child.kill("SIGKILL");
      await exited(child);
      expect(await gone(build.nspawnPid, build.nspawnStart)).toBe(true);
      // Without the marker the stub init and the script would be nobody's now.
      expect(namespaceMembers(ns).length).toBeGreaterThan(0);

      expect(sweepStale()).toContain(`machine ${build.name}`);
      expect(namespaceMembers(ns)).toEqual([]);
    } finally {
      if (archives !== undefined) await rm(archives, { recursive: true, force: true });
      await rm(dir, { recursive: true, force: true });
    }
  }, 300_000);

  it("never kills a recorded pid that now belongs to another process (other start time)", async () => {
    // A live process of this test at the recorded pids: the init of a PID namespace (as a
    // guest's systemd is) under its parent (as under nspawn), both started after the record.
    const parent = spawn("unshare", ["--pid", "--fork", "sleep", "600"], { stdio: "ignore" });
    children.push(parent);
    let inner: number | null = null;
    for (let i = 0; i < 100 && inner === null; i++) {
      inner = findLeader(parent.pid!);
      if (inner === null) await sleep(50);
    }
    expect(inner).not.toBeNull();
    const leader = inner as number;
    const starts = [processStart(parent.pid!), processStart(leader)];
    const name = `kof-recycled-${process.pid}`;
    const record = writeRecord({
      kind: "machine",
      name,
      nspawnPid: parent.pid!,
      nspawnStart: String(Number(starts[0]) - 1000),
      leaderPid: leader,
      leaderStart: String(Number(starts[1]) - 1000),
    });
    try {
      expect(sweepStale()).toContain(`machine ${name}`);
      expect([processStart(parent.pid!), processStart(leader)]).toEqual(starts);
      expect(existsSync(record)).toBe(false);
    } finally {
      rmSync(record, { force: true });
      // The namespace's init outlives unshare (it is reparented): it goes by itself.
      if (processStart(leader) === starts[1]) process.kill(leader, "SIGKILL");
    }
  });
});
