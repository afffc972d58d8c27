/**
 * The ssh target's command shells (src/targets/ssh-commands.ts), run here with the real
 * `sh` (dash) that runs them on a laptop, started directly instead of through ssh: framing,
 * quoting, binary output, concurrency, time limits, the reply cap and cleanup. The same
 * shells over OpenSSH's sshd are covered in ssh.test.ts.
 */
import { existsSync, statSync } from "node:fs";
import { rm } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import { IncompleteError } from "../../src/errors.js";
import { spawnPiped, type SpawnedProcess } from "../../src/targets/exec.js";
import {
  CommandShells,
  commandShellLogin,
  commandShellScript,
} from "../../src/targets/ssh-commands.js";

const opened: CommandShells[] = [];
const children: SpawnedProcess[] = [];

afterEach(async () => {
  for (const shells of opened.splice(0)) await shells.close();
  for (const child of children.splice(0)) child.kill();
});

function shells(
  limits: { poolSize?: number; maxReplyBytes?: number } = {},
  argv = ["-c", commandShellScript],
): CommandShells {
  const pool = new CommandShells(
    async () => {
      const child = await spawnPiped("sh", argv);
      children.push(child);
      return child;
    },
    "test-laptop",
    limits,
  );
  opened.push(pool);
  return pool;
}

describe("command shells", () => {
  it("run commands with their exit code, stdout and stderr apart, words passed as they are", async () => {
    const pool = shells();
    const r = await pool.run([
      "sh",
      "-c",
      'printf "%s|" "$@"; echo oops >&2; exit 3',
      "x",
      "a b",
      "it's",
      "$HOME",
      "`id`",
      "*",
    ]);
    expect(r).toMatchObject({
      command: "sh",
      exitCode: 3,
      stdout: "a b|it's|$HOME|`id`|*|",
      stderr: "oops\n",
      timedOut: false,
    });
    expect((await pool.run(["true"])).exitCode).toBe(0);
    expect((await pool.run(["/nonexistent/tool"])).exitCode).toBe(127);
  });

  it("return binary output byte for byte, without a final newline too", async () => {
    const pool = shells();
    const r = await pool.run(["printf", "\\000\\377\\n\\012x"], { binary: true });
    expect(r.stdoutBuffer).toEqual(Buffer.from([0, 255, 10, 10, 0x78]));
    const big = await pool.run(["head", "-c", "3000000", "/dev/zero"], { binary: true });
    expect(big.stdoutBuffer?.length).toBe(3_000_000);
  });

  it("answer many commands sent at once, each with its own output, on two shells", async () => {
    const pool = shells();
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => pool.run(["sh", "-c", `echo ${i}; echo e${i} >&2`])),
    );
    results.forEach((r, i) => expect([r.stdout, r.stderr]).toEqual([`${i}\n`, `e${i}\n`]));
    expect(pool.started).toBe(2);
  });

  it("export a command's environment for that command alone, in no command line", async () => {
    const pool = shells({ poolSize: 1 });
    const secret = `pin-${Math.random().toString(36).slice(2)}`;
    const show =
      'printf "%s|" "$KOFFER_T"; tr "\\0" " " < /proc/$$/cmdline; tr "\\0" " " < /proc/$PPID/cmdline';
    const r = await pool.run(["sh", "-c", show], { env: { KOFFER_T: secret, B: "two words" } });
    expect(r.stdout.startsWith(`${secret}|`)).toBe(true);
    expect(r.stdout.slice(secret.length + 1)).not.toContain(secret);
    expect((await pool.run(["sh", "-c", 'printf "%s" "$B"'], { env: { B: "a b" } })).stdout).toBe(
      "a b",
    );
    // The next command of the same shell does not inherit it.
    expect((await pool.run(["sh", "-c", show])).stdout.startsWith("|")).toBe(true);
    expect(pool.started).toBe(1);
  });

  it("started through the login wrapper, name the login's uid and prove the shell ready", async () => {
    const pool = shells({ poolSize: 2 }, ["-c", commandShellLogin, "koffer", commandShellScript]);
    expect(await pool.warm()).toEqual({ uid: process.getuid?.() });
    // warm() started the whole pool at once; commands reuse it.
    expect((await pool.run(["echo", "ok"])).stdout).toBe("ok\n");
    expect(pool.started).toBe(2);
  });

  it("write the output to a private directory in /run and remove it when they end", async () => {
    const pool = shells({ poolSize: 1 });
    const where = (await pool.run(["readlink", "/proc/self/fd/1"])).stdout.trim();
    expect(where).toMatch(/^\/run\/koffer-exec\.[A-Za-z0-9]+\/o$/);
    const dir = where.slice(0, -2);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    await pool.close();
    expect(existsSync(dir)).toBe(false);
  });

  it("end a command at its time limit (exit 124, timedOut) and go on", async () => {
    const pool = shells({ poolSize: 1 });
    const started = Date.now();
    const r = await pool.run(["sleep", "30"], { timeoutMs: 1_000 });
    expect(r).toMatchObject({ exitCode: 124, timedOut: true });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await pool.run(["echo", "next"])).stdout).toBe("next\n");
  });

  it("refuse a reply over the cap: the command fails as a lost connection, not a partial read", async () => {
    const pool = shells({ poolSize: 1, maxReplyBytes: 1_000 });
    const error = await pool.run(["head", "-c", "1001", "/dev/zero"]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IncompleteError);
    expect((error as IncompleteError).code).toBe("E_SSH_LOST");
    expect((error as IncompleteError).message).toContain("more than 1000 bytes");
    // A fresh shell takes the next command.
    expect((await pool.run(["head", "-c", "1000", "/dev/zero"])).stdout.length).toBe(1_000);
    expect(pool.started).toBe(2);
  });

  it("fail the running command when the shell dies (a dropped connection), exit 2", async () => {
    const pool = shells({ poolSize: 1 });
    // Its private directory: a killed shell cannot remove it, the test does.
    const dir = (await pool.run(["readlink", "/proc/self/fd/1"])).stdout.trim().slice(0, -2);
    const running = pool.run(["sleep", "2"]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = Date.now();
    // As when the ssh client dies: the process at our end of the pipes is gone at once.
    for (const child of children) process.kill(child.pid as number, "SIGKILL");
    const error = await running.catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(error).toBeInstanceOf(IncompleteError);
    expect((error as IncompleteError).exitCode).toBe(2);
    // The orphaned `timeout sleep 2` ends by itself; leave nothing running behind the test.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(dir).toMatch(/^\/run\/koffer-exec\./);
    await rm(dir, { recursive: true, force: true });
  });
});
