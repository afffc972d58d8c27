/**
 * Running an image's own programs (apt-get, dpkg and the maintainer scripts they start)
 * without giving them the host. An image is untrusted: its `apt-get` may be anything.
 *
 * The program runs in a systemd-nspawn container on the root directory:
 *
 * - own PID, mount, IPC and UTS namespaces, and a user namespace (`--private-users=pick`
 *   with an id-mapped root, so "root" inside is an unprivileged uid on the host and files
 *   it writes are still owned by uid 0 of the image);
 * - its own /proc (host-sensitive parts read-only), a read-only /sys and a minimal /dev
 *   made by nspawn — never the host's /proc, /sys or /dev; every mount lives in the
 *   container's mount namespace, so the host's mount table never changes;
 * - an environment of exactly the variables the caller names (`--setenv`), never koffer's;
 * - `--as-pid2`: a stub init reaps what maintainer scripts leave behind;
 * - the host's network namespace is SHARED (apt has to reach the Debian mirror); the
 *   image's /etc/resolv.conf is bind-mounted over by the host's only inside the container;
 * - nspawn is started through `setpriv --pdeathsig SIGTERM`: if koffer dies (kill -9,
 *   Ctrl-C), nspawn gets SIGTERM and SIGKILLs everything in the container, so no process
 *   of the image outlives the run;
 * - bounded, so a planted fork bomb or memory hog cannot take the host down with it: at
 *   most {@link sandboxProcesses} processes and threads (RLIMIT_NPROC of the container's own
 *   picked uid range, which nothing else on the host uses, so the count is the container's
 *   alone) and an OOM score of 1000 (`choom`), so under memory pressure the kernel kills the image's
 *   processes before any of the host's. These work on every host; cgroup limits
 *   (`--property=`) would need nspawn in its own scope unit, which a host without systemd
 *   as PID 1 cannot give it.
 *
 * Directories the container mounts over (/proc, /sys, /dev, /run, /tmp, a bind target) must
 * not be symbolic links in the image: nspawn resolves them inside the root, but a tree that
 * tries this is hostile and is refused before anything runs.
 */
import { randomBytes } from "node:crypto";
import { lstat } from "node:fs/promises";
import { join } from "node:path";
import { InputError } from "../errors.js";
import { run, type ExecResult } from "./exec.js";

export interface SandboxBind {
  /** A directory on the host. */
  host: string;
  /** Where it appears inside the root (an absolute path). */
  inside: string;
}

export interface SandboxOptions {
  /** The complete environment of the program (nspawn adds only `container=…` and the like). */
  env: Record<string, string>;
  /** Host directories bound read-write into the container. */
  binds?: SandboxBind[];
  timeoutMs?: number;
  input?: string;
}

/**
 * Processes and threads an image's program may have at once. apt, dpkg, dracut and GRUB's
 * scripts stay far below it (a Debian 12 package install peaks at a few dozen).
 */
export const sandboxProcesses = 1024;

/** Mount points nspawn (or a bind) uses inside the root. */
const mountPoints = ["/proc", "/sys", "/dev", "/dev/pts", "/run", "/tmp"];

/** Refuse a tree whose mount points are symbolic links (absolute or `../..`): it is an attack. */
export async function assertMountPointsPlain(root: string, extra: string[] = []): Promise<void> {
  for (const point of [...mountPoints, ...extra]) {
    let components = "";
    for (const component of point.split("/").filter(Boolean)) {
      components += `/${component}`;
      const stats = await lstat(join(root, components)).catch(() => null);
      if (stats?.isSymbolicLink())
        throw new InputError(
          `refusing to run anything in ${root}: ${components} is a symbolic link (a mount point must be a directory of the image)`,
        );
      if (stats === null) break;
    }
  }
}

/** The nspawn command line for `command args` in `root` (exported for tests). */
export async function sandboxArgs(
  root: string,
  command: string,
  args: string[],
  options: SandboxOptions,
): Promise<string[]> {
  const resolv = await lstat(join(root, "etc/resolv.conf")).catch(() => null);
  return [
    "--pdeathsig",
    "SIGTERM",
    "--",
    // Set on nspawn itself and inherited: nspawn's own --oom-score-adjust= is written from
    // inside the user namespace, where the kernel refuses it.
    "choom",
    "-n",
    "1000",
    "--",
    "systemd-nspawn",
    "--quiet",
    "--register=no",
    "--keep-unit",
    "--pipe",
    "--as-pid2",
    `--directory=${root}`,
    // A unique machine name: nspawn keys host-side state by it (two trees both named "root").
    `--machine=koffer-${randomBytes(6).toString("hex")}`,
    "--private-users=pick",
    "--private-users-ownership=map",
    // nspawn would otherwise copy files into the image (localtime, resolv.conf) or link a journal.
    "--timezone=off",
    `--resolv-conf=${resolv?.isFile() ? "bind-host" : "off"}`,
    "--link-journal=no",
    `--rlimit=NPROC=${sandboxProcesses}`,
    ...(options.binds ?? []).map((b) => `--bind=${b.host}:${b.inside}:idmap`),
    ...Object.entries(options.env).map(([name, value]) => `--setenv=${name}=${value}`),
    "--",
    command,
    ...args,
  ];
}

/**
 * Run `command` (a path inside the image) in a container on `root`. The result is the
 * program's (nspawn passes its exit code through).
 */
export async function runInSandbox(
  root: string,
  command: string,
  args: string[],
  options: SandboxOptions,
): Promise<ExecResult> {
  root = root.replace(/(.)\/+$/, "$1");
  await assertMountPointsPlain(
    root,
    (options.binds ?? []).map((b) => b.inside),
  );
  // A missing nspawn is named with its package (systemd-container), not as setpriv's failure.
  await run("systemd-nspawn", ["--version"]);
  const result = await run("setpriv", await sandboxArgs(root, command, args, options), {
    timeoutMs: options.timeoutMs ?? 30 * 60_000,
    ...(options.input === undefined ? {} : { input: options.input }),
  });
  return { ...result, command, args };
}
