/**
 * The one exec seam (STYLE.md §3): argument arrays, never a shell string, LC_ALL=C,
 * a timeout, and `reject: false` so a non-zero exit is data, not an exception.
 * execa is imported lazily so `koffer --version` stays fast.
 */
import { IncompleteError, MissingToolError } from "../errors.js";

export interface ExecOptions {
  input?: string | Buffer;
  timeoutMs?: number;
  env?: Record<string, string>;
  cwd?: string;
  /** Return stdout as a Buffer instead of a string. */
  binary?: boolean;
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
  findmnt: "util-linux",
  swapon: "util-linux",
  nft: "nftables",
  ss: "iproute2",
  ssh: "openssh-client",
  sshd: "openssh-server",
  mokutil: "mokutil",
  lynis: "lynis",
  chromium: "chromium",
  xmllint: "libxml2-utils",
  chroot: "coreutils",
  "apt-get": "apt",
  openssl: "openssl",
  dconf: "dconf-cli",
};

/** Run a command. Throws only when it cannot start (missing tool → exit 2 naming the package). */
export async function run(
  command: string,
  args: string[],
  options: ExecOptions = {},
): Promise<ExecResult> {
  const { execa } = await import("execa");
  const result = await execa(command, args, {
    reject: false,
    shell: false,
    stdin: options.input === undefined ? "ignore" : "pipe",
    input: options.input,
    timeout: options.timeoutMs ?? 120_000,
    cwd: options.cwd,
    encoding: options.binary ? "buffer" : "utf8",
    env: { ...options.env, LC_ALL: "C", LANG: "C" },
    extendEnv: true,
    stripFinalNewline: false,
  });
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
