/**
 * The `ssh` target: a running laptop reached with the system's OpenSSH client. Nothing is
 * installed on the laptop; it needs only what Debian ships (sshd, its sftp-server, sudo).
 *
 * - One connection per run: an OpenSSH control master (`ControlMaster`) in a private 0700
 *   directory; every command and the SFTP session are channels multiplexed over it.
 * - Host keys are always verified by OpenSSH itself (`StrictHostKeyChecking=yes`), against
 *   known_hosts (hashed entries, `@cert-authority`, `@revoked`) or a pinned SHA256
 *   fingerprint; an unknown, changed or revoked key stops the run (exit 2) naming the
 *   fingerprint the server presented.
 * - Only BSI TR-02102-4 algorithms are offered (see {@link tr02102Ssh}).
 * - Files are read by a long-lived `[sudo -n] tar` streaming the files it is named (one round
 *   trip per read, src/targets/ssh-tar.ts), the rest goes over SFTP: the `sftp` subsystem
 *   when the login is root, otherwise `sudo -n /usr/lib/openssh/sftp-server` on a channel;
 *   `sudo -n` never prompts, and a sudo that wants a password is a clear error.
 * - Secrets never travel in a command line or an environment variable of ssh: a command's
 *   environment is sent on its stdin and read by `sh`'s `read` before the command starts.
 */
import { closeSync, openSync, readFileSync, readdirSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { FileRefusedError, IncompleteError, UsageError } from "../errors.js";
import {
  isolatedEnv,
  run,
  settledWithin,
  spawnPiped,
  type ExecOptions,
  type ExecResult,
  type SpawnedProcess,
} from "./exec.js";
import { assertTargetPath, defaultMaxFileBytes, ReadBudget } from "./files.js";
import { SftpClient, SftpError, openFlags, status, type SftpAttrs } from "./sftp.js";
import { TarReader, tarReaderArgv } from "./ssh-tar.js";
import {
  CommandShells,
  ShellStartError,
  commandShellLogin,
  commandShellScript,
} from "./ssh-commands.js";
import {
  fingerprintOf,
  parseDestination,
  parseFingerprint,
  shellQuote,
  tr02102Ssh,
  type SshDestination,
} from "./ssh-options.js";
import type { Target, TargetStat } from "./types.js";

export interface SshTargetOptions {
  /** `[USER@]HOST[:PORT]`. */
  destination: string;
  /** Private key to log in with (otherwise the agent or ~/.ssh/config decides). */
  identityFile?: string;
  /** known_hosts file to trust instead of ~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts. */
  knownHostsFile?: string;
  /** A pinned host key (`SHA256:…`): trusted instead of any known_hosts file. */
  hostKeyFingerprint?: string;
  /** ssh_config file (`ssh -F`); the security options below override it. */
  configFile?: string;
  connectTimeoutSeconds?: number;
  /** Progress lines (never secrets). */
  log?: (line: string) => void;
}

/** Where a Debian system keeps OpenSSH's SFTP server. */
const sftpServer = "/usr/lib/openssh/sftp-server";

/** A control master left by a killed process ends this long after its last channel closed. */
const controlPersist = "30s";

/** Host-key failures are exit 2 with the fingerprint named (not a usage error, not exit 1). */
export class HostKeyError extends IncompleteError {
  constructor(message: string) {
    super("E_SSH_HOST_KEY", message);
    this.name = "HostKeyError";
  }
}

const liveMasters = new Set<number>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const pid of liveMasters) {
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        // already gone
      }
    }
  });
}

export class SshTarget implements Target {
  readonly kind = "ssh" as const;
  readonly live = true;
  readonly disks = [];
  readonly location: string;
  /** True when the login is root; otherwise every privileged step goes through `sudo -n`. */
  readonly root: boolean;

  /** A view shares the connection of its parent and does not close it. */
  private view = false;
  /** What this run may read in total, shared with views (see {@link ReadBudget}). */
  budget = new ReadBudget();
  /** Reads in one round trip each (src/targets/ssh-tar.ts); shared with views. */
  readonly tar: TarReader;

  private constructor(
    readonly destination: SshDestination,
    private readonly dir: string,
    private readonly baseArgs: string[],
    private readonly masterPid: number | null,
    root: boolean,
    private sftp: SftpClient,
    private sftpProcess: SpawnedProcess,
    private readonly commands: CommandShells,
    tar: TarReader,
    readonly loginUid: number | null,
  ) {
    this.location = formatDestination(destination);
    this.root = root;
    this.tar = tar;
  }

  /** Connect, verify the host key, check privileges and open the SFTP channel. */
  static async open(options: SshTargetOptions): Promise<SshTarget> {
    const destination = parseDestination(options.destination);
    const pinned =
      options.hostKeyFingerprint === undefined
        ? undefined
        : parseFingerprint(options.hostKeyFingerprint);
    const dir = await mkdtemp(join(tmpdir(), "koffer-ssh-"));
    let masterPid: number | null = null;
    try {
      const knownHosts =
        pinned === undefined
          ? options.knownHostsFile
          : await pinnedKnownHosts(dir, destination, pinned, options.connectTimeoutSeconds ?? 10);
      const chosen = { ...options, knownHostsFile: knownHosts };
      const baseArgs = sshArgs(dir, destination, chosen, !!pinned);
      const masterArgs = sshArgs(dir, destination, chosen, !!pinned, true);
      masterPid = await startMaster(dir, destination, baseArgs, masterArgs, pinned);
      if (masterPid !== null) {
        liveMasters.add(masterPid);
        installExitHook();
      }
      const login = formatDestination(destination);
      // The first command shell is also the check of the login and of `sudo -n` (its greeting
      // names the uid). The SFTP channel opens beside it when the login's name says whether
      // it is root; a wrong guess costs only a second SFTP channel.
      const commands = new CommandShells(() => openCommandShell(baseArgs, destination), login);
      const guess = destination.user === undefined ? undefined : destination.user === "root";
      let sftp = guess === undefined ? undefined : openSftp(baseArgs, destination, guess, login);
      sftp?.catch(() => undefined);
      const dropSftp = () =>
        void sftp?.then(
          (s) => s.process.kill(),
          () => undefined,
        );
      let uid: number | null;
      try {
        uid = (await commands.warm()).uid;
      } catch (error) {
        dropSftp();
        await commands.close();
        throw startFailure(error, login);
      }
      const root = uid === 0;
      // The file reader's channel opens now, beside the SFTP channel, not at the first read.
      const tar = new TarReader(() => openTarReader(baseArgs, destination, root));
      tar.warm();
      if (sftp === undefined || (guess === true && !root)) {
        dropSftp();
        sftp = openSftp(baseArgs, destination, root, login);
      }
      let opened: Awaited<ReturnType<typeof openSftp>>;
      try {
        opened = await sftp;
      } catch (error) {
        await Promise.all([commands.close(), tar.close()]);
        throw error;
      }
      const { client, process: child } = opened;
      return new SshTarget(
        destination,
        dir,
        baseArgs,
        masterPid,
        root,
        client,
        child,
        commands,
        tar,
        uid,
      );
    } catch (error) {
      await stopMaster(dir, destination, masterPid);
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  hostPath(): null {
    return null;
  }

  private lost(error: unknown, path?: string): never {
    if (error instanceof SftpError && error.status >= 6 && error.status <= 7) {
      throw new IncompleteError(
        "E_SSH_LOST",
        `the connection to ${this.location} was lost${path === undefined ? "" : ` (at ${path})`}`,
        { cause: error },
      );
    }
    if (error instanceof SftpError) {
      throw new IncompleteError("E_SSH_SFTP", `${this.location}: ${error.message}`, {
        cause: error,
      });
    }
    throw error;
  }

  private async attrs(path: string, follow: boolean): Promise<SftpAttrs | null> {
    assertTargetPath(path);
    try {
      return await this.sftp.stat(path, follow);
    } catch (error) {
      if (error instanceof SftpError && error.status === status.noSuchFile) return null;
      return this.lost(error, path);
    }
  }

  async stat(path: string): Promise<TargetStat | null> {
    const a = await this.attrs(path, true);
    return a === null ? null : toTargetStat(a);
  }

  async lstat(path: string): Promise<TargetStat | null> {
    const a = await this.attrs(path, false);
    return a === null ? null : toTargetStat(a);
  }

  async readLink(path: string): Promise<string | null> {
    const a = await this.attrs(path, false);
    if (a === null || toTargetStat(a).type !== "symlink") return null;
    try {
      return await this.sftp.readlink(path);
    } catch (error) {
      return this.lost(error, path);
    }
  }

  /**
   * First the streaming reader (src/targets/ssh-tar.ts): one round trip, whatever else is
   * read beside it. What it does not answer (absent, procfs, sysfs, empty, a lost channel)
   * goes over SFTP. Only regular files are read (a FIFO would block the one SFTP server for
   * the whole run), so the file is stat'ed before it is opened: a directory reads as null,
   * anything else (FIFO, device, socket) is refused, as on the other targets. Its size then
   * lets all reads go out at once, and the handle is closed without waiting.
   * At most `maxBytes` (default 8 MiB) are read, and the run's {@link ReadBudget} is charged
   * here, on the controller: a larger file or an exhausted budget is a FileRefusedError.
   */
  async readFile(path: string, limits: { maxBytes?: number } = {}): Promise<Buffer | null> {
    const maxBytes = limits.maxBytes ?? defaultMaxFileBytes;
    assertTargetPath(path);
    const tooLarge = (found: string) =>
      new FileRefusedError("size", path, `expected at most ${maxBytes} bytes, found ${found}`);
    const streamed = await this.tar.read(path, maxBytes);
    if (streamed !== undefined) {
      if (streamed.kind === "directory") return null;
      if (streamed.kind === "special") {
        // A link to /dev/null masks a file (systemd, sysctl.d): it reads as empty, as below.
        if (path === "/dev/null" || (await this.readLink(path)) === "/dev/null")
          return Buffer.alloc(0);
        throw new FileRefusedError("type", path, streamed.what);
      }
      if (streamed.kind === "too-large") throw tooLarge(`${streamed.size} bytes`);
      this.budget.take(path, streamed.bytes.length);
      return streamed.bytes;
    }
    const a = await this.attrs(path, true);
    if (a === null) return null;
    const type = toTargetStat(a).type;
    if (type === "directory") return null;
    // A link to /dev/null masks a file (systemd, sysctl.d): it reads as empty.
    if (type !== "file" && (path === "/dev/null" || (await this.readLink(path)) === "/dev/null"))
      return Buffer.alloc(0);
    if (type !== "file") throw new FileRefusedError("type", path, kindOf(a.mode ?? 0));
    if ((a.size ?? 0) > maxBytes) throw tooLarge(`${a.size} bytes`);
    let bytes: Buffer | null;
    try {
      const handle = await this.sftp.open(path, openFlags.read);
      try {
        bytes = await this.sftp.readAll(handle, a.size ?? 0, maxBytes);
      } finally {
        void this.sftp.close(handle).catch(() => undefined);
      }
    } catch (error) {
      if (error instanceof SftpError && error.status === status.noSuchFile) return null;
      if (!(error instanceof SftpError && error.status === status.failure))
        return this.lost(error, path);
      bytes = await this.readUnseekable(path, maxBytes, error);
      if (bytes === null) return null;
    }
    if (bytes.length > maxBytes) throw tooLarge(`more than ${maxBytes} bytes`);
    this.budget.take(path, bytes.length);
    return bytes;
  }

  /**
   * A regular file sftp-server cannot read. It seeks to the offset of every READ, and a file
   * that cannot seek answers ESPIPE, which SFTP v3 can only report as "Failure": efivarfs
   * (/sys/firmware/efi/efivars, where Secure Boot's state is) is such a file system. The
   * file is read once more through the run's command shell (root, or `sudo -n` as the SFTP
   * server), sequentially from its start, within the same limits: a regular file (`test -f`
   * there; dd opens it O_NONBLOCK, so a FIFO swapped in meanwhile cannot hang the shell) and
   * at most `maxBytes` + 1 bytes (`count_bytes`), the caller refuses more. A file that fails
   * there too is the SFTP error it was.
   */
  private async readUnseekable(
    path: string,
    maxBytes: number,
    sftpError: SftpError,
  ): Promise<Buffer | null> {
    const r = await this.commands.run(
      [
        "/bin/sh",
        "-c",
        '[ -e "$1" ] || exit 65; [ -f "$1" ] || exit 66; ' +
          'exec dd if="$1" iflag=nonblock,count_bytes bs=65536 count="$2" status=none',
        "koffer",
        path,
        String(maxBytes + 1),
      ],
      { binary: true, timeoutMs: 30_000 },
    );
    if (r.exitCode === 65) return null;
    if (r.exitCode !== 0)
      return this.lost(
        new SftpError(
          sftpError.status,
          `${sftpError.message}; read through the shell: ${r.exitCode === 66 ? "not a regular file" : r.stderr.trim() || `exit ${r.exitCode}`}`,
          path,
        ),
        path,
      );
    return r.stdoutBuffer ?? Buffer.alloc(0);
  }

  async readText(path: string, limits: { maxBytes?: number } = {}): Promise<string | null> {
    return (await this.readFile(path, limits))?.toString("utf8") ?? null;
  }

  async readDir(path: string): Promise<string[] | null> {
    assertTargetPath(path);
    try {
      return (await this.sftp.readdir(path)).sort();
    } catch (error) {
      if (error instanceof SftpError && error.status === status.noSuchFile) return null;
      if (error instanceof SftpError && error.status === status.failure) {
        // not a directory
        if ((await this.attrs(path, true)) !== null) return null;
      }
      return this.lost(error, path);
    }
  }

  /**
   * A command without stdin, environment, working directory or streamed output runs in one
   * of the run's command shells (no channel, sudo and shell of its own); anything else — a
   * secret always comes on stdin — gets its own channel.
   */
  exec(command: string, args: string[], options: ExecOptions = {}): Promise<ExecResult> {
    const argv = [command, ...args];
    const plain =
      options.input === undefined &&
      options.cwd === undefined &&
      options.onStdout === undefined &&
      argv.every((word) => !/[\n\0]/.test(word));
    if (plain) {
      checkEnvironment(options.env);
      return this.commands.run(argv, {
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
        ...(options.binary ? { binary: true } : {}),
        ...(options.env === undefined ? {} : { env: options.env }),
      });
    }
    return runRemote(this.baseArgs, this.destination, argv, options, !this.root);
  }

  /**
   * Temporary file next to the target (created exclusive, mode set at creation), written,
   * fsynced, renamed over the target with rename(2), and the directory fsynced.
   */
  async writeFileAtomic(
    path: string,
    data: Buffer | string,
    options: { mode: number; uid?: number; gid?: number },
  ): Promise<void> {
    assertTargetPath(path);
    const slash = path.lastIndexOf("/");
    const dir = slash <= 0 ? "/" : path.slice(0, slash);
    const temp = `${dir === "/" ? "" : dir}/.${path.slice(slash + 1)}.koffer-${randomBytes(6).toString("hex")}`;
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    try {
      const handle = await this.sftp.open(
        temp,
        openFlags.write | openFlags.create | openFlags.exclusive,
        { mode: options.mode },
      );
      try {
        await this.sftp.write(handle, bytes);
        // The creation mode is subject to sftp-server's umask; owner needs root (or sudo).
        await this.sftp.fsetstat(handle, {
          mode: options.mode,
          ...(options.uid === undefined ? {} : { uid: options.uid }),
          ...(options.gid === undefined ? {} : { gid: options.gid }),
        });
        await this.sftp.fsync(handle);
      } finally {
        await this.sftp.close(handle);
      }
      await this.sftp.posixRename(temp, path);
    } catch (error) {
      await this.sftp.remove(temp).catch(() => undefined);
      return this.lost(error, path);
    }
    await this.syncDir(dir);
  }

  private async syncDir(dir: string): Promise<void> {
    try {
      const handle = await this.sftp.open(dir, openFlags.read);
      try {
        await this.sftp.fsync(handle);
      } finally {
        await this.sftp.close(handle);
      }
    } catch (error) {
      return this.lost(error, dir);
    }
  }

  /** O_CREAT|O_EXCL, written and fsynced: false when the file already exists (the provision lock). */
  async createExclusive(path: string, data: string, mode: number): Promise<boolean> {
    assertTargetPath(path);
    let handle: Buffer;
    try {
      handle = await this.sftp.open(
        path,
        openFlags.write | openFlags.create | openFlags.exclusive,
        {
          mode,
        },
      );
    } catch (error) {
      // SFTP v3 reports EEXIST as a generic failure: look.
      if (error instanceof SftpError && (await this.attrs(path, false)) !== null) return false;
      return this.lost(error, path);
    }
    try {
      await this.sftp.write(handle, Buffer.from(data, "utf8"));
      await this.sftp.fsync(handle);
    } catch (error) {
      return this.lost(error, path);
    } finally {
      await this.sftp.close(handle).catch(() => undefined);
    }
    return true;
  }

  /** Append and fsync (one journal line per step; only the last line can tear). */
  async appendFile(path: string, data: string, mode: number): Promise<void> {
    assertTargetPath(path);
    try {
      const handle = await this.sftp.open(
        path,
        openFlags.write | openFlags.append | openFlags.create,
        { mode },
      );
      try {
        const size = (await this.sftp.fstat(handle)).size ?? 0;
        await this.sftp.write(handle, Buffer.from(data, "utf8"), size);
        await this.sftp.fsync(handle);
      } finally {
        await this.sftp.close(handle);
      }
    } catch (error) {
      return this.lost(error, path);
    }
  }

  async remove(path: string): Promise<void> {
    const a = await this.attrs(path, false);
    if (a === null) return;
    try {
      if (toTargetStat(a).type === "directory") {
        for (const name of await this.sftp.readdir(path)) {
          await this.remove(`${path === "/" ? "" : path}/${name}`);
        }
        await this.sftp.rmdir(path);
      } else {
        await this.sftp.remove(path);
      }
    } catch (error) {
      return this.lost(error, path);
    }
  }

  async mkdirp(path: string, mode = 0o755): Promise<void> {
    assertTargetPath(path);
    let current = "";
    for (const part of path.split("/").filter((p) => p !== "")) {
      current += `/${part}`;
      const a = await this.attrs(current, true);
      if (a !== null) {
        if (toTargetStat(a).type !== "directory") {
          throw new IncompleteError("E_NOT_DIR", `${this.location}: ${current} is not a directory`);
        }
        continue;
      }
      try {
        await this.sftp.mkdir(current, mode);
      } catch (error) {
        // Lost a race with another mkdir: fine if it is a directory now.
        if ((await this.attrs(current, true)) === null) return this.lost(error, current);
      }
    }
  }

  /** Same connection, nothing cached (readers cache per target object). */
  fresh(): SshTarget {
    const view = new SshTarget(
      this.destination,
      this.dir,
      this.baseArgs,
      this.masterPid,
      this.root,
      this.sftp,
      this.sftpProcess,
      this.commands,
      this.tar,
      this.loginUid,
    );
    view.view = true;
    view.budget = this.budget;
    return view;
  }

  async close(): Promise<void> {
    if (this.view) return;
    this.sftpProcess.stdin.end();
    await Promise.all([
      this.commands.close(),
      settledWithin(this.tar.close(), 2_000),
      settledWithin(
        this.sftpProcess.exited.catch(() => -1),
        2_000,
      ),
    ]);
    this.sftpProcess.kill();
    await stopMaster(this.dir, this.destination, this.masterPid, this.baseArgs);
    if (this.masterPid !== null) liveMasters.delete(this.masterPid);
    await rm(this.dir, { recursive: true, force: true });
  }
}

// ─── OpenSSH invocation ──────────────────────────────────────────────────────

export function formatDestination(d: SshDestination): string {
  const host = d.host.includes(":") ? `[${d.host}]` : d.host;
  return `${d.user === undefined ? "" : `${d.user}@`}${host}${d.port === undefined ? "" : `:${d.port}`}`;
}

/** The options every ssh invocation of this run shares (the control socket, and security). */
function sshArgs(
  dir: string,
  destination: SshDestination,
  options: SshTargetOptions,
  pinned: boolean,
  verbose = false,
): string[] {
  const o = (key: string, value: string) => ["-o", `${key}=${value}`];
  return [
    ...(options.configFile === undefined ? [] : ["-F", options.configFile]),
    // The first value of an option wins in OpenSSH: the master's DEBUG1 comes before these.
    ...o("LogLevel", verbose ? "DEBUG1" : "ERROR"),
    ...o("ControlPath", join(dir, "control")),
    ...o("BatchMode", "yes"),
    ...o("StrictHostKeyChecking", "yes"),
    ...o("UpdateHostKeys", "no"),
    ...o("VerifyHostKeyDNS", "no"),
    ...o("KnownHostsCommand", "none"),
    ...o("CheckHostIP", "no"),
    ...(options.knownHostsFile === undefined
      ? []
      : o("UserKnownHostsFile", options.knownHostsFile)),
    ...(pinned || options.knownHostsFile !== undefined
      ? o("GlobalKnownHostsFile", "/dev/null")
      : []),
    ...o("KexAlgorithms", tr02102Ssh.kex.join(",")),
    ...o("Ciphers", tr02102Ssh.ciphers.join(",")),
    ...o("MACs", tr02102Ssh.macs.join(",")),
    ...o("HostKeyAlgorithms", tr02102Ssh.keys.join(",")),
    ...o("PubkeyAcceptedAlgorithms", tr02102Ssh.keys.join(",")),
    ...o("PasswordAuthentication", "no"),
    ...o("KbdInteractiveAuthentication", "no"),
    ...o("ForwardAgent", "no"),
    ...o("ForwardX11", "no"),
    ...o("ClearAllForwardings", "yes"),
    ...o("SendEnv", "-*"),
    ...o("RequestTTY", "no"),
    ...o("ServerAliveInterval", "5"),
    ...o("ServerAliveCountMax", "6"),
    ...o("ConnectTimeout", String(options.connectTimeoutSeconds ?? 10)),
    ...(options.identityFile === undefined
      ? []
      : [...o("IdentityFile", options.identityFile), ...o("IdentitiesOnly", "yes")]),
    ...(destination.port === undefined ? [] : ["-p", String(destination.port)]),
  ];
}

function sshTarget(destination: SshDestination): string {
  return destination.user === undefined
    ? destination.host
    : `${destination.user}@${destination.host}`;
}

/**
 * Start the control master in the background once it is authenticated (`-f`). Its log goes to
 * a file in the private directory: we read the host key it was shown from there.
 */
async function startMaster(
  dir: string,
  destination: SshDestination,
  baseArgs: string[],
  masterArgs: string[],
  pinned: string | undefined,
): Promise<number | null> {
  const logFile = join(dir, "master.log");
  const fd = openSync(logFile, "a", 0o600);
  let code: number;
  try {
    const child = await spawnDetached(
      "ssh",
      [
        ...masterArgs,
        "-o",
        "ControlMaster=yes",
        "-o",
        `ControlPersist=${controlPersist}`,
        "-f",
        "-N",
        "--",
        sshTarget(destination),
      ],
      fd,
    );
    code = child;
  } finally {
    closeSync(fd);
  }
  const log = readFileSync(logFile, "utf8");
  if (code !== 0) throw classifyFailure(formatDestination(destination), log, pinned);
  const found = masterOf(join(dir, "control"));
  if (found !== null) return found;
  const check = await run("ssh", [...baseArgs, "-O", "check", "--", sshTarget(destination)], {
    timeoutMs: 10_000,
    isolateEnv: true,
  });
  const pid = /pid=(\d+)/.exec(check.stderr + check.stdout)?.[1];
  return pid === undefined ? null : Number(pid);
}

/**
 * The backgrounded master (`-f` forks it, so its pid is nobody's child): the one ssh process
 * of ours whose command line names this run's private control socket. Reading /proc costs no
 * process; `ssh -O check` (one more process and round trip on every run) is the fallback.
 */
function masterOf(controlPath: string): number | null {
  const uid = process.getuid?.();
  const wanted = `ControlPath=${controlPath}`;
  // Synchronous: a few hundred tiny procfs reads, nothing else runs meanwhile.
  const read = (file: string) => {
    try {
      return readFileSync(file, "latin1");
    } catch {
      return ""; // the process ended meanwhile
    }
  };
  let entries: string[] = [];
  try {
    entries = readdirSync("/proc");
  } catch {
    return null;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const argv = read(`/proc/${entry}/cmdline`).split("\0");
    if (!argv.includes(wanted) || !argv.includes("ControlMaster=yes")) continue;
    if (!/(^|\/)ssh$/.test(argv[0] ?? "")) continue;
    const owner = /^Uid:\s+(\d+)/m.exec(read(`/proc/${entry}/status`))?.[1];
    if (uid !== undefined && owner !== String(uid)) continue;
    return Number(entry);
  }
  return null;
}

/** Run ssh with stderr into `fd` and wait for it (with -f: until the master is authenticated). */
async function spawnDetached(command: string, args: string[], fd: number): Promise<number> {
  const { spawn } = await import("node:child_process");
  return new Promise<number>((resolve, reject) => {
    const child = spawn(command, args, {
      shell: false,
      stdio: ["ignore", "ignore", fd],
      env: { ...isolatedEnv(), LC_ALL: "C", LANG: "C" },
    });
    child.once("error", reject);
    child.once("exit", (code) => resolve(code ?? -1));
  });
}

async function stopMaster(
  dir: string,
  destination: SshDestination,
  pid: number | null,
  baseArgs?: string[],
): Promise<void> {
  // The master's pid is known (the usual case): SIGTERM ends it cleanly, without another ssh.
  if (baseArgs !== undefined && pid === null) {
    await run("ssh", [...baseArgs, "-O", "exit", "--", sshTarget(destination)], {
      timeoutMs: 5_000,
      isolateEnv: true,
    }).catch(() => undefined);
  }
  if (pid !== null) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // gone already
    }
  }
  void dir;
}

/** Turn what OpenSSH said into one clear message; host-key problems name the fingerprint. */
export function classifyFailure(login: string, log: string, pinned?: string): IncompleteError {
  const shown = /Server host (?:key|certificate): (\S+) (SHA256:[A-Za-z0-9+/]{43})/.exec(log);
  const presented = shown === null ? "an unknown key" : `${shown[2]} (${shown[1]})`;
  const offending = /Offending \S+ key in (\S+:\d+)/.exec(log)?.[1];
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED/.test(log)) {
    return new HostKeyError(
      `the host key of ${login} has CHANGED: it presented ${presented}, which does not match ${offending ?? "known_hosts"}; this can be an attack (someone in the middle) or a reinstalled laptop. Check the fingerprint on the laptop's console (ssh-keygen -lf /etc/ssh/ssh_host_ecdsa_key.pub) before updating known_hosts (ssh-keygen -R)`,
    );
  }
  if (/REVOKED HOST KEY|marked as revoked/.test(log)) {
    return new HostKeyError(
      `the host key of ${login} is REVOKED in known_hosts (@revoked): it presented ${presented}; the run stops`,
    );
  }
  if (/host key is known for|Host key verification failed/.test(log)) {
    if (pinned !== undefined) {
      return new HostKeyError(
        `the host key of ${login} does not match the pinned fingerprint ${pinned}: it presented ${presented}`,
      );
    }
    return new HostKeyError(
      `the host key of ${login} is not known: it presented ${presented}. koffer never accepts an unknown key; compare it with the laptop's console (ssh-keygen -lf /etc/ssh/ssh_host_ecdsa_key.pub), then add it to known_hosts or pin it (--host-key-fingerprint ${shown?.[2] ?? "SHA256:…"})`,
    );
  }
  if (/no matching (key exchange|cipher|MAC|host key type)/.test(log)) {
    const what = /no matching [^.\n]*/.exec(log)?.[0] ?? "no common algorithm";
    return new IncompleteError(
      "E_SSH_ALGORITHMS",
      `${login} offers no BSI TR-02102-4 algorithm koffer accepts (${what.trim()})`,
    );
  }
  if (/Permission denied/.test(log)) {
    return new IncompleteError(
      "E_SSH_AUTH",
      `${login} refused the login (${/Permission denied[^\n]*/.exec(log)?.[0]?.trim()}); koffer logs in with keys only (--ssh-identity, the agent or ~/.ssh/config)`,
    );
  }
  const last = log
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("debug") && !l.startsWith("Authenticated"))
    .pop();
  return new IncompleteError("E_SSH_CONNECT", `cannot reach ${login}: ${last ?? "ssh failed"}`);
}

/**
 * With a pinned fingerprint: fetch the host's keys with ssh-keyscan, keep only the one whose
 * SHA256 matches the pin, and trust exactly that line for the real connection (which then
 * proves the server holds that key). No match → exit 2 naming what the host presented.
 */
async function pinnedKnownHosts(
  dir: string,
  destination: SshDestination,
  pinned: string,
  timeout: number,
): Promise<string> {
  const scan = await run(
    "ssh-keyscan",
    [
      "-T",
      String(timeout),
      "-t",
      "ecdsa,rsa",
      ...(destination.port === undefined ? [] : ["-p", String(destination.port)]),
      "--",
      destination.host,
    ],
    { timeoutMs: (timeout + 5) * 1000, isolateEnv: true },
  );
  const lines = scan.stdout
    .split("\n")
    .filter((l) => l.trim() !== "" && !l.startsWith("#"))
    .map((l) => l.split(/\s+/))
    .filter((f) => f.length >= 3);
  const login = formatDestination(destination);
  if (lines.length === 0) {
    throw new IncompleteError(
      "E_SSH_CONNECT",
      `cannot reach ${login} to check its host key: ${scan.stderr.trim().split("\n").pop() || "no answer"}`,
    );
  }
  const match = lines.find((f) => fingerprintOf(f[2] as string) === pinned);
  if (match === undefined) {
    const seen = lines.map((f) => `${fingerprintOf(f[2] as string)} (${f[1]})`).join(", ");
    throw new HostKeyError(
      `the host key of ${login} does not match the pinned fingerprint ${pinned}: it presented ${seen}`,
    );
  }
  const file = join(dir, "known_hosts");
  await writeFile(file, match.join(" ") + "\n", { mode: 0o600 });
  return file;
}

/**
 * A command on the far side. The remote login shell parses one string, so every word is
 * quoted; LC_ALL=C and the caller's environment are set by `sh` after reading the values
 * from stdin, so no value (a PIN, a passphrase) is ever part of a command line.
 */
async function runRemote(
  baseArgs: string[],
  destination: SshDestination,
  argv: string[],
  options: ExecOptions,
  sudo: boolean,
): Promise<ExecResult> {
  const env = Object.entries(options.env ?? {});
  checkEnvironment(options.env);
  const script = [
    ...env.map(([name]) => `IFS= read -r ${name} || exit 125; export ${name}`),
    "export LC_ALL=C LANG=C",
    ...(options.cwd === undefined ? [] : [`cd ${shellQuote(options.cwd)} || exit 125`]),
    'exec "$@"',
  ].join("; ");
  const remote = [...(sudo ? ["sudo", "-n", "--"] : []), "sh", "-c", script, "koffer", ...argv]
    .map(shellQuote)
    .join(" ");
  const envLines = env.map(([, value]) => `${value}\n`).join("");
  const input =
    env.length === 0
      ? options.input
      : Buffer.concat([
          Buffer.from(envLines, "utf8"),
          options.input === undefined
            ? Buffer.alloc(0)
            : typeof options.input === "string"
              ? Buffer.from(options.input, "utf8")
              : options.input,
        ]);
  const result = await run(
    "ssh",
    [...baseArgs, "-o", "ControlMaster=no", "-T", "--", sshTarget(destination), remote],
    {
      ...(input === undefined ? {} : { input }),
      timeoutMs: options.timeoutMs ?? 120_000,
      isolateEnv: true,
      ...(options.binary ? { binary: true } : {}),
      ...(options.onStdout === undefined ? {} : { onStdout: options.onStdout }),
    },
  );
  if (
    result.exitCode === 255 &&
    /Control socket|mux_client|master|Connection|closed by/i.test(result.stderr)
  ) {
    throw new IncompleteError(
      "E_SSH_LOST",
      `the connection to ${formatDestination(destination)} was lost running ${argv[0]}: ${result.stderr.trim().split("\n").pop()}`,
    );
  }
  // Report the command the caller asked for, not the ssh wrapper around it.
  return { ...result, command: argv[0] as string, args: argv.slice(1) };
}

/** Names a shell can export, and values that fit on one line of its stdin. */
function checkEnvironment(env: Record<string, string> | undefined): void {
  for (const [name, value] of Object.entries(env ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || /[\n\0]/.test(value)) {
      throw new UsageError(`environment variable ${name} cannot be sent over ssh`);
    }
  }
}

/** Why the first command shell did not start: the login, or its `sudo -n`. */
function startFailure(error: unknown, login: string): Error {
  if (!(error instanceof ShellStartError)) return error as Error;
  if (error.login === null) {
    return new IncompleteError(
      "E_SSH",
      `could not run a command on ${login}: ${error.stderr || error.message}`,
      { cause: error },
    );
  }
  if (error.login === 0) return error;
  return new IncompleteError(
    "E_SSH_SUDO",
    `the login on ${login} is not root and \`sudo -n\` does not work there (${error.stderr || "the shell ended"}); koffer never types a sudo password: log in as root, or allow this user sudo without a password (NOPASSWD) for the run`,
    { cause: error },
  );
}

/** A channel of the shared connection running `argv` (every word quoted for the login shell). */
function openChannel(
  baseArgs: string[],
  destination: SshDestination,
  argv: string[],
): Promise<SpawnedProcess> {
  return spawnPiped("ssh", [
    ...baseArgs,
    "-o",
    "ControlMaster=no",
    "-T",
    "--",
    sshTarget(destination),
    argv.map(shellQuote).join(" "),
  ]);
}

/**
 * A command shell (src/targets/ssh-commands.ts) on a channel of the shared connection: the
 * login shell runs {@link commandShellLogin}, which becomes the shell, through `sudo -n` unless
 * the login is root.
 */
function openCommandShell(
  baseArgs: string[],
  destination: SshDestination,
): Promise<SpawnedProcess> {
  return openChannel(baseArgs, destination, [
    "sh",
    "-c",
    commandShellLogin,
    "koffer",
    commandShellScript,
  ]);
}

/** The streaming file reader (src/targets/ssh-tar.ts), through `sudo -n` unless root. */
function openTarReader(
  baseArgs: string[],
  destination: SshDestination,
  root: boolean,
): Promise<SpawnedProcess> {
  return openChannel(baseArgs, destination, [
    ...(root ? [] : ["sudo", "-n", "--"]),
    ...tarReaderArgv,
  ]);
}

async function openSftp(
  baseArgs: string[],
  destination: SshDestination,
  root: boolean,
  login: string,
): Promise<{ client: SftpClient; process: SpawnedProcess }> {
  const child = await spawnPiped("ssh", [
    ...baseArgs,
    "-o",
    "ControlMaster=no",
    "-T",
    ...(root ? ["-s"] : []),
    "--",
    sshTarget(destination),
    root ? "sftp" : `sudo -n -- ${sftpServer}`,
  ]);
  const closed = child.exited.then(
    (code) =>
      new IncompleteError(
        root ? "E_SSH_SFTP" : "E_SSH_SUDO",
        `cannot open an SFTP channel on ${login} (exit ${code}): ${child.stderr().trim().split("\n").pop() ?? ""}${root ? "" : ` — is ${sftpServer} there (openssh-sftp-server) and may this user run it with sudo -n?`}`,
      ),
  );
  const client = await SftpClient.start(child.stdin, child.stdout, closed);
  void child.exited.then(() =>
    client.fail(new SftpError(7, `the connection to ${login} was lost`)),
  );
  return { client, process: child };
}

/** What a non-regular file is, for the refusal (st_mode's file type bits). */
function kindOf(mode: number): string {
  const kinds: Record<number, string> = {
    0o010000: "a FIFO",
    0o020000: "a character device",
    0o060000: "a block device",
    0o140000: "a socket",
  };
  return kinds[mode & 0o170000] ?? "not a regular file";
}

function toTargetStat(a: SftpAttrs): TargetStat {
  const fmt = (a.mode ?? 0) & 0o170000;
  return {
    type:
      fmt === 0o100000
        ? "file"
        : fmt === 0o040000
          ? "directory"
          : fmt === 0o120000
            ? "symlink"
            : "other",
    mode: (a.mode ?? 0) & 0o7777,
    uid: a.uid ?? 0,
    gid: a.gid ?? 0,
    size: a.size ?? 0,
    mtimeMs: (a.mtime ?? 0) * 1000,
  };
}
