/**
 * Package changes. On the local machine: plain `apt-get`. On a root target (an image or
 * a debootstrapped tree): `chroot ROOT apt-get`, with everything a chroot needs for the
 * duration of one apt call and nothing afterwards:
 *
 * - /proc, /sys, /dev and /dev/pts mounted, and ALWAYS unmounted again (finally), so a
 *   failed install never leaves the host's /dev reachable inside an image;
 * - a `policy-rc.d` that exits 101, so maintainer scripts start no daemon on the host;
 * - the host's resolv.conf bind-mounted over the tree's, so apt reaches the mirror
 *   without changing the tree's own file;
 * - optionally a host directory of cached .debs over /var/cache/apt/archives.
 *
 * A provision killed with -9 in the middle of apt leaves mounts, the policy-rc.d and maybe
 * a still-running dpkg behind. {@link cleanupChroot} runs before every chroot use and at
 * the start of each provision: it waits for (then ends) processes still rooted in the tree,
 * unmounts what is mounted below it, removes koffer's policy-rc.d, and lets dpkg finish
 * an interrupted configuration, so the next run converges.
 */
import { mkdir, open, readFile, readdir, readlink, unlink } from "node:fs/promises";
import { join } from "node:path";
import { IncompleteError } from "../../errors.js";
import type { Target } from "../../targets/types.js";
import type { ChangeHandler, ChangeOutcome } from "../apply.js";
import type { Change } from "../types.js";
import type { HandlerState } from "./context.js";

const policyRcD = "/usr/sbin/policy-rc.d";
/** Marks the policy-rc.d as koffer's, so only ours is ever removed. */
const policyMarker = "# koffer: provision in progress";
const policyText = `#!/bin/sh\n${policyMarker}: start no services inside the image\nexit 101\n`;

const aptEnv = {
  DEBIAN_FRONTEND: "noninteractive",
  DEBCONF_NONINTERACTIVE_SEEN: "true",
  APT_LISTCHANGES_FRONTEND: "none",
  PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
};

const aptOptions = [
  "-y",
  "-q",
  "--no-install-recommends",
  "-o",
  "Dpkg::Options::=--force-confdef",
  "-o",
  "Dpkg::Options::=--force-confold",
  // A dpkg left running by a killed provision holds the lock for a while: wait for it.
  "-o",
  "DPkg::Lock::Timeout=300",
];

/** Decode the octal escapes (`\040`) of /proc/self/mountinfo fields. */
function unescapeMount(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Mount points at or below `root` on the host, deepest first (the order to unmount them). */
export async function mountsBelow(root: string): Promise<string[]> {
  const text = await readFile("/proc/self/mountinfo", "utf8");
  const prefix = root.endsWith("/") ? root : `${root}/`;
  const points = text
    .split("\n")
    .map((line) => unescapeMount(line.split(" ")[4] ?? ""))
    .filter((p) => p === root || p.startsWith(prefix));
  return [...new Set(points)].sort((a, b) => b.length - a.length || (a < b ? 1 : -1));
}

/** Processes whose root directory is `root` (an apt or dpkg outliving a killed provision). */
async function processesRootedIn(root: string): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const link = await readlink(`/proc/${name}/root`).catch(() => null);
    if (link === root) pids.push(Number(name));
  }
  return pids;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface CleanupReport {
  unmounted: string[];
  stoppedProcesses: number[];
  removedPolicy: boolean;
}

/**
 * Undo what a killed provision left in a root tree: processes still running inside it
 * (given `graceMs` to finish on their own), mounts below it, koffer's policy-rc.d.
 */
export async function cleanupChroot(
  target: Target,
  options: { graceMs?: number } = {},
): Promise<CleanupReport> {
  const root = target.hostPath("/");
  const report: CleanupReport = { unmounted: [], stoppedProcesses: [], removedPolicy: false };
  if (target.kind !== "root" || root === null) return report;
  let pids = await processesRootedIn(root);
  const deadline = Date.now() + (options.graceMs ?? 120_000);
  while (pids.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    pids = pids.filter(alive);
  }
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
      report.stoppedProcesses.push(pid);
    } catch {
      // gone meanwhile
    }
  }
  for (const point of await mountsBelow(root)) {
    const result = await target.exec("umount", [point]);
    // Busy (a process we could not see): detach it so the tree is free again.
    if (result.exitCode !== 0) await target.exec("umount", ["-l", point]);
    report.unmounted.push(point);
  }
  const policy = await target.readText(policyRcD);
  if (policy?.includes(policyMarker)) {
    await target.remove(policyRcD);
    report.removedPolicy = true;
  }
  return report;
}

async function mustExec(target: Target, command: string, args: string[]): Promise<void> {
  const result = await target.exec(command, args);
  if (result.exitCode !== 0)
    throw new IncompleteError(
      "E_CHROOT",
      `${command} ${args.join(" ")} failed: ${result.stderr.trim()}`,
    );
}

/**
 * Run `fn` with the tree prepared as a chroot; everything prepared is undone in `finally`.
 */
export async function withChroot<T>(
  target: Target,
  state: HandlerState,
  fn: (root: string) => Promise<T>,
): Promise<T> {
  const root = target.hostPath("/");
  if (target.kind !== "root" || root === null) throw new Error("withChroot needs a root target");
  await cleanupChroot(target);
  const mounted: string[] = [];
  const mount = async (args: string[], point: string, file = false) => {
    if (!file) await target.mkdirp(point, 0o755);
    await mustExec(target, "mount", [...args, `${root}${point}`]);
    mounted.push(`${root}${point}`);
  };
  const hadPolicy = (await target.stat(policyRcD)) !== null;
  try {
    await mount(["-t", "proc", "proc"], "/proc");
    await mount(["-t", "sysfs", "sysfs"], "/sys");
    await mount(["--bind", "/dev"], "/dev");
    await mount(["--bind", "/dev/pts"], "/dev/pts");
    const resolv = await target.lstat?.("/etc/resolv.conf");
    if (resolv?.type === "file")
      await mount(["--bind", "-o", "ro", "/etc/resolv.conf"], "/etc/resolv.conf", true);
    const archives = state.options.aptArchives;
    if (archives !== undefined) {
      await mkdir(`${archives}/partial`, { recursive: true, mode: 0o755 });
      await mount(["--bind", archives], "/var/cache/apt/archives");
    }
    if (!hadPolicy) {
      await target.mkdirp("/usr/sbin", 0o755);
      await target.writeFileAtomic(policyRcD, policyText, { mode: 0o755, uid: 0, gid: 0 });
    }
    return await fn(root);
  } finally {
    for (const point of mounted.reverse()) {
      const result = await target.exec("umount", [point]);
      if (result.exitCode !== 0) await target.exec("umount", ["-l", point]);
    }
    if (!hadPolicy) await target.remove(policyRcD).catch(() => undefined);
  }
}

/** Which of `packages` dpkg has installed (`ii`) on the target. */
export async function installedPackages(target: Target, packages: string[]): Promise<Set<string>> {
  const admindir = target.hostPath("/var/lib/dpkg");
  const args = [
    ...(target.kind === "root" && admindir !== null ? [`--admindir=${admindir}`] : []),
    "-W",
    "-f=${Package}\\t${db:Status-Abbrev}\\n",
    ...packages,
  ];
  const result = await target.exec("dpkg-query", args);
  const installed = new Set<string>();
  for (const line of result.stdout.split("\n")) {
    const [name, status] = line.split("\t");
    if (name && status?.startsWith("ii")) installed.add(name.replace(/:.*$/, ""));
  }
  return installed;
}

/** dpkg was interrupted (a killed run): its journal has entries or packages are half-done. */
async function dpkgInterrupted(target: Target): Promise<boolean> {
  const updates = (await target.readDir("/var/lib/dpkg/updates")) ?? [];
  if (updates.some((n) => /^\d+$/.test(n))) return true;
  const status = (await target.readText("/var/lib/dpkg/status")) ?? "";
  return /^Status: \S+ \S+ (half-installed|half-configured|unpacked|triggers-awaited|triggers-pending)$/m.test(
    status,
  );
}

async function apt(
  target: Target,
  state: HandlerState,
  args: string[],
  what: string,
): Promise<void> {
  const log = state.options.log;
  const runIn = async (command: string, commandArgs: string[]) => {
    const root = target.kind === "root" ? target.hostPath("/") : null;
    const result =
      root !== null
        ? await target.exec("chroot", [root, command, ...commandArgs], {
            env: aptEnv,
            timeoutMs: 30 * 60_000,
          })
        : await target.exec(command, commandArgs, { env: aptEnv, timeoutMs: 30 * 60_000 });
    if (result.exitCode !== 0) {
      const tail = (result.stderr.trim() || result.stdout.trim()).split("\n").slice(-6).join("\n");
      throw new IncompleteError(
        "E_APT",
        `${command} ${commandArgs.filter((a) => !a.startsWith("-")).join(" ")} failed (exit ${result.exitCode}): ${tail}`,
      );
    }
  };
  const work = async () => {
    if (await dpkgInterrupted(target)) {
      log?.("dpkg was interrupted by an earlier run: finishing its configuration");
      await runIn("dpkg", ["--configure", "-a", "--force-confdef", "--force-confold"]);
    }
    if (!state.aptUpdated) {
      log?.("apt-get update");
      await runIn("apt-get", ["update", "-q", "-o", "DPkg::Lock::Timeout=300"]);
      state.aptUpdated = true;
    }
    log?.(what);
    await runIn("apt-get", [...args.slice(0, 1), ...aptOptions, ...args.slice(1)]);
  };
  if (target.kind !== "root") return work();
  const archives = state.options.aptArchives;
  const release = archives === undefined ? null : await lockArchives(archives);
  try {
    await withChroot(target, state, work);
  } finally {
    await release?.();
  }
}

/**
 * Serialise the use of a shared .deb cache: apt locks archives/lock inside it and gives up at
 * once when another chroot's apt holds it. A lock left by a dead process is taken over.
 */
async function lockArchives(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, ".koffer-lock");
  const deadline = Date.now() + 30 * 60_000;
  await mkdir(dir, { recursive: true, mode: 0o755 });
  for (;;) {
    try {
      const handle = await open(path, "wx", 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      return async () => {
        await unlink(path).catch(() => undefined);
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = Number.parseInt(await readFile(path, "utf8").catch(() => ""), 10);
    if (!Number.isInteger(holder) || holder <= 0 || !alive(holder)) {
      await unlink(path).catch(() => undefined);
      continue;
    }
    if (Date.now() > deadline)
      throw new IncompleteError("E_APT", `${dir} is still in use by process ${holder}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** The handler for `install-packages` and `purge-packages`. */
export function packagesHandler(state: HandlerState): ChangeHandler {
  return async (change: Change, target: Target): Promise<ChangeOutcome> => {
    if (change.kind !== "install-packages" && change.kind !== "purge-packages")
      throw new Error("unreachable");
    const installed = await installedPackages(target, change.packages);
    if (change.kind === "install-packages") {
      const missing = change.packages.filter((p) => !installed.has(p));
      if (missing.length === 0 && !(await dpkgInterrupted(target))) return "unchanged";
      await apt(
        target,
        state,
        ["install", ...change.packages],
        `apt-get install ${missing.join(" ")}`,
      );
      const after = await installedPackages(target, change.packages);
      const still = change.packages.filter((p) => !after.has(p));
      if (still.length > 0)
        throw new IncompleteError(
          "E_APT",
          `apt-get reported success but ${still.join(", ")} is not installed`,
        );
      return "applied";
    }
    const present = change.packages.filter((p) => installed.has(p));
    if (present.length === 0) return "unchanged";
    await apt(target, state, ["purge", ...present], `apt-get purge ${present.join(" ")}`);
    return "applied";
  };
}
