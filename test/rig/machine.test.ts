/**
 * The rig itself: a plain Debian 12 root boots with systemd as PID 1 under systemd-nspawn,
 * commands run inside it, it joins a network namespace of the test, and everything it
 * created is gone after stop() — and after a run that was killed outright (the sweeper).
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { debianRoot } from "../helpers/debian-root.js";
import { findLeader, processStart, stateDir, sweepStale } from "./cleanup.js";
import { copyRoot, laptopRootSkipReason } from "./laptop-root.js";
import { bootMachine, type BootedMachine } from "./machine.js";
import { createNetns, deleteNetns, linkNetns } from "./netns.js";

const skip = laptopRootSkipReason();

/** Node one-liner: connect, print the outcome ("connected" or the error code), 3 s at most. */
function connectProbe(host: string, port: number): string {
  return `const s = require("net").connect(${port}, "${host}");
    s.setTimeout(3000, () => { console.log("ETIMEDOUT"); process.exit(0); });
    s.on("connect", () => { console.log("connected"); process.exit(0); });
    s.on("error", (e) => { console.log(e.code); process.exit(0); });`;
}

describe.skipIf(skip !== null)("rig: a plain Debian root boots under systemd-nspawn", () => {
  let copy: { path: string; cleanup(): Promise<void> };
  let machine: BootedMachine;
  let nsA: string;
  let nsB: string;
  let bootMs = 0;

  beforeAll(async () => {
    copy = await copyRoot(await debianRoot(), "overlay");
    nsA = await createNetns("rigtest");
    nsB = await createNetns("rigtest");
    await linkNetns(nsA, nsB, "10.251.9.1/24", "10.251.9.2/24");
    const started = Date.now();
    machine = await bootMachine({ root: copy.path, name: `kof-plain-${process.pid}`, netns: nsA });
    await machine.waitUntilBooted(60_000);
    bootMs = Date.now() - started;
  }, 180_000);

  afterAll(async () => {
    await machine?.stop();
    for (const ns of [nsA, nsB]) if (ns) await deleteNetns(ns);
    await copy?.cleanup();
  });

  it("runs systemd as PID 1 and boots to running or degraded", async () => {
    expect(readFileSync(`/proc/${machine.leaderPid}/comm`, "utf8").trim()).toBe("systemd");
    const pid1 = await machine.run(["cat", "/proc/1/comm"]);
    expect(pid1).toEqual({ stdout: "systemd\n", stderr: "", exitCode: 0 });
    const state = await machine.run(["systemctl", "is-system-running"]);
    expect(["running\n", "degraded\n"]).toContain(state.stdout);
    expect(bootMs).toBeLessThan(60_000);
  });

  it("runs argv without a shell, with stdin, the caller's env only, and exit codes", async () => {
    const echoed = await machine.run(["cat"], { input: "a; $(b)\n" });
    expect(echoed.stdout).toBe("a; $(b)\n");
    const env = await machine.run(["env"], { env: { FOO: "bar" } });
    expect(env.stdout).toContain("FOO=bar\n");
    expect(env.stdout).not.toMatch(/^npm_|^VITEST/m);
    expect((await machine.run(["false"])).exitCode).toBe(1);
    expect((await machine.run(["sleep", "5"], { timeoutMs: 300 })).exitCode).not.toBe(0);
  });

  it("joins the test's network namespace: the veth end is inside, the peer answers", async () => {
    const dev = await machine.run(["cat", "/proc/net/dev"]);
    expect(dev.stdout).toMatch(/kv[0-9a-f]{6}a:/);
    // The peer namespace reaches the machine's kernel over the veth pair: a TCP connect to
    // a closed port is refused by it (a missing route or peer would time out instead).
    const probe = await execa(
      "ip",
      ["netns", "exec", nsB, process.execPath, "-e", connectProbe("10.251.9.1", 9)],
      { reject: false },
    );
    expect(probe.stdout.trim()).toBe("ECONNREFUSED");
  });

  it("each machine has a cgroup of its own: stopping a unit in one leaves the other's running", async () => {
    const other = await copyRoot(await debianRoot(), "overlay");
    const second = await bootMachine({ root: other.path, name: `kof-plain3-${process.pid}` });
    try {
      await second.waitUntilBooted(60_000);
      const cgroupOf = (pid: number) =>
        /^0::(.*)$/m.exec(readFileSync(`/proc/${pid}/cgroup`, "utf8"))?.[1] ?? "";
      expect(cgroupOf(machine.leaderPid)).toMatch(new RegExp(`^/koffer-rig/${machine.name}/`));
      expect(cgroupOf(second.leaderPid)).toMatch(new RegExp(`^/koffer-rig/${second.name}/`));
      // The same transient service in both; stopping it in the first must not touch the
      // second's (with one shared payload cgroup, systemd killed both).
      for (const m of [machine, second])
        expect(
          (await m.run(["systemd-run", "--unit=kof-cgroup-probe", "sleep", "600"])).exitCode,
        ).toBe(0);
      expect((await machine.run(["systemctl", "stop", "kof-cgroup-probe"])).exitCode).toBe(0);
      const state = await second.run(["systemctl", "is-active", "kof-cgroup-probe"]);
      expect(state.stdout.trim()).toBe("active");
      const main = await second.run([
        "systemctl",
        "show",
        "-p",
        "MainPID",
        "--value",
        "kof-cgroup-probe",
      ]);
      expect(Number(main.stdout.trim())).toBeGreaterThan(0);
      expect((await second.run(["test", "-d", `/proc/${main.stdout.trim()}`])).exitCode).toBe(0);
    } finally {
      const cgroup = `/sys/fs/cgroup/unified/koffer-rig/${second.name}`;
      await second.stop();
      await other.cleanup();
      expect(existsSync(cgroup)).toBe(false);
    }
  }, 180_000);

  it("stop() ends the container and removes its record; stop() again is a no-op", async () => {
    // nspawn locks a tree while it runs: a second machine needs its own view.
    const other = await copyRoot(await debianRoot(), "overlay");
    const second = await bootMachine({ root: other.path, name: `kof-plain2-${process.pid}` });
    const leader = second.leaderPid;
    await second.waitUntilBooted(60_000);
    await second.stop();
    await second.stop();
    expect(existsSync(`/proc/${leader}`)).toBe(false);
    expect(existsSync(`${stateDir}/machine-${second.name}.json`)).toBe(false);
    await other.cleanup();
    expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(other.path);
  }, 120_000);
});

describe.skipIf(skip !== null)("rig: the sweeper removes what a killed run left", () => {
  it("kills the machine and deletes the netns of a dead owner, not those of a live one", async () => {
    const copy = await copyRoot(await debianRoot(), "overlay");
    const tag = process.pid;
    const deadNs = `kof-sweepdead-${tag}`;
    const liveNs = `kof-sweeplive-${tag}`;
    // Stand-ins for a run killed with -9: things it created, recorded under an owner that
    // has exited (no exit hook ran), next to a record whose owner is still alive.
    const dead = spawn("true");
    await new Promise((resolve) => dead.on("exit", resolve));
    const sleeper = spawn("sleep", ["600"]);
    const nspawn = spawn(
      "systemd-nspawn",
      [`--directory=${copy.path}`, "--register=no", "--keep-unit", "--private-network", "--boot"],
      {
        stdio: "ignore",
        env: { PATH: process.env.PATH ?? "", SYSTEMD_NSPAWN_UNIFIED_HIERARCHY: "1" },
      },
    );
    try {
      execFileSync("ip", ["netns", "add", deadNs]);
      execFileSync("ip", ["netns", "add", liveNs]);
      const record = (owner: number, ownerStart: string, item: object) =>
        JSON.stringify({ ownerPid: owner, ownerStart, item });
      const write = (file: string, text: string) => writeFileSync(`${stateDir}/${file}`, text);
      mkdirSync(stateDir, { recursive: true });
      const nspawnStart = processStart(nspawn.pid!);
      write(
        `machine-kof-sweepm-${tag}.json`,
        record(dead.pid!, "1", {
          kind: "machine",
          name: `kof-sweepm-${tag}`,
          nspawnPid: nspawn.pid,
          nspawnStart,
        }),
      );
      write(`netns-${deadNs}.json`, record(dead.pid!, "1", { kind: "netns", name: deadNs }));
      write(
        `netns-${liveNs}.json`,
        record(sleeper.pid!, processStart(sleeper.pid!), { kind: "netns", name: liveNs }),
      );

      // The guest's init under nspawn: the sweep must kill it too, not only nspawn.
      let leader: number | null = null;
      for (let i = 0; i < 200 && leader === null; i++) {
        leader = findLeader(nspawn.pid!);
        if (leader === null) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(leader).not.toBeNull();
      const leaderStart = processStart(leader as number);

      const swept = sweepStale();

      expect(swept).toEqual(
        expect.arrayContaining([`machine kof-sweepm-${tag}`, `netns ${deadNs}`]),
      );
      expect(swept).not.toContain(`netns ${liveNs}`);
      expect(processStart(nspawn.pid!)).toBe("");
      expect(processStart(leader as number)).not.toBe(leaderStart);
      const list = execFileSync("ip", ["netns", "list"], { encoding: "utf8" });
      expect(list).not.toContain(deadNs);
      expect(list).toContain(liveNs);
      expect(existsSync(`${stateDir}/netns-${liveNs}.json`)).toBe(true);
    } finally {
      nspawn.kill("SIGKILL");
      sleeper.kill("SIGKILL");
      execa("ip", ["netns", "delete", liveNs], { reject: false });
      execa("ip", ["netns", "delete", deadNs], { reject: false });
      rmSync(`${stateDir}/netns-${liveNs}.json`, { force: true });
      await new Promise((resolve) => setTimeout(resolve, 500));
      await copy.cleanup();
    }
  }, 60_000);
});
