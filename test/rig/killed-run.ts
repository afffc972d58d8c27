/**
 * A rig run that is about to be killed with -9: a network namespace, an overlay copy of the
 * plain Debian root and a machine booted on them, all tracked (records owned by this
 * process). test/rig/killed-run.mjs runs it in a process of its own; the sweeper test kills
 * that process and the machine's nspawn, then checks that the sweeper removes the rest.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { debianRoot } from "../helpers/debian-root.js";
import { copyRoot, nspawnRun } from "./laptop-root.js";
import { bootMachine } from "./machine.js";
import { createNetns } from "./netns.js";

/** What the run made, written as JSON to `out` once the machine has booted. */
export interface KilledRun {
  pid: number;
  machine: string;
  leaderPid: number;
  netns: string;
  root: string;
}

export async function bootForKill(out: string): Promise<void> {
  const netns = await createNetns("kof-killed");
  const copy = await copyRoot(await debianRoot(), "overlay");
  const machine = await bootMachine({
    root: copy.path,
    name: `kof-killed-${process.pid}`,
    netns,
  });
  await machine.waitUntilBooted(180_000);
  const run: KilledRun = {
    pid: process.pid,
    machine: machine.name,
    leaderPid: machine.leaderPid,
    netns,
    root: copy.path,
  };
  writeFileSync(out, JSON.stringify(run));
}

/** What a killed build (nspawnRun, as apt in a layer runs) made, written before it starts. */
export interface KilledBuild {
  pid: number;
  root: string;
  archives: string;
}

/** A tree build in systemd-nspawn --as-pid2 (nspawnRun) that runs until it is killed. */
export async function buildForKill(out: string): Promise<void> {
  const copy = await copyRoot(await debianRoot(), "overlay");
  const archives = mkdtempSync("/var/tmp/kof-killed-archives-");
  const build: KilledBuild = { pid: process.pid, root: copy.path, archives };
  writeFileSync(out, JSON.stringify(build));
  await nspawnRun(copy.path, "sleep 600", archives, "the sweeper test's build");
}
