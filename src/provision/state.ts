/**
 * koffer's own state on a target: backups, journals, reports and the provision lock,
 * all below /var/lib/koffer (ARCHITECTURE.md, issue 5).
 */
import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { open, readFile, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import { IncompleteError } from "../errors.js";
import type { Target } from "../targets/types.js";

export const STATE_DIR = "/var/lib/koffer";
export const BACKUP_DIR = `${STATE_DIR}/backups`;
/** Budget for a backup larger than the default read budget: an initrd of a few dozen MiB. */
export const MAX_BACKUP_BYTES = 512 * 1024 * 1024;
export const JOURNAL_DIR = `${STATE_DIR}/journal`;
export const REPORT_DIR = `${STATE_DIR}/reports`;
export const LOCK_FILE = `${STATE_DIR}/provision.lock`;

/** A run id sorts by time and is unique: `20261120T213700Z-1a2b3c`. */
export function newRunId(now: Date = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  return `${stamp}-${randomBytes(3).toString("hex")}`;
}

export function isRunId(value: string): boolean {
  return /^\d{8}T\d{6}Z-[0-9a-f]{6}$/.test(value);
}

interface LockOwner {
  runId: string;
  pid: number;
  host: string;
  startedAt: string;
}

export interface ProvisionLock {
  release(): Promise<void>;
}

/**
 * Take the provision lock on a target so two provisions never run at once.
 * A lock left by a process that no longer exists (a provision killed with -9) is taken over.
 */
export async function acquireLock(target: Target, runId: string): Promise<ProvisionLock> {
  await target.mkdirp(STATE_DIR, 0o700);
  const file = await lockFile(target);
  const owner: LockOwner = {
    runId,
    pid: process.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
  };
  for (let attempt = 0; attempt < 2; attempt++) {
    if (await file.create(JSON.stringify(owner) + "\n")) {
      return { release: () => file.unlink() };
    }
    const holder = parseLockOwner(await file.read());
    // The pid is the controlling process's (for ssh: on the technician's machine, not the laptop).
    if (holder !== null && holder.host === owner.host && !processAlive(holder.pid)) {
      await file.unlink();
      continue;
    }
    const who =
      holder === null ? "another run" : `run ${holder.runId} (pid ${holder.pid} on ${holder.host})`;
    throw new IncompleteError(
      "E_LOCKED",
      `another provision is running on ${target.location}: ${who} holds ${LOCK_FILE}`,
    );
  }
  throw new IncompleteError("E_LOCKED", `could not take ${LOCK_FILE} on ${target.location}`);
}

interface LockFile {
  /** Create exclusively with `data` (synced); false when it exists. */
  create(data: string): Promise<boolean>;
  read(): Promise<string | null>;
  unlink(): Promise<void>;
}

/** The lock file through the host's file system (local, root) or the target's own primitives (ssh). */
async function lockFile(target: Target): Promise<LockFile> {
  if (target.hostPath(LOCK_FILE) !== null) {
    // Resolved inside the target: a /var/lib/koffer that is a symlink in an image must not
    // put koffer's lock (and its unlink) on a host path.
    const lockPath = (await target.resolve?.(LOCK_FILE, false)) ?? null;
    if (lockPath === null) {
      throw new IncompleteError("E_LOCK", `cannot take the provision lock on ${target.location}`);
    }
    return {
      create: async (data) => {
        try {
          const handle = await open(
            lockPath,
            constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
            0o600,
          );
          await handle.writeFile(data);
          await handle.sync();
          await handle.close();
          return true;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
          throw error;
        }
      },
      read: () => readFile(lockPath, "utf8").catch(() => null),
      unlink: () => unlink(lockPath).catch(() => undefined),
    };
  }
  const createExclusive = target.createExclusive?.bind(target);
  if (createExclusive === undefined) {
    throw new IncompleteError("E_LOCK", `cannot take the provision lock on ${target.location}`);
  }
  return {
    create: (data) => createExclusive(LOCK_FILE, data, 0o600),
    read: () => target.readText(LOCK_FILE),
    unlink: () => target.remove(LOCK_FILE).catch(() => undefined),
  };
}

function parseLockOwner(text: string | null): LockOwner | null {
  try {
    return text === null ? null : (JSON.parse(text) as LockOwner);
  } catch {
    return null;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
