/**
 * The one exec seam (STYLE.md §3): argument arrays, never a shell string, LC_ALL=C,
 * a timeout, and `reject: false` so a non-zero exit is data, not an exception.
 * execa is imported lazily so `koffer --version` stays fast.
 *
 * A child never inherits koffer's environment: it gets {@link childEnvironment} — a short
 * allowlist taken from koffer's own environment plus what the caller passes explicitly.
 * koffer's environment may hold KOFFER_CA_PASSPHRASE, KOFFER_DISK_PASSPHRASE or anything
 * else the technician's shell exported; none of it reaches cryptsetup, apt or an image.
 */
import { IncompleteError, MissingToolError } from "../errors.js";

export interface ExecOptions {
  input?: string | Buffer;
  timeoutMs?: number;
  env?: Record<string, string>;
  cwd?: string;
  /** Return stdout as a Buffer instead of a string. */
  binary?: boolean;
  /**
   * Add what OpenSSH needs (USER, LOGNAME, the ssh agent) to the allowlisted environment
   * of {@link childEnvironment}. The ssh target runs OpenSSH this way.
   */
  isolateEnv?: boolean;
  /**
   * Called with each chunk of stdout as it arrives (progress of a long command); stdout is
   * still collected for the result.
   */
  onStdout?: (text: string) => void;
}

const sshVariables = ["USER", "LOGNAME", "SSH_AUTH_SOCK"];

/** The environment of an OpenSSH child: the allowlist of every child plus the ssh agent. */
export function isolatedEnv(): Record<string, string> {
  const env = childEnvironment();
  for (const name of sshVariables) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

export interface ExecResult {
  command: string;
  args: string[];
  exitCode: number;
  stdout: string;
  stdoutBuffer?: Buffer;
  stderr: string;
  timedOut: boolean;
}

/** Which Debian package provides a command, for the "not installed" error. */
export const debianPackageOf: Record<string, string> = {
  cryptsetup: "cryptsetup-bin",
  "usbguard-rule-parser": "usbguard",
  usbguard: "usbguard",
  "dpkg-query": "dpkg",
  systemctl: "systemd",
  "systemd-cryptenroll": "systemd-cryptsetup",
  swtpm: "swtpm",
  swtpm_setup: "swtpm-tools",
  debootstrap: "debootstrap",
  lsblk: "util-linux",
  blockdev: "util-linux",
  findmnt: "util-linux",
  swapon: "util-linux",
  nft: "nftables",
  ss: "iproute2",
  ssh: "openssh-client",
  "ssh-keyscan": "openssh-client",
  "ssh-keygen": "openssh-client",
  "ansible-playbook": "ansible-core",
  sshd: "openssh-server",
  mokutil: "mokutil",
  lynis: "lynis",
  chromium: "chromium",
  xmllint: "libxml2-utils",
  "systemd-nspawn": "systemd-container",
  setpriv: "util-linux",
  "apt-get": "apt",
  openssl: "openssl",
  dconf: "dconf-cli",
};

/**
 * Variables a child may inherit from koffer's environment. Everything else (KOFFER_*,
 * tokens, proxies with credentials …) stays in koffer.
 */
export const inheritedVariables: readonly string[] = ["PATH", "HOME", "TERM", "TZ", "TMPDIR"];

/** The environment of a child: the allowlist from `parent`, then `extra`, then the C locale. */
export function childEnvironment(
  extra: Record<string, string> = {},
  parent: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of inheritedVariables) {
    const value = parent[name];
    if (value !== undefined) env[name] = value;
  }
  env.PATH ??= "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  return { ...env, ...extra, LC_ALL: "C", LANG: "C" };
}

/** Run a command. Throws only when it cannot start (missing tool → exit 2 naming the package). */
export async function run(
  command: string,
  args: string[],
  options: ExecOptions = {},
): Promise<ExecResult> {
  const { execa } = await import("execa");
  const subprocess = execa(command, args, {
    reject: false,
    shell: false,
    stdin: options.input === undefined ? "ignore" : "pipe",
    input: options.input,
    timeout: options.timeoutMs ?? 120_000,
    cwd: options.cwd,
    encoding: options.binary ? "buffer" : "utf8",
    env: options.isolateEnv
      ? { ...isolatedEnv(), ...options.env, LC_ALL: "C", LANG: "C" }
      : childEnvironment(options.env),
    extendEnv: false,
    stripFinalNewline: false,
  });
  const onStdout = options.onStdout;
  if (onStdout !== undefined)
    subprocess.stdout?.on("data", (chunk: Buffer | string) => onStdout(String(chunk)));
  const result = await subprocess;
  const spawnError = (result as { code?: string }).code;
  if (result.failed && result.exitCode === undefined && !result.timedOut) {
    if (spawnError === "ENOENT") {
      throw new MissingToolError(command, debianPackageOf[command] ?? command);
    }
    throw new IncompleteError(
      "E_EXEC",
      `could not run ${command}: ${result.shortMessage ?? String(result.cause)}`,
      {
        cause: result.cause,
      },
    );
  }
  const stdoutBuffer = options.binary
    ? Buffer.from(result.stdout as unknown as Uint8Array)
    : undefined;
  return {
    command,
    args,
    exitCode: result.exitCode ?? -1,
    stdout: options.binary ? "" : String(result.stdout ?? ""),
    stdoutBuffer,
    stderr:
      typeof result.stderr === "string"
        ? result.stderr
        : Buffer.from(result.stderr as Uint8Array).toString("utf8"),
    timedOut: result.timedOut,
  };
}

/**
 * `promise`, or undefined once `ms` passed, whichever comes first. The timer is cleared when
 * the promise settles: a bare `setTimeout` in a race keeps the process alive until it fires
 * (two such 2 s waits held every ssh run open for 2 s after its output was written).
 */
export async function settledWithin<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<undefined>((resolve) => (timer = setTimeout(resolve, ms, undefined))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export interface SpawnedProcess {
  readonly pid: number | undefined;
  readonly stdin: import("node:stream").Writable;
  readonly stdout: import("node:stream").Readable;
  /** stderr collected as text (never echoed: it may be shown in an error message). */
  stderr(): string;
  /** Resolves with the exit code (or -1 when killed by a signal) once the process ended. */
  readonly exited: Promise<number>;
  kill(): void;
}

/**
 * Start a long-lived command with piped stdin/stdout (an SFTP channel): the same rules as
 * {@link run} — argument array, no shell, LC_ALL=C — but the caller streams its I/O.
 */
export async function spawnPiped(command: string, args: string[]): Promise<SpawnedProcess> {
  const { spawn } = await import("node:child_process");
  const child = spawn(command, args, {
    shell: false,
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...isolatedEnv(), LC_ALL: "C", LANG: "C" },
  });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (s: string) => {
    if (stderr.length < 64 * 1024) stderr += s;
  });
  const exited = new Promise<number>((resolve, reject) => {
    child.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "ENOENT"
          ? new MissingToolError(command, debianPackageOf[command] ?? command)
          : new IncompleteError("E_EXEC", `could not run ${command}: ${error.message}`),
      ),
    );
    child.once("close", (code) => resolve(code ?? -1));
  });
  exited.catch(() => undefined);
  return {
    pid: child.pid,
    stdin: child.stdin,
    stdout: child.stdout,
    stderr: () => stderr,
    exited,
    kill: () => child.kill("SIGTERM"),
  };
}
