/**
 * Leaves nothing behind: every machine, network namespace and mount the rig creates is
 * (1) registered in this process, so a test's own cleanup, a normal exit, SIGINT, SIGTERM
 * or SIGHUP removes it, and (2) recorded in a state file under /run/koffer-rig/ with the
 * owning process (pid + start time), so the next run's sweeper removes what a run that
 * was killed outright (SIGKILL, a crashed vitest fork) left over.
 *
 * The sweeper only touches records whose owner is dead: other test files (vitest forks)
 * and other engineers' runs on the same machine create kof-* things at the same time.
 *
 * Every process is named by pid and start time (field 22 of /proc/PID/stat), so a pid the
 * kernel has since given to another process is never killed. A machine is killed through
 * its init (PID 1 of the container's PID namespace): killing systemd-nspawn alone leaves the
 * init and every daemon under it running, reparented to the host's init; killing the init
 * makes the kernel kill every process of that namespace.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { destroyCgroup } from "./cgroup.js";

/** What a state file records; enough for a sweeper to undo it without this process. */
export type Leftover =
  | {
      kind: "machine";
      name: string;
      /** systemd-nspawn (or, for test/vm, the single process: qemu, swtpm). */
      nspawnPid: number;
      nspawnStart: string;
      /** The container's init (PID 1 inside), once it exists. */
      leaderPid?: number;
      leaderStart?: string;
      /** The machine's own cgroup (cgroup.ts), killed and removed last. */
      cgroup?: string;
      dir?: string;
    }
  | { kind: "netns"; name: string }
  | { kind: "mount"; name: string; path: string; dir?: string };

interface Record {
  ownerPid: number;
  ownerStart: string;
  item: Leftover;
}

export const stateDir = "/run/koffer-rig";

/** Start time of a process (field 22 of /proc/PID/stat), "" when it is gone or a zombie. */
export function processStart(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // comm may contain spaces and parentheses: fields start after the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[0] === "Z" || fields[0] === "X") return "";
    return fields[19] ?? "";
  } catch {
    return "";
  }
}

/** Whether `pid` is still the process that started at `start` (not a zombie, not recycled). */
export function isAlive(pid: number | undefined, start: string | undefined): boolean {
  return (
    pid !== undefined &&
    pid > 0 &&
    start !== undefined &&
    start !== "" &&
    processStart(pid) === start
  );
}

/**
 * The variable every rig machine's init has in its environment (nspawn --setenv): it finds
 * the init of a machine whose nspawn died before its record named the init.
 */
export function machineMarker(name: string): string {
  return `${markerVariable}=${name}`;
}
export const markerVariable = "KOFFER_RIG_MACHINE";

function pids(): number[] {
  return readdirSync("/proc")
    .filter((e) => /^\d+$/.test(e))
    .map(Number);
}

function read(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** Whether `pid` is PID 1 of a PID namespace below the host's (a container's init). */
function isNamespaceInit(status: string): boolean {
  const nspid = /^NSpid:\s+(.+)$/m.exec(status)?.[1]?.trim().split(/\s+/);
  return nspid !== undefined && nspid.length >= 2 && nspid.at(-1) === "1";
}

/** The child of `parentPid` that is PID 1 of a new PID namespace: a container's init. */
export function findLeader(parentPid: number): number | null {
  for (const pid of pids()) {
    const status = read(`/proc/${pid}/status`);
    if (Number(/^PPid:\s+(\d+)$/m.exec(status)?.[1]) === parentPid && isNamespaceInit(status))
      return pid;
  }
  return null;
}

/** Container inits (wherever they were reparented) whose environment carries `marker`. */
function leadersByMarker(marker: string): number[] {
  return pids().filter(
    (pid) =>
      isNamespaceInit(read(`/proc/${pid}/status`)) &&
      read(`/proc/${pid}/environ`).split("\0").includes(marker),
  );
}

function pidNamespace(pid: number): string {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return "";
  }
}

/** Live (non-zombie) processes of a PID namespace, by host pid. */
export function namespaceMembers(ns: string): number[] {
  return pids().filter((pid) => pidNamespace(pid) === ns && processStart(pid) !== "");
}

const pause = new Int32Array(new SharedArrayBuffer(4));
/** Synchronous sleep: undo also runs from the exit hook, where no timer fires. */
function sleepSync(ms: number): void {
  Atomics.wait(pause, 0, 0, ms);
}

function killAndWait(pid: number, start: string, gone: () => boolean = () => false): void {
  if (!isAlive(pid, start)) return;
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    return;
  }
  for (let i = 0; i < 100 && !gone() && isAlive(pid, start); i++) sleepSync(100);
}

/**
 * Kill a container: its init (the kernel then kills every process of its PID namespace,
 * whoever their parent is now), then nspawn. Waits until the namespace is empty.
 */
function killMachine(item: Extract<Leftover, { kind: "machine" }>): void {
  const leaders = new Set<number>();
  if (item.leaderPid !== undefined && isAlive(item.leaderPid, item.leaderStart))
    leaders.add(item.leaderPid);
  if (isAlive(item.nspawnPid, item.nspawnStart)) {
    const child = findLeader(item.nspawnPid);
    if (child !== null) leaders.add(child);
  }
  for (const pid of leadersByMarker(machineMarker(item.name))) leaders.add(pid);
  for (const leader of leaders) {
    const ns = pidNamespace(leader);
    const start = processStart(leader);
    if (ns === "" || start === "") continue;
    killAndWait(leader, start, () => namespaceMembers(ns).length === 0);
  }
  killAndWait(item.nspawnPid, item.nspawnStart);
  if (item.cgroup !== undefined) destroyCgroup(item.cgroup);
}

const self = { pid: process.pid, start: processStart(process.pid) };
const live = new Map<string, () => void>();
let hooked = false;

function recordPath(kind: string, name: string): string {
  return join(stateDir, `${kind}-${name}.json`);
}

/**
 * Register something the rig created; `undo` must be synchronous (it also runs from the
 * exit hook, where no promise settles). Returns the function that forgets it again.
 * Tracking the same kind and name again replaces the record (e.g. once a machine's init
 * is known).
 */
export function track(item: Leftover, undo: () => void): () => void {
  installHooks();
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const path = recordPath(item.kind, item.name);
  const record: Record = { ownerPid: self.pid, ownerStart: self.start, item };
  writeFileSync(path, JSON.stringify(record), { mode: 0o600 });
  live.set(path, undo);
  return () => {
    live.delete(path);
    rmSync(path, { force: true });
  };
}

/** Run every registered undo now (exit and signal path). */
export function undoAll(): void {
  for (const [path, undo] of [...live].reverse()) {
    try {
      undo();
    } catch {
      // Best effort on the way out; the sweeper of the next run retries.
      continue;
    }
    live.delete(path);
    rmSync(path, { force: true });
  }
}

function installHooks(): void {
  if (hooked) return;
  hooked = true;
  process.on("exit", undoAll);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      undoAll();
      // Die of the same signal, as the default handler would have.
      process.kill(process.pid, signal);
    });
  }
}

function quiet(cmd: string, args: string[]): void {
  try {
    execFileSync(cmd, args, { stdio: "ignore", timeout: 60_000 });
  } catch {
    // Already gone, or not ours to remove any more.
  }
}

/** Synchronous undo of a leftover; used by the sweeper and by the exit hook. */
export function undoLeftover(item: Leftover): void {
  switch (item.kind) {
    case "machine":
      killMachine(item);
      if (item.dir) rmSync(item.dir, { recursive: true, force: true });
      break;
    case "netns":
      quiet("ip", ["netns", "delete", item.name]);
      break;
    case "mount":
      quiet("umount", ["--lazy", item.path]);
      if (item.dir) rmSync(item.dir, { recursive: true, force: true });
      break;
  }
}

/**
 * Remove what earlier, killed runs left: every recorded item whose owning process is gone.
 * Cheap (a directory listing) and run before the rig creates anything.
 */
export function sweepStale(): string[] {
  let names: string[];
  try {
    names = readdirSync(stateDir);
  } catch {
    return [];
  }
  const swept: string[] = [];
  // Machines first: their roots are recorded mounts, their networks recorded namespaces.
  const order = (file: string) =>
    file.startsWith("machine-") ? 0 : file.startsWith("mount-") ? 1 : 2;
  for (const file of names.sort((a, b) => order(a) - order(b))) {
    const path = join(stateDir, file);
    let record: Record;
    try {
      record = JSON.parse(readFileSync(path, "utf8")) as Record;
    } catch {
      continue;
    }
    if (processStart(record.ownerPid) === record.ownerStart && record.ownerStart !== "") continue;
    undoLeftover(record.item);
    rmSync(path, { force: true });
    swept.push(`${record.item.kind} ${record.item.name}`);
  }
  return swept;
}
