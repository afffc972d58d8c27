/**
 * Package changes. On the local machine: plain `apt-get`. On a root target (an image or
 * a debootstrapped tree) the image's own apt-get and dpkg run — and they are the image's
 * code, so they run in a container (src/targets/sandbox.ts: systemd-nspawn with its own
 * PID, mount and user namespaces, no host /proc, /sys or /dev, an allowlisted environment),
 * never as a chroot on the host:
 *
 * - a `policy-rc.d` that exits 101 for the duration, so maintainer scripts start no daemon;
 * - the host's resolv.conf over the tree's inside the container only, so apt reaches the
 *   mirror without changing the tree's own file (the host's network is shared);
 * - optionally a host directory of cached .debs bound over /var/cache/apt/archives.
 *
 * Nothing is mounted on the host, so a provision killed with -9 leaves no mount behind;
 * nspawn dies with koffer (parent-death signal) and takes the container with it. What can
 * be left is koffer's own policy-rc.d and an interrupted dpkg: {@link cleanupChroot} (run
 * only under the provision lock) removes the first, the next apt call finishes the second
 * with `dpkg --configure -a` — in the container.
 */
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { IncompleteError } from "../../errors.js";
import { acquirePidLock } from "../../targets/pid-lock.js";
import { runInSandbox, type SandboxBind } from "../../targets/sandbox.js";
import type { Target } from "../../targets/types.js";
import type { ChangeHandler, ChangeOutcome } from "../apply.js";
import type { Change } from "../types.js";
import type { HandlerState } from "./context.js";

const policyRcD = "/usr/sbin/policy-rc.d";
/** Marks the policy-rc.d as koffer's, so only ours is ever removed. */
const policyMarker = "# koffer: provision in progress";
const policyText = `#!/bin/sh\n${policyMarker}: start no services inside the image\nexit 101\n`;

/** The whole environment apt and dpkg get: nothing of koffer's own (no KOFFER_* secrets). */
export const aptEnv: Readonly<Record<string, string>> = {
  DEBIAN_FRONTEND: "noninteractive",
  DEBCONF_NONINTERACTIVE_SEEN: "true",
  APT_LISTCHANGES_FRONTEND: "none",
  PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
  LC_ALL: "C",
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

/** Mount points at or below `root` on the host, deepest first (tests assert there are none). */
export async function mountsBelow(root: string): Promise<string[]> {
  const text = await readFile("/proc/self/mountinfo", "utf8");
  const prefix = root.endsWith("/") ? root : `${root}/`;
  const points = text
    .split("\n")
    .map((line) => unescapeMount(line.split(" ")[4] ?? ""))
    .filter((p) => p === root || p.startsWith(prefix));
  return [...new Set(points)].sort((a, b) => b.length - a.length || (a < b ? 1 : -1));
}

export interface CleanupReport {
  removedPolicy: boolean;
}

/**
 * Undo what a killed provision left in a root tree: koffer's policy-rc.d (recognised by its
 * marker). Call it only while holding the provision lock — a running provision's policy-rc.d
 * is not stale. It unmounts nothing and kills nothing: koffer mounts nothing on the host, and
 * the container of a killed run died with it.
 */
export async function cleanupChroot(target: Target): Promise<CleanupReport> {
  const report: CleanupReport = { removedPolicy: false };
  if (target.kind !== "root") return report;
  const stat = await target.lstat?.(policyRcD);
  if (stat?.type !== "file") return report;
  const policy = await target.readText(policyRcD);
  if (policy?.includes(policyMarker)) {
    await target.remove(policyRcD);
    report.removedPolicy = true;
  }
  return report;
}

/** True when a killed run left something {@link cleanupChroot} removes. */
export async function needsCleanup(target: Target): Promise<boolean> {
  if (target.kind !== "root") return false;
  const stat = await target.lstat?.(policyRcD);
  return stat?.type === "file" && ((await target.readText(policyRcD)) ?? "").includes(policyMarker);
}

/**
 * Run `fn` with the tree prepared for apt (koffer's policy-rc.d in place); `fn` gets the
 * host path of the root. The policy-rc.d is removed again in `finally`.
 */
export async function withImageSandbox<T>(
  target: Target,
  fn: (root: string) => Promise<T>,
): Promise<T> {
  const root = target.hostPath("/");
  if (target.kind !== "root" || root === null)
    throw new Error("withImageSandbox needs a root target");
  await cleanupChroot(target);
  const hadPolicy = (await target.lstat?.(policyRcD)) !== null;
  try {
    if (!hadPolicy) {
      await target.mkdirp("/usr/sbin", 0o755);
      await target.writeFileAtomic(policyRcD, policyText, { mode: 0o755, uid: 0, gid: 0 });
    }
    return await fn(root);
  } finally {
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
  const archives = state.options.aptArchives;
  const binds: SandboxBind[] =
    archives === undefined ? [] : [{ host: archives, inside: "/var/cache/apt/archives" }];
  const runIn = async (command: string, commandArgs: string[]) => {
    const root = target.kind === "root" ? target.hostPath("/") : null;
    const result =
      root !== null
        ? await runInSandbox(root, command, commandArgs, {
            env: { ...aptEnv },
            binds,
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
  const release =
    archives === undefined
      ? null
      : await mkdir(`${archives}/partial`, { recursive: true, mode: 0o755 }).then(() =>
          lockArchives(archives),
        );
  try {
    await withImageSandbox(target, work);
  } finally {
    await release?.();
  }
}

/**
 * Serialise the use of a shared .deb cache: apt locks archives/lock inside it and gives up at
 * once when another chroot's apt holds it. A lock left by a dead process is taken over.
 */
async function lockArchives(dir: string): Promise<() => Promise<void>> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  return acquirePidLock(join(dir, ".koffer-lock"), 30 * 60_000, {
    pollMs: 500,
    onTimeout: (holder) =>
      new IncompleteError("E_APT", `${dir} is still in use by process ${holder}`),
  });
}

/**
 * Install `packages` on the target (apt in the image sandbox for a root target) unless dpkg
 * has them all; proves afterwards that it does. Other handlers use it for their packages.
 */
export async function ensurePackages(
  target: Target,
  state: HandlerState,
  packages: string[],
): Promise<ChangeOutcome> {
  const installed = await installedPackages(target, packages);
  const missing = packages.filter((p) => !installed.has(p));
  if (missing.length === 0 && !(await dpkgInterrupted(target))) return "unchanged";
  await apt(target, state, ["install", ...packages], `apt-get install ${missing.join(" ")}`);
  const after = await installedPackages(target, packages);
  const still = packages.filter((p) => !after.has(p));
  if (still.length > 0)
    throw new IncompleteError(
      "E_APT",
      `apt-get reported success but ${still.join(", ")} is not installed`,
    );
  return "applied";
}

/** The handler for `install-packages` and `purge-packages`. */
export function packagesHandler(state: HandlerState): ChangeHandler {
  return async (change: Change, target: Target): Promise<ChangeOutcome> => {
    if (change.kind !== "install-packages" && change.kind !== "purge-packages")
      throw new Error("unreachable");
    if (change.kind === "install-packages") return ensurePackages(target, state, change.packages);
    const installed = await installedPackages(target, change.packages);
    const present = change.packages.filter((p) => installed.has(p));
    if (present.length === 0) return "unchanged";
    await apt(target, state, ["purge", ...present], `apt-get purge ${present.join(" ")}`);
    return "applied";
  };
}
