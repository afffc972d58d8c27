/**
 * A software TPM 2.0 on loopback (swtpm), for TPM2 enrolment with systemd-cryptenroll
 * through the `swtpm:` TCTI. Each instance has its own state directory and ports.
 */
import { execa, type ResultPromise } from "execa";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { processStart, track, undoLeftover, type Leftover } from "../rig/cleanup.js";

export interface Swtpm {
  /** The value for `--tpm2-device=` / `systemd-cryptenroll --tpm2-device=`. */
  device: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

async function waitForPort(port: number, deadline: number): Promise<void> {
  const { connect } = await import("node:net");
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`swtpm did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startSwtpm(): Promise<Swtpm> {
  const dir = await mkdtemp(join(tmpdir(), "koffer-swtpm-"));
  // The swtpm TCTI talks to the control channel on the server port + 1.
  let port = await freePort();
  while (port >= 65535 || !(await portFree(port + 1))) port = await freePort();
  const ctrl = port + 1;
  const proc: ResultPromise = execa(
    "swtpm",
    [
      "socket",
      "--tpm2",
      "--tpmstate",
      `dir=${dir}`,
      "--server",
      `type=tcp,port=${port},bindaddr=127.0.0.1`,
      "--ctrl",
      `type=tcp,port=${ctrl},bindaddr=127.0.0.1`,
      "--flags",
      "not-need-init,startup-clear",
    ],
    { reject: false },
  );
  // Recorded by pid and start time, so a run killed with -9 leaves no swtpm for long (the
  // next rig run's sweeper ends it); the records live in /run, which only root may write.
  const pid = proc.pid ?? 0;
  const item: Leftover = {
    kind: "machine",
    name: `kof-swtpm-${pid}`,
    nspawnPid: pid,
    nspawnStart: processStart(pid),
    dir,
  };
  const untrack = process.getuid?.() === 0 ? track(item, () => undoLeftover(item)) : () => {};
  await waitForPort(port, Date.now() + 10_000);
  return {
    device: `swtpm:host=127.0.0.1,port=${port}`,
    stop: async () => {
      proc.kill("SIGTERM");
      await proc;
      untrack();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
