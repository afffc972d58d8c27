/**
 * Boots a root tree as a running machine with `systemd-nspawn -b` (systemd as PID 1 inside
 * its own PID, mount, UTS, IPC and network namespaces) and runs commands in it with
 * `nsenter` on the container's init, so the rig asserts what the running laptop's daemons
 * do with what koffer wrote.
 *
 * This host has no systemd as PID 1 (no machined, no D-Bus to register a scope with) and
 * a hybrid cgroup v1 hierarchy, hence `--register=no --keep-unit` and a unified (cgroup v2)
 * hierarchy inside the container (SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1), which systemd 252
 * in the guest needs to manage its services. `--property=` values only take effect where
 * nspawn runs in its own scope unit (a systemd host); here they are passed along and ignored.
 */
import { spawn } from "node:child_process";
import { existsSync, openSync, closeSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { inCgroup, machineCgroup } from "./cgroup.js";
import {
  findLeader,
  machineMarker,
  processStart,
  sweepStale,
  track,
  undoLeftover,
  type Leftover,
} from "./cleanup.js";

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface RunOptions {
  input?: string;
  timeoutMs?: number;
  env?: Record<string, string>;
}

export interface BootedMachine {
  /** Unique, e.g. "kof-lap-<rand>". */
  readonly name: string;
  /** Host path of the machine's (writable) root tree. */
  readonly root: string;
  /** Host PID of its systemd (PID 1 inside). */
  readonly leaderPid: number;
  /** Run argv inside the machine (nsenter on leaderPid: mount, pid, net, uts, ipc), no shell. */
  run(argv: string[], opts?: RunOptions): Promise<RunResult>;
  /** Wait until `systemctl is-system-running` says running or degraded; returns that word. */
  waitUntilBooted(timeoutMs?: number): Promise<string>;
  /** The container's console output so far (systemd's boot messages), for diagnostics. */
  consoleLog(): Promise<string>;
  /** Stop the container (poweroff, then kill), remove what bootMachine created. Idempotent. */
  stop(): Promise<void>;
}

export interface BootOptions {
  /** A root tree to boot (a provisioned copy; the rig never writes the cache). */
  root: string;
  /** Must start with "kof-" (the stale sweeper's namespace). */
  name: string;
  /** Name of a host network namespace (ip netns) to join; default: --private-network. */
  netns?: string;
  /** Extra --bind= values (e.g. "/dev/net/tun"). */
  binds?: string[];
  /** Extra --bind-ro= values (e.g. the host's node binary for live verify). */
  bindsRo?: string[];
  /** Extra --property= values (e.g. "DeviceAllow=/dev/net/tun rwm"); see the module note. */
  properties?: string[];
  /**
   * Extra capabilities (`--capability=`). systemd-nspawn grants CAP_NET_ADMIN only with
   * --private-network; a machine joining a test namespace that runs nftables or charon's
   * kernel-libipsec (a TUN device) needs it named here.
   */
  capabilities?: string[];
  /**
   * /proc/sys/net writable in the machine (nspawn's SYSTEMD_NSPAWN_API_VFS_WRITABLE=network),
   * which nspawn otherwise grants only with --private-network: systemd-sysctl then applies the
   * machine's net.* settings at boot (its ConditionPathIsReadWrite=/proc/sys/net/). They are
   * the machine's own network namespace's.
   */
  netSysctlWritable?: boolean;
}

/** The PATH a login shell on Debian has; nsenter resolves argv[0] inside the machine. */
const guestPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Why machines cannot be booted here, or null when they can. */
export function machineSkipReason(): string | null {
  if (typeof process.getuid === "function" && process.getuid() !== 0)
    return "systemd-nspawn needs root (CI runs as root)";
  if (!existsSync("/usr/bin/systemd-nspawn"))
    return "systemd-nspawn is not installed (Debian package systemd-container)";
  if (!existsSync("/usr/bin/nsenter"))
    return "nsenter is not installed (Debian package util-linux)";
  return null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Boot `opts.root` with systemd-nspawn; resolves once the container's init exists. */
export async function bootMachine(opts: BootOptions): Promise<BootedMachine> {
  if (!opts.name.startsWith("kof-"))
    throw new Error(`machine name must start with kof-: ${opts.name}`);
  sweepStale();
  const dir = await mkdtemp(join(tmpdir(), `${opts.name}-`));
  const logPath = join(dir, "console.log");
  const args = [
    `--directory=${opts.root}`,
    `--machine=${opts.name}`,
    "--boot",
    "--register=no",
    "--keep-unit",
    // The tree stays as provisioned: no host journal link, resolv.conf or timezone copied in.
    "--link-journal=no",
    "--resolv-conf=off",
    "--timezone=off",
    // Names the init for the sweeper when nspawn dies before the record names it.
    `--setenv=${machineMarker(opts.name)}`,
    opts.netns ? `--network-namespace-path=/run/netns/${opts.netns}` : "--private-network",
    ...(opts.binds ?? []).map((b) => `--bind=${b}`),
    ...(opts.bindsRo ?? []).map((b) => `--bind-ro=${b}`),
    ...(opts.properties ?? []).map((p) => `--property=${p}`),
    ...(opts.capabilities ?? []).map((c) => `--capability=${c}`),
  ];
  const log = openSync(logPath, "a");
  // A cgroup of its own (cgroup.ts): guests that share one `payload` stop each other's units.
  const cgroup = machineCgroup(opts.name);
  const [command, argv] =
    cgroup === null ? ["systemd-nspawn", args] : inCgroup(cgroup, "systemd-nspawn", args);
  const child = spawn(command, argv, {
    stdio: ["ignore", log, log],
    env: {
      PATH: process.env.PATH ?? guestPath,
      LC_ALL: "C",
      SYSTEMD_NSPAWN_UNIFIED_HIERARCHY: "1",
      ...(opts.netSysctlWritable === true ? { SYSTEMD_NSPAWN_API_VFS_WRITABLE: "network" } : {}),
    },
  });
  closeSync(log);
  const nspawnPid = child.pid;
  if (nspawnPid === undefined) {
    await rm(dir, { recursive: true, force: true });
    throw new Error("systemd-nspawn could not be started");
  }
  let exited = false;
  child.on("exit", () => {
    exited = true;
  });
  let item: Leftover = {
    kind: "machine",
    name: opts.name,
    nspawnPid,
    nspawnStart: processStart(nspawnPid),
    dir,
    ...(cgroup === null ? {} : { cgroup }),
  };
  // The undo kills the container's init too (the kernel then empties its PID namespace):
  // nspawn's death alone leaves the guest's systemd and its daemons running.
  let untrack = track(item, () => undoLeftover(item));

  const consoleLog = () => readFile(logPath, "utf8").catch(() => "");
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (!exited) {
      // nspawn turns SIGTERM into SIGRTMIN+3 for the container's systemd: a clean halt.
      child.kill("SIGTERM");
      for (let i = 0; i < 300 && !exited; i++) await sleep(100);
      if (!exited) child.kill("SIGKILL");
      for (let i = 0; i < 100 && !exited; i++) await sleep(100);
    }
    // Whatever of the guest outlived nspawn (a SIGKILLed nspawn does not take it along).
    undoLeftover(item);
    untrack();
    await rm(dir, { recursive: true, force: true });
  };

  let leaderPid: number | null = null;
  for (let i = 0; i < 300 && leaderPid === null; i++) {
    if (exited) break;
    leaderPid = findLeader(nspawnPid);
    if (leaderPid === null) await sleep(50);
  }
  if (leaderPid === null) {
    const text = await consoleLog();
    await stop();
    throw new Error(`systemd-nspawn did not start ${opts.name}:\n${text.slice(-3000)}`);
  }
  const leader = leaderPid;
  item = { ...item, leaderPid: leader, leaderStart: processStart(leader) };
  untrack = track(item, () => undoLeftover(item));

  const run = async (argv: string[], runOpts: RunOptions = {}): Promise<RunResult> => {
    if (argv.length === 0) throw new Error("run: empty argv");
    const timeoutMs = runOpts.timeoutMs ?? 60_000;
    // nsenter forks into the PID namespace and cannot pass a kill on to its child, so the
    // time limit is enforced inside the machine by coreutils' timeout (exit 124).
    const limit = `${Math.max(1, Math.ceil(timeoutMs / 1000))}s`;
    const result = await execa(
      "nsenter",
      [
        `--target=${leader}`,
        ...["-m", "-u", "-i", "-n", "-p", "-C", "-r", "-w", "--"],
        ...["timeout", "--kill-after=2s", limit, ...argv],
      ],
      {
        // Only what the caller names, never the test process's environment (secrets, npm_*).
        env: { PATH: guestPath, LC_ALL: "C", HOME: "/root", ...runOpts.env },
        extendEnv: false,
        reject: false,
        stripFinalNewline: false,
        timeout: timeoutMs + 10_000,
        ...(runOpts.input !== undefined ? { input: runOpts.input } : { stdin: "ignore" as const }),
      },
    );
    return {
      stdout: String(result.stdout ?? ""),
      stderr: String(result.stderr ?? ""),
      exitCode: result.exitCode ?? (result.timedOut ? 124 : 1),
    };
  };

  const waitUntilBooted = async (timeoutMs = 120_000): Promise<string> => {
    const deadline = Date.now() + timeoutMs;
    let last = "";
    while (Date.now() < deadline) {
      if (exited) break;
      // --wait blocks until start-up is over; bounded so a hung boot still times out.
      const state = await run(["systemctl", "is-system-running"], { timeoutMs: 10_000 });
      last = `${state.stdout.trim()} ${state.stderr.trim()}`.trim();
      const word = state.stdout.trim();
      if (word === "running" || word === "degraded") return word;
      await sleep(250);
    }
    const text = await consoleLog();
    throw new Error(
      `${opts.name} did not finish booting (${exited ? "nspawn exited" : `last: ${last}`}):\n${text.slice(-4000)}`,
    );
  };

  return {
    name: opts.name,
    root: opts.root,
    leaderPid: leader,
    run,
    waitUntilBooted,
    consoleLog,
    stop,
  };
}
