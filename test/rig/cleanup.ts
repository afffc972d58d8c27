/**
 * Leaves nothing behind: every machine, network namespace and mount the rig creates is
 * (1) registered in this process, so a test's own cleanup, a normal exit, SIGINT, SIGTERM
 * or SIGHUP removes it, and (2) recorded in a state file under /run/koffer-rig/ with the
 * owning process (pid + start time), so the next run's sweeper removes what a run that
 * was killed outright (SIGKILL, a crashed vitest fork) left over.
 *
 * The sweeper only touches records whose owner is dead: other test files (vitest forks)
 * and other engineers' runs on the same machine create kof-* things at the same time.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** What a state file records; enough for a sweeper to undo it without this process. */
export type Leftover =
  | { kind: "machine"; name: string; nspawnPid: number; nspawnStart: string; dir?: string }
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

const self = { pid: process.pid, start: processStart(process.pid) };
const live = new Map<string, () => void>();
let hooked = false;

function recordPath(kind: string, name: string): string {
  return join(stateDir, `${kind}-${name}.json`);
}

/**
 * Register something the rig created; `undo` must be synchronous (it also runs from the
 * exit hook, where no promise settles). Returns the function that forgets it again.
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
      if (processStart(item.nspawnPid) === item.nspawnStart) {
        // SIGKILL of systemd-nspawn tears down the container's PID namespace with it.
        quiet("kill", ["-KILL", String(item.nspawnPid)]);
        for (let i = 0; i < 100 && processStart(item.nspawnPid) === item.nspawnStart; i++)
          execFileSync("sleep", ["0.1"]);
      }
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
  for (const file of names) {
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
