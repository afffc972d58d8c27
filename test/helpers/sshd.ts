/**
 * A real OpenSSH sshd for the ssh target's tests: its own config, host keys and
 * authorized_keys in a private directory, listening on 127.0.0.1 (or an address inside a
 * network namespace the test made), run in the foreground as a child and stopped at the end.
 * Throwaway users (for the sudo cases) are created with a unique name and removed again,
 * also when the test process is interrupted.
 */
import { execa, execaSync } from "execa";
import { existsSync, rmSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";

export function sshdSkipReason(): string | null {
  if (process.getuid?.() !== 0) return "needs root (sshd with its own host keys, throwaway users)";
  for (const tool of ["/usr/sbin/sshd", "/usr/bin/ssh", "/usr/bin/ssh-keygen", "/usr/bin/sudo"]) {
    if (!existsSync(tool)) return `${tool} is missing (scripts/setup.sh installs it)`;
  }
  return null;
}

export interface TestSshd {
  readonly dir: string;
  readonly address: string;
  readonly port: number;
  /** known_hosts with the server's ECDSA key for [address]:port. */
  readonly knownHosts: string;
  /** known_hosts with only `@cert-authority` for the CA that certified the host key. */
  readonly caKnownHosts: string;
  /** The client's private key (ECDSA P-384), authorised for root and every added user. */
  readonly identity: string;
  /** SHA256 fingerprint of the server's ECDSA host key, as ssh-keygen -lf prints it. */
  readonly fingerprint: string;
  destination(user: string): string;
  /** Replace the host keys (a reinstalled laptop, or a man in the middle) and restart. */
  changeHostKey(): Promise<string>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

async function fingerprintOf(pub: string): Promise<string> {
  const r = await execa("ssh-keygen", ["-lf", pub]);
  return r.stdout.split(/\s+/)[1] as string;
}

const cleanups = new Set<() => void>();
let hooked = false;
function onExit(undo: () => void): () => void {
  cleanups.add(undo);
  if (!hooked) {
    hooked = true;
    const all = () => {
      for (const u of cleanups) {
        try {
          u();
        } catch {
          // best effort
        }
      }
      cleanups.clear();
    };
    process.once("exit", all);
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      process.once(signal, () => {
        all();
        process.exit(130);
      });
    }
  }
  return () => cleanups.delete(undo);
}

export async function startSshd(
  options: { netns?: string; address?: string; port?: number; extraConfig?: string } = {},
): Promise<TestSshd> {
  const dir = await mkdtemp(join(tmpdir(), "koffer-sshd-"));
  await chmod(dir, 0o755);
  const address = options.address ?? "127.0.0.1";
  const port = options.port ?? (options.netns === undefined ? await freePort() : 2222);
  // known_hosts names the default port's host bare, any other as [host]:port.
  const hostEntry = port === 22 ? address : `[${address}]:${port}`;
  await mkdir(join(dir, "keys"), { mode: 0o700 });
  await mkdir(join(dir, "authorized"), { mode: 0o755 });
  const makeHostKeys = async () => {
    for (const [type, bits] of [
      ["ecdsa", "256"],
      ["ed25519", ""],
    ]) {
      const file = join(dir, "keys", `host_${type}`);
      await rm(file, { force: true });
      await rm(`${file}.pub`, { force: true });
      await execa("ssh-keygen", [
        "-q",
        "-t",
        type as string,
        ...(bits ? ["-b", bits] : []),
        "-N",
        "",
        "-f",
        file,
      ]);
    }
    const pub = (await readFile(join(dir, "keys", "host_ecdsa.pub"), "utf8")).split(" ");
    await writeFile(join(dir, "known_hosts"), `${hostEntry} ${pub[0]} ${pub[1]}\n`);
    // A host certificate from a host CA, for `@cert-authority` in known_hosts.
    const ca = join(dir, "keys", "host_ca");
    if (!existsSync(ca)) {
      await execa("ssh-keygen", ["-q", "-t", "ecdsa", "-b", "384", "-N", "", "-f", ca]);
    }
    await rm(join(dir, "keys", "host_ecdsa-cert.pub"), { force: true });
    await execa("ssh-keygen", [
      "-q",
      "-s",
      ca,
      "-I",
      "koffer-test-host",
      "-h",
      "-n",
      address,
      "-V",
      "-1d:+1d",
      join(dir, "keys", "host_ecdsa.pub"),
    ]);
    const caPub = (await readFile(`${ca}.pub`, "utf8")).split(" ");
    await writeFile(
      join(dir, "ca_known_hosts"),
      `@cert-authority ${hostEntry} ${caPub[0]} ${caPub[1]}\n`,
    );
    return fingerprintOf(join(dir, "keys", "host_ecdsa.pub"));
  };
  let fingerprint = await makeHostKeys();
  const identity = join(dir, "client_key");
  await execa("ssh-keygen", ["-q", "-t", "ecdsa", "-b", "384", "-N", "", "-f", identity]);
  const clientPub = await readFile(`${identity}.pub`, "utf8");
  await writeFile(join(dir, "authorized", "root"), clientPub, { mode: 0o644 });
  const config = join(dir, "sshd_config");
  await writeFile(
    config,
    [
      `ListenAddress ${address}:${port}`,
      `HostKey ${join(dir, "keys", "host_ecdsa")}`,
      `HostKey ${join(dir, "keys", "host_ed25519")}`,
      `HostCertificate ${join(dir, "keys", "host_ecdsa-cert.pub")}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${join(dir, "authorized", "%u")}`,
      "StrictModes no",
      "UsePAM no",
      "PermitRootLogin prohibit-password",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "Subsystem sftp /usr/lib/openssh/sftp-server",
      "LogLevel ERROR",
      options.extraConfig ?? "",
      "",
    ].join("\n"),
  );
  await mkdir("/run/sshd", { recursive: true, mode: 0o755 });
  let child: ReturnType<typeof execa> | null = null;
  const start = async () => {
    const argv = ["/usr/sbin/sshd", "-D", "-e", "-f", config];
    child =
      options.netns === undefined
        ? execa(argv[0] as string, argv.slice(1), { reject: false, stdin: "ignore" })
        : execa("ip", ["netns", "exec", options.netns, ...argv], {
            reject: false,
            stdin: "ignore",
          });
    const deadline = Date.now() + 10_000;
    const scan = ["ssh-keyscan", "-T", "1", "-t", "ecdsa", "-p", String(port), address];
    for (;;) {
      const probe =
        options.netns === undefined
          ? await execa(scan[0] as string, scan.slice(1), { reject: false })
          : await execa("ip", ["netns", "exec", options.netns, ...scan], { reject: false });
      if (String(probe.stdout).includes("ecdsa")) return;
      if (Date.now() > deadline) throw new Error(`sshd did not come up on ${address}:${port}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const kill = () => {
    const c = child as { kill(signal?: string): void } | null;
    c?.kill("SIGTERM");
  };
  const forget = onExit(kill);
  await start();
  return {
    dir,
    address,
    port,
    knownHosts: join(dir, "known_hosts"),
    caKnownHosts: join(dir, "ca_known_hosts"),
    identity,
    get fingerprint() {
      return fingerprint;
    },
    destination: (user) => `${user}@${address}:${port}`,
    async changeHostKey() {
      // Keep the old known_hosts: the client must now see a changed key.
      const old = await readFile(join(dir, "known_hosts"), "utf8");
      kill();
      await (child as unknown as Promise<unknown>);
      fingerprint = await makeHostKeys();
      await writeFile(join(dir, "known_hosts"), old);
      await start();
      return fingerprint;
    },
    async stop() {
      kill();
      await (child as unknown as Promise<unknown>);
      forget();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface TestUser {
  name: string;
  remove(): Promise<void>;
}

/**
 * A throwaway login (`kof-<hex>`) that may use sudo: without a password (`NOPASSWD`), or only
 * with one (which `sudo -n` refuses). Its key is the sshd's client key.
 */
export async function addUser(
  sshd: TestSshd,
  sudo: "nopasswd" | "password" | "none",
): Promise<TestUser> {
  const name = `kof-${randomBytes(4).toString("hex")}`;
  const home = join(sshd.dir, `home-${name}`);
  await execa("useradd", ["-M", "-d", home, "-s", "/bin/sh", name]);
  const sudoers = `/etc/sudoers.d/${name}`;
  const forget = onExit(() => {
    rmSync(sudoers, { force: true });
    execaSync("userdel", [name], { reject: false });
  });
  await mkdir(home, { mode: 0o755 });
  await execa("chown", [name, home]);
  // "*" (not "!"): an unusable password that does not lock the account for key logins.
  await execa("usermod", ["-p", "*", name]);
  await writeFile(join(sshd.dir, "authorized", name), await readFile(`${sshd.identity}.pub`), {
    mode: 0o644,
  });
  if (sudo !== "none") {
    await writeFile(
      sudoers,
      `${name} ALL=(ALL:ALL) ${sudo === "nopasswd" ? "NOPASSWD: " : ""}ALL\n`,
      { mode: 0o440 },
    );
  }
  return {
    name,
    async remove() {
      await rm(sudoers, { force: true });
      await execa("userdel", [name], { reject: false });
      forget();
    },
  };
}
