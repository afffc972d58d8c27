/**
 * One cgroup per rig machine. On this host (no systemd as PID 1) nspawn runs with
 * `--keep-unit` and puts the container into `<its own cgroup>/payload` of the unified
 * hierarchy. Every nspawn started from the test process's cgroup therefore shared one
 * `/payload`, and the guests' systemds managed the same `system.slice/<unit>` directories:
 * stopping a unit in one guest killed that unit's processes in every other guest (seen: three
 * guests' dbus-daemon in one cgroup; the laptop VM's gateway and the suite's laptops run side
 * by side). Each machine's nspawn now starts inside `koffer-rig/<name>` of its own; its
 * `cgroup.kill` ends everything of the machine at once, and the directories are removed
 * after.
 */
import { existsSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Where the unified (cgroup v2) hierarchy is mounted, null when there is none. */
export function unifiedHierarchy(): string | null {
  let mountinfo: string;
  try {
    mountinfo = readFileSync("/proc/self/mountinfo", "utf8");
  } catch {
    return null;
  }
  for (const line of mountinfo.split("\n")) {
    // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL…] - FSTYPE SOURCE SUPEROPTIONS
    const [left, right] = line.split(" - ");
    if (right?.split(" ")[0] === "cgroup2") return left?.split(" ")[4] ?? null;
  }
  return null;
}

/** The cgroup a machine named `name` runs in (not yet created), null without cgroup v2. */
export function machineCgroup(name: string): string | null {
  if (!/^kof-[A-Za-z0-9._-]+$/.test(name)) throw new Error(`bad machine name ${name}`);
  const root = unifiedHierarchy();
  return root === null ? null : join(root, "koffer-rig", name);
}

/**
 * The argv that starts `command` inside `cgroup` (created here): a shell moves itself into the
 * cgroup and execs the command, so the pid the caller gets is the command's own.
 */
export function inCgroup(cgroup: string, command: string, args: string[]): [string, string[]] {
  return [
    "/bin/sh",
    [
      "-c",
      'mkdir -p "$1" && echo $$ > "$1/cgroup.procs" && shift 2 && exec "$0" "$@"',
      command,
      cgroup,
      "--",
      ...args,
    ],
  ];
}

function subtree(path: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(path, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => join(path, e.name));
  } catch {
    return [];
  }
  return [...entries.flatMap((e) => subtree(e)), ...entries];
}

function populated(path: string): boolean {
  return [path, ...subtree(path)].some((dir) => {
    try {
      return readFileSync(join(dir, "cgroup.procs"), "utf8").trim() !== "";
    } catch {
      return false;
    }
  });
}

/**
 * Kills every process of the cgroup (cgroup.kill: SIGKILL to the whole subtree, also to
 * processes that fork meanwhile), waits up to 10 s for it to empty, then removes its
 * directories bottom-up. Synchronous: it also runs from exit hooks.
 */
export function destroyCgroup(path: string): void {
  if (!existsSync(path)) return;
  if (existsSync(join(path, "cgroup.kill")) && populated(path)) {
    try {
      writeFileSync(join(path, "cgroup.kill"), "1");
    } catch {
      // Already gone.
    }
    const deadline = Date.now() + 10_000;
    while (populated(path) && Date.now() < deadline)
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
  }
  for (const dir of [...subtree(path), path])
    try {
      rmdirSync(dir);
    } catch {
      // Still populated (reported by the caller's own checks) or already removed.
    }
}
