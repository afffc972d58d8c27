/**
 * A lock file holding the pid of its owner, for caches shared between processes (the
 * debootstrapped roots, apt's .deb archives). A lock whose owner died is taken over: a
 * builder killed with -9 never blocks the next run.
 */
import { open, readFile, unlink } from "node:fs/promises";

/** Is a process with this pid alive (EPERM: alive, but not ours)? */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export interface PidLockOptions {
  /** How often to look again while another live process holds the lock. */
  pollMs?: number;
  /** The error thrown after `timeoutMs`, given the holder's pid. */
  onTimeout?: (holder: number) => Error;
}

/** Take the lock at `path` (waiting up to `timeoutMs`); resolve to its release function. */
export async function acquirePidLock(
  path: string,
  timeoutMs: number,
  options: PidLockOptions = {},
): Promise<() => Promise<void>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const handle = await open(path, "wx", 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      return async () => {
        await unlink(path).catch(() => undefined);
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = Number.parseInt(await readFile(path, "utf8").catch(() => ""), 10);
    if (!Number.isInteger(holder) || holder <= 0 || !pidAlive(holder)) {
      await unlink(path).catch(() => undefined);
      continue;
    }
    if (Date.now() > deadline)
      throw options.onTimeout?.(holder) ?? new Error(`timed out waiting for ${path}`);
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 1000));
  }
}
