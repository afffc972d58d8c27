/**
 * The ssh target against OpenSSH's own sshd on 127.0.0.1: key login as root and as a sudo
 * user, host keys (unknown, changed, pinned, hashed, @revoked, @cert-authority), SFTP reads,
 * atomic writes, the lock and journal primitives, and secrets kept out of command lines.
 */
import { execa } from "execa";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, readdir, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FileRefusedError, KofferError } from "../../src/errors.js";
import { ReadBudget } from "../../src/targets/files.js";
import { SshTarget } from "../../src/targets/ssh.js";
import { SftpClient, openFlags, status } from "../../src/targets/sftp.js";
import { gatherFacts } from "../../src/facts/index.js";
import { koffer } from "../helpers/cli.js";
import {
  addUser,
  sshdSkipReason,
  startSshd,
  type TestSshd,
  type TestUser,
} from "../helpers/sshd.js";

const skip = sshdSkipReason();

async function failure(promise: Promise<unknown>): Promise<KofferError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof KofferError) return error;
    throw error;
  }
  throw new Error("expected the connection to fail");
}

describe.skipIf(skip !== null)("ssh target on a real sshd", () => {
  let sshd: TestSshd;
  let data: string;
  const users: TestUser[] = [];

  let admin: TestUser;

  beforeAll(async () => {
    sshd = await startSshd();
    data = join(sshd.dir, "data");
    await mkdir(data, { mode: 0o755 });
    admin = await addUser(sshd, "nopasswd");
    users.push(admin);
  }, 30_000);

  afterAll(async () => {
    for (const u of users) await u.remove();
    await sshd?.stop();
  });

  const open = (user = "root", extra: Partial<Parameters<typeof SshTarget.open>[0]> = {}) =>
    SshTarget.open({
      destination: sshd.destination(user),
      identityFile: sshd.identity,
      knownHostsFile: sshd.knownHosts,
      ...extra,
    });

  it("logs in as root with a key and reads files over SFTP", async () => {
    const target = await open();
    try {
      expect(target.root).toBe(true);
      expect(await target.readText("/etc/os-release")).toBe(
        await readFile("/etc/os-release", "utf8"),
      );
      expect(await target.readFile("/nonexistent/file")).toBeNull();
      expect(await target.readFile("/etc")).toBeNull();
      const s = await target.stat("/etc/shadow");
      const local = await stat("/etc/shadow");
      expect(s).toMatchObject({ type: "file", mode: local.mode & 0o7777, uid: 0 });
      expect(await target.readDir("/etc/ssh")).toEqual((await readdir("/etc/ssh")).sort());
      expect(await target.readDir("/etc/os-release")).toBeNull();
      // /proc files report size 0: read until EOF.
      expect((await target.readText("/proc/sys/kernel/hostname"))?.trim()).toBe(
        (await readFile("/proc/sys/kernel/hostname", "utf8")).trim(),
      );
      const id = await target.exec("id", ["-u"]);
      expect(id).toMatchObject({ exitCode: 0, stdout: "0\n", command: "id" });
      const quoted = await target.exec("printf", ["%s|", "a b", "it's", "$HOME", "`x`"]);
      expect(quoted.stdout).toBe("a b|it's|$HOME|`x`|");
      const code = await target.exec("sh", ["-c", "exit 3"]);
      expect(code.exitCode).toBe(3);
    } finally {
      await target.close();
    }
  });

  it("close() leaves no timer behind that would keep koffer running after its output", async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    const before = timers();
    const target = await open(admin.name);
    await target.exec("true", []);
    await target.readText("/etc/hostname");
    const started = Date.now();
    await target.close();
    // The shells and the SFTP server end at once when their stdin closes: no 2 s wait.
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(timers()).toBeLessThanOrEqual(before);
  });

  it("a gather costs at most five ssh processes: master, SFTP, the file reader and up to two command shells (no channel per command or file)", async () => {
    // An `ssh` first on PATH that logs each invocation: the target starts OpenSSH by name.
    const bin = join(sshd.dir, "counting-bin");
    const log = join(sshd.dir, "ssh-invocations");
    await mkdir(bin, { recursive: true });
    await writeFile(
      join(bin, "ssh"),
      `#!/bin/sh\necho "$*" | tr "\\n" " " >> ${log}\necho >> ${log}\nexec /usr/bin/ssh "$@"\n`,
      {
        mode: 0o755,
      },
    );
    await writeFile(log, "");
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`;
    let execs = 0;
    try {
      const target = await open(admin.name);
      const exec = target.exec.bind(target);
      target.exec = (command, args, options) => {
        execs++;
        return exec(command, args, options);
      };
      try {
        // The areas that run commands (systemctl with an environment, lsblk, findmnt …).
        const facts = await gatherFacts(
          target,
          { profile: null },
          { areas: ["disk", "services", "network", "logging"] },
        );
        expect(facts.gatherErrors).toEqual([]);
      } finally {
        await target.close();
      }
    } finally {
      process.env.PATH = path;
    }
    const runs = (await readFile(log, "utf8")).split("\n").filter((l) => l !== "");
    const kinds = runs.map((l) =>
      /ControlMaster=yes/.test(l)
        ? "master"
        : / -O /.test(l)
          ? "control"
          : /sftp/.test(l)
            ? "sftp"
            : / tar -c -f /.test(l)
              ? "tar"
              : /koffer-login/.test(l)
                ? "shell"
                : "channel",
    );
    console.log(`${execs} commands over ${runs.length} ssh processes: ${kinds.join(", ")}`);
    expect(execs).toBeGreaterThanOrEqual(6);
    // The second command shell opens only when a command waits for the first: with the file
    // reads on tar, a gather may get along with one (seen at load 9); never more than two.
    expect(kinds.filter((k) => k !== "shell").sort()).toEqual(["master", "sftp", "tar"]);
    expect(kinds.filter((k) => k === "shell").length).toBeGreaterThanOrEqual(1);
    expect(kinds.filter((k) => k === "shell").length).toBeLessThanOrEqual(2);
  }, 180_000);

  it("verify --ssh with a broken profile: exit 78, and the connection opened beside it is closed", async () => {
    const masters = async () => {
      const out: string[] = [];
      for (const pid of await readdir("/proc")) {
        const cmd = await readFile(`/proc/${pid}/cmdline`, "latin1").catch(() => "");
        if (cmd.includes("ControlMaster=yes") && cmd.includes(`\0${sshd.port}\0`)) out.push(pid);
      }
      return out;
    };
    const broken = join(sshd.dir, "broken.yaml");
    await writeFile(broken, "apiVersion: koffer/v1\nkind: Profile\nmetadata: {}\n");
    const r = await koffer([
      "verify",
      "--ssh",
      sshd.destination(admin.name),
      "--ssh-identity",
      sshd.identity,
      "--known-hosts",
      sshd.knownHosts,
      "--profile",
      broken,
    ]);
    expect(r.exitCode, r.stderr).toBe(78);
    expect(r.stderr).toContain("broken.yaml");
    expect(await masters()).toEqual([]);
  });

  it("sends the environment over stdin: a secret is in no command line on the far side", async () => {
    const target = await open(admin.name);
    const secret = `pin-${Math.random().toString(36).slice(2)}`;
    try {
      const r = await target.exec(
        "sh",
        [
          "-c",
          'tr "\\0" " " < /proc/$$/cmdline; echo; tr "\\0" " " < /proc/$PPID/cmdline; echo; printf "%s\\n" "$KOFFER_T"; cat',
        ],
        { env: { KOFFER_T: secret }, input: "stdin after the environment\n" },
      );
      const [own, parent, value, rest] = r.stdout.split("\n");
      expect(own).toContain("sh -c");
      expect(parent).toBeTruthy(); // sshd or the login shell that ran the command string
      expect(own).not.toContain(secret);
      expect(parent).not.toContain(secret);
      expect(value).toBe(secret);
      expect(rest).toBe("stdin after the environment");
    } finally {
      await target.close();
    }
  });

  it("writes atomically with mode and owner, replaces, creates exclusively and appends", async () => {
    const target = await open(admin.name);
    const file = `${data}/atomic.conf`;
    try {
      await target.writeFileAtomic(file, "one\n", { mode: 0o640, uid: 1234, gid: 4321 });
      let s = await stat(file);
      expect([s.mode & 0o7777, s.uid, s.gid]).toEqual([0o640, 1234, 4321]);
      const big = Buffer.alloc(700 * 1024, 7);
      await target.writeFileAtomic(file, big, { mode: 0o600 });
      expect((await readFile(file)).equals(big)).toBe(true);
      s = await stat(file);
      expect(s.mode & 0o7777).toBe(0o600);
      expect((await readdir(data)).filter((n) => n.includes(".koffer-"))).toEqual([]);
      expect((await target.readFile(file))?.equals(big)).toBe(true);

      await target.mkdirp(`${data}/a/b/c`, 0o700);
      expect((await stat(`${data}/a/b/c`)).isDirectory()).toBe(true);
      expect(await target.createExclusive(`${data}/a/lock`, "first\n", 0o600)).toBe(true);
      expect(await target.createExclusive(`${data}/a/lock`, "second\n", 0o600)).toBe(false);
      expect(await readFile(`${data}/a/lock`, "utf8")).toBe("first\n");
      await target.appendFile(`${data}/a/journal`, "1\n", 0o600);
      await target.appendFile(`${data}/a/journal`, "2\n", 0o600);
      expect(await readFile(`${data}/a/journal`, "utf8")).toBe("1\n2\n");
      await execa("ln", ["-s", "../atomic.conf", `${data}/a/link`]);
      expect(await target.readLink(`${data}/a/link`)).toBe("../atomic.conf");
      expect(await target.readLink(`${data}/a/lock`)).toBeNull();
      expect((await target.lstat(`${data}/a/link`))?.type).toBe("symlink");
      expect((await target.stat(`${data}/a/link`))?.type).toBe("file");
      await target.remove(`${data}/a`);
      await expect(stat(`${data}/a`)).rejects.toThrow();
      await target.remove(`${data}/a`); // missing is fine
    } finally {
      await target.close();
    }
  });

  it("refuses an unknown host key with exit 2, naming its fingerprint", async () => {
    const empty = join(sshd.dir, "empty_known_hosts");
    await writeFile(empty, "");
    const error = await failure(open("root", { knownHostsFile: empty }));
    expect(error.exitCode).toBe(2);
    expect(error.code).toBe("E_SSH_HOST_KEY");
    expect(error.message).toContain("not known");
    expect(error.message).toContain(sshd.fingerprint);
  });

  it("accepts hashed known_hosts entries and refuses an @revoked key", async () => {
    const hashed = join(sshd.dir, "hashed_known_hosts");
    await writeFile(hashed, await readFile(sshd.knownHosts));
    await execa("ssh-keygen", ["-H", "-f", hashed]);
    expect(await readFile(hashed, "utf8")).toMatch(/^\|1\|/);
    const target = await open(admin.name, { knownHostsFile: hashed });
    await target.close();

    const revoked = join(sshd.dir, "revoked_known_hosts");
    const line = (await readFile(sshd.knownHosts, "utf8")).trim();
    await writeFile(revoked, `@revoked ${line}\n${line}\n`);
    const error = await failure(open("root", { knownHostsFile: revoked }));
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain("REVOKED");
    expect(error.message).toContain(sshd.fingerprint);
  });

  it("trusts a host certificate through @cert-authority alone", async () => {
    expect(await readFile(sshd.caKnownHosts, "utf8")).toMatch(/^@cert-authority /);
    const target = await open(admin.name, { knownHostsFile: sshd.caKnownHosts });
    expect((await target.exec("true", [])).exitCode).toBe(0);
    await target.close();
  });

  it("connects with a pinned fingerprint and refuses a wrong one, naming what it saw", async () => {
    const target = await SshTarget.open({
      destination: sshd.destination(admin.name),
      identityFile: sshd.identity,
      hostKeyFingerprint: sshd.fingerprint,
    });
    expect((await target.exec("true", [])).exitCode).toBe(0);
    await target.close();
    const wrong = "SHA256:" + "A".repeat(43);
    const error = await failure(
      SshTarget.open({
        destination: sshd.destination("root"),
        identityFile: sshd.identity,
        hostKeyFingerprint: wrong,
      }),
    );
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain(wrong);
    expect(error.message).toContain(sshd.fingerprint);
  });

  it("a user with sudo NOPASSWD reads root-only files and writes root-owned ones", async () => {
    const target = await open(admin.name);
    try {
      expect(target.root).toBe(false);
      expect(await target.readText("/etc/shadow")).toBe(await readFile("/etc/shadow", "utf8"));
      expect((await target.exec("id", ["-u"])).stdout).toBe("0\n");
      await target.writeFileAtomic(`${data}/by-sudo`, "x", { mode: 0o600, uid: 0, gid: 0 });
      const s = await stat(`${data}/by-sudo`);
      expect([s.uid, s.mode & 0o777]).toEqual([0, 0o600]);
    } finally {
      await target.close();
    }
  });

  it("runs plain commands in one sudo'd shell for the run, its output in a private /run directory", async () => {
    const target = await open(admin.name);
    let dir = "";
    try {
      const [a, b] = await Promise.all([
        target.exec("readlink", ["/proc/self/fd/1"]),
        target.exec("readlink", ["/proc/self/fd/1"]),
      ]);
      const c = await target.exec("readlink", ["/proc/self/fd/1"]);
      // Two shells at most, reused: no channel, sudo and shell per command.
      expect(new Set([a, b, c].map((r) => r.stdout)).size).toBeLessThanOrEqual(2);
      expect([a.stdout, b.stdout]).toContain(c.stdout);
      dir = c.stdout.trim().replace(/\/o$/, "");
      expect(dir).toMatch(/^\/run\/koffer-exec\./);
      const s = await stat(dir);
      expect([s.uid, s.mode & 0o777]).toEqual([0, 0o700]);
      expect((await target.exec("id", ["-u"])).stdout).toBe("0\n");
    } finally {
      await target.close();
    }
    expect(existsSync(dir)).toBe(false);
  });

  it("reads only regular files (streamed by tar, else SFTP), within the per-file cap and the run's budget", async () => {
    const target = await open(admin.name);
    try {
      await execa("mkfifo", [`${data}/fifo`]);
      await symlink(`${data}/fifo`, `${data}/link-to-fifo`);
      for (const path of [`${data}/fifo`, `${data}/link-to-fifo`, "/dev/zero"]) {
        const error = await target.readFile(path).catch((e: unknown) => e);
        expect(error, path).toBeInstanceOf(FileRefusedError);
        expect((error as FileRefusedError).reason, path).toBe("type");
      }
      // A file masked by a link to /dev/null (systemd, sysctl.d) reads as empty, not refused.
      await symlink("/dev/null", `${data}/masked.conf`);
      expect((await target.readFile(`${data}/masked.conf`))?.length).toBe(0);
      // Sizes around the SFTP read size (255 KiB) and tar's blocks: byte for byte.
      for (const size of [0, 1, 261_119, 261_120, 261_121, 700_000]) {
        const bytes = Buffer.alloc(size, size % 251);
        await writeFile(`${data}/sized`, bytes);
        expect((await target.readFile(`${data}/sized`))?.equals(bytes), String(size)).toBe(true);
      }
      // The reads above came from the tar reader (one round trip each), not SFTP.
      expect(target.tar.waves).toBeGreaterThanOrEqual(6);
      await expect(target.readFile(`${data}/sized`, { maxBytes: 699_999 })).rejects.toMatchObject({
        reason: "size",
      });
      // A refusal ends the reader's channel (tar would go on sending): SFTP from here on,
      // under the same rules.
      expect(await target.readText(`${data}/sized`.replace("sized", "none"))).toBeNull();
      for (const path of [`${data}/fifo`, "/dev/zero"]) {
        await expect(target.readFile(path), path).rejects.toMatchObject({ reason: "type" });
      }
      expect((await target.readFile(`${data}/masked.conf`))?.length).toBe(0);
      await expect(target.readFile(`${data}/sized`, { maxBytes: 699_999 })).rejects.toMatchObject({
        reason: "size",
      });
      target.budget = new ReadBudget(1_000_000);
      await target.readFile(`${data}/sized`);
      await expect(target.readFile(`${data}/sized`)).rejects.toMatchObject({ reason: "budget" });
    } finally {
      await target.close();
    }
  });

  it("reads a regular file that cannot seek (as efivarfs) through the shell, within the same limits", async () => {
    // sftp-server seeks before every READ; efivarfs (Secure Boot's state) cannot seek and the
    // READ fails with a bare "Failure". Not on this host (no UEFI): tracefs's
    // saved_cmdlines_size is the same kind of file (regular, size 0, no llseek).
    const dir = await mkdtemp(join(sshd.dir, "tracefs-"));
    await execa("mount", ["-t", "tracefs", "nodev", dir]);
    try {
      const file = join(dir, "saved_cmdlines_size");
      const expected = await readFile(file);
      expect(expected.length).toBeGreaterThan(0);
      // The precondition: OpenSSH's sftp-server itself opens the file and fails to READ it.
      const server = spawn("/usr/lib/openssh/sftp-server", [], {
        stdio: ["pipe", "pipe", "ignore"],
      });
      try {
        const sftp = await SftpClient.start(server.stdin, server.stdout, new Promise(() => {}));
        const handle = await sftp.open(file, openFlags.read);
        await expect(sftp.read(handle, 0)).rejects.toMatchObject({ status: status.failure });
      } finally {
        server.kill();
      }
      for (const user of ["root", admin.name]) {
        const target = await open(user);
        try {
          expect((await target.readFile(file))?.equals(expected), user).toBe(true);
          await expect(target.readFile(file, { maxBytes: 1 })).rejects.toMatchObject({
            reason: "size",
          });
          // A directory of that file system reads as null, as elsewhere; a missing file too.
          expect(await target.readFile(`${dir}/no-such-file`)).toBeNull();
          expect(await target.readFile(`${dir}/options`)).toBeNull();
        } finally {
          await target.close();
        }
      }
    } finally {
      await execa("umount", [dir]);
    }
  });

  it("a user whose sudo wants a password: exit 2, koffer never types one", async () => {
    const user = await addUser(sshd, "password");
    users.push(user);
    const error = await failure(open(user.name));
    expect(error.exitCode).toBe(2);
    expect(error.code).toBe("E_SSH_SUDO");
    expect(error.message).toContain("sudo -n");
    expect(error.message).toContain("password");
  });

  // This kernel has no sch_netem, so the slow link is a ProxyCommand (test/helpers/slow-proxy.mjs)
  // that delays and rate-limits in order; an earlier proxy reordered chunks and ssh dropped
  // the connection, which looked like an SFTP bug.
  it("a slow link (100 ms round trip, 1 Mbit/s) gathers the same facts as a fast one", async () => {
    const config = join(sshd.dir, "slow_config");
    const proxy = join(import.meta.dirname, "..", "helpers", "slow-proxy.mjs");
    const count = join(sshd.dir, "slow_bytes");
    await writeFile(config, `ProxyCommand ${process.execPath} ${proxy} %h %p 50 125000 ${count}\n`);
    // apps reads the host's whole dpkg database (10 MB here): the rig test provisions a laptop
    // with it over this link; these areas keep the loopback test short.
    const areas = ["accounts", "boot", "logging", "updates"] as const;
    const gather = async (extra: Partial<Parameters<typeof SshTarget.open>[0]>) => {
      const started = Date.now();
      const target = await open(admin.name, extra);
      try {
        const facts = await gatherFacts(target, { profile: null }, { areas: [...areas] });
        return { facts, seconds: (Date.now() - started) / 1000 };
      } finally {
        await target.close();
      }
    };
    const fast = await gather({});
    const slow = await gather({ configFile: config });
    expect(slow.facts.gatherErrors).toEqual([]);
    console.log(
      `facts (${areas.join(", ")}) over ssh: ${fast.seconds.toFixed(1)} s on loopback, ${slow.seconds.toFixed(1)} s over the slow link`,
    );
    // The slow link really carried the session, and was slow.
    expect(Number((await readFile(count, "utf8")).trim())).toBeGreaterThan(50_000);
    expect(slow.seconds).toBeGreaterThan(fast.seconds);
    for (const area of areas) {
      expect(JSON.stringify(slow.facts[area]), area).toBe(JSON.stringify(fast.facts[area]));
    }
  }, 180_000);

  it("a refused login is exit 2 with the reason", async () => {
    const error = await failure(open("nobody"));
    expect(error.exitCode).toBe(2);
    expect(error.code).toBe("E_SSH_AUTH");
  });

  it("the host key changed: exit 2, CHANGED and the new fingerprint", async () => {
    const before = sshd.fingerprint;
    const after = await sshd.changeHostKey();
    expect(after).not.toBe(before);
    const error = await failure(open());
    expect(error.exitCode).toBe(2);
    expect(error.code).toBe("E_SSH_HOST_KEY");
    expect(error.message).toContain("CHANGED");
    expect(error.message).toContain(after);
    // Nothing was accepted: known_hosts still holds only the old key.
    expect(await readFile(sshd.knownHosts, "utf8")).not.toContain(after.slice(7, 20));
  }, 30_000);
});

describe.skipIf(skip !== null)("ssh target algorithms (BSI TR-02102-4)", () => {
  let sshd: TestSshd;
  afterAll(async () => {
    await sshd?.stop();
  });

  it("a server offering only curve25519 key exchange is refused, exit 2", async () => {
    sshd = await startSshd({ extraConfig: "KexAlgorithms curve25519-sha256" });
    const error = await failure(
      SshTarget.open({
        destination: sshd.destination("root"),
        identityFile: sshd.identity,
        knownHostsFile: sshd.knownHosts,
      }),
    );
    expect(error.exitCode).toBe(2);
    expect(error.code).toBe("E_SSH_ALGORITHMS");
    expect(error.message).toContain("key exchange");
  }, 30_000);
});
