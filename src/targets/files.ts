/**
 * File access shared by the targets whose files the host can open directly (root, local):
 * reading with "missing is null", stat in the Target's shape, and the atomic write
 * (temporary file in the same directory, fsync, rename, fsync of the directory).
 */
import { constants, promises as fs } from "node:fs";
import type { Dir, Stats } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { dirname, basename, join } from "node:path";
import { randomBytes } from "node:crypto";
import { FileRefusedError, InputError } from "../errors.js";
import type { TargetStat } from "./types.js";

/** Errors that mean "this path is not there" rather than "something is wrong". */
const absentCodes = new Set(["ENOENT", "ENOTDIR", "ELOOP"]);

export function isAbsent(error: unknown): boolean {
  return absentCodes.has((error as NodeJS.ErrnoException)?.code ?? "");
}

/** Target paths are absolute; a relative one is a programming or usage error. */
export function assertTargetPath(path: string): void {
  if (!path.startsWith("/") || path.includes("\0")) {
    throw new InputError(`not an absolute target path: ${JSON.stringify(path)}`);
  }
}

export function toTargetStat(stats: Stats): TargetStat {
  const type = stats.isFile()
    ? "file"
    : stats.isDirectory()
      ? "directory"
      : stats.isSymbolicLink()
        ? "symlink"
        : "other";
  return {
    type,
    mode: stats.mode & 0o7777,
    uid: stats.uid,
    gid: stats.gid,
    size: stats.size,
    mtimeMs: stats.mtimeMs,
  };
}

/** What one read may take: a per-file cap and, optionally, the run's shared budget. */
export interface ReadLimits {
  /** Largest file read, in bytes (default {@link defaultMaxFileBytes}). */
  maxBytes?: number;
  /** Follow a symbolic link in the last component (local: yes; root: its links are resolved first). */
  follow?: boolean;
  budget?: ReadBudget;
}

/** 8 MiB: far above any configuration file; a larger one is refused, not read. */
export const defaultMaxFileBytes = 8 * 1024 * 1024;
/** Most directory entries listed; a larger directory is refused. */
export const maxDirEntries = 100_000;

/**
 * The bytes a whole run may read from one target (default 512 MiB), so many files just
 * under the per-file cap still cannot exhaust memory.
 */
export class ReadBudget {
  private used = 0;
  constructor(readonly totalBytes = 512 * 1024 * 1024) {}
  take(path: string, bytes: number): void {
    this.used += bytes;
    if (this.used > this.totalBytes) {
      throw new FileRefusedError(
        "budget",
        path,
        `the run's read budget of ${this.totalBytes} bytes is used up`,
      );
    }
  }
}

function kindOf(stats: Stats): string {
  if (stats.isFIFO()) return "a FIFO";
  if (stats.isCharacterDevice()) return "a character device";
  if (stats.isBlockDevice()) return "a block device";
  if (stats.isSocket()) return "a socket";
  if (stats.isSymbolicLink()) return "a symbolic link";
  return "not a regular file";
}

/**
 * The one primitive every target read goes through: only regular files are read, never a
 * FIFO (would block), a device node (endless data, or the host's own disk) or a socket.
 * The file is checked before it is opened (so no device is ever opened), opened with
 * O_NONBLOCK and O_NOCTTY (and O_NOFOLLOW unless `follow`), and checked again on the
 * descriptor: a file swapped between the check and the open is refused. At most
 * `maxBytes` are read, whatever the file claims its size is (procfs says 0).
 */
/** st_rdev of /dev/null (character device 1:3). */
const devNull = (1 << 8) | 3;

export async function readHostFile(
  hostPath: string,
  limits: ReadLimits = {},
): Promise<Buffer | null> {
  const maxBytes = limits.maxBytes ?? defaultMaxFileBytes;
  const follow = limits.follow ?? true;
  let before: Stats;
  try {
    before = follow ? await fs.stat(hostPath) : await fs.lstat(hostPath);
  } catch (error) {
    if (isAbsent(error)) return null;
    throw error;
  }
  if (before.isDirectory()) return null;
  // A link to /dev/null is how systemd, sysctl.d and friends mask a file: it reads as empty.
  if (before.isCharacterDevice() && before.rdev === devNull) return Buffer.alloc(0);
  if (!before.isFile()) throw new FileRefusedError("type", hostPath, kindOf(before));
  if (before.size > maxBytes) throw tooLarge(hostPath, `${before.size} bytes`, maxBytes);
  const flags =
    constants.O_RDONLY |
    constants.O_NONBLOCK |
    constants.O_NOCTTY |
    (follow ? 0 : constants.O_NOFOLLOW);
  let handle: FileHandle;
  try {
    handle = await fs.open(hostPath, flags);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ELOOP")
      throw new FileRefusedError("type", hostPath, "a symbolic link");
    if (isAbsent(error)) return null;
    throw error;
  }
  try {
    const after = await handle.stat();
    if (!after.isFile()) throw new FileRefusedError("type", hostPath, kindOf(after));
    if (after.dev !== before.dev || after.ino !== before.ino)
      throw new FileRefusedError("type", hostPath, "replaced while it was being opened");
    const bytes = await readCapped(handle, hostPath, maxBytes);
    limits.budget?.take(hostPath, bytes.length);
    return bytes;
  } finally {
    await handle.close();
  }
}

/** Read an open file to its end, refusing it once more than `maxBytes` came. */
async function readCapped(handle: FileHandle, path: string, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const chunk = Buffer.allocUnsafe(Math.min(64 * 1024, maxBytes + 1 - total));
    const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
    if (bytesRead === 0) break;
    total += bytesRead;
    if (total > maxBytes) throw tooLarge(path, `more than ${maxBytes} bytes`, maxBytes);
    chunks.push(chunk.subarray(0, bytesRead));
  }
  return Buffer.concat(chunks, total);
}

/**
 * A file the user named on the command line (a rules file, a saved result): any kind of
 * file may be given (`<(…)` is a pipe), but at most `maxBytes` are read, so `/dev/zero` or
 * a huge file ends with a FileRefusedError (exit 78) instead of exhausting memory.
 */
export async function readInputFile(path: string, maxBytes: number): Promise<Buffer> {
  const handle = await fs.open(path, constants.O_RDONLY | constants.O_NOCTTY);
  try {
    const stats = await handle.stat();
    if (stats.isDirectory()) throw new FileRefusedError("type", path, "a directory");
    if (stats.isFile() && stats.size > maxBytes)
      throw tooLarge(path, `${stats.size} bytes`, maxBytes);
    return await readCapped(handle, path, maxBytes);
  } finally {
    await handle.close();
  }
}

function tooLarge(path: string, found: string, maxBytes: number): FileRefusedError {
  return new FileRefusedError("size", path, `expected at most ${maxBytes} bytes, found ${found}`);
}

export async function statHost(hostPath: string, follow: boolean): Promise<TargetStat | null> {
  try {
    return toTargetStat(follow ? await fs.stat(hostPath) : await fs.lstat(hostPath));
  } catch (error) {
    if (isAbsent(error)) return null;
    throw error;
  }
}

/** Names in a directory, sorted; more than `maxEntries` is refused, not listed. */
export async function readHostDir(
  hostPath: string,
  maxEntries = maxDirEntries,
): Promise<string[] | null> {
  let dir: Dir;
  try {
    dir = await fs.opendir(hostPath);
  } catch (error) {
    if (isAbsent(error)) return null;
    throw error;
  }
  const names: string[] = [];
  try {
    for (let entry = await dir.read(); entry !== null; entry = await dir.read()) {
      names.push(entry.name);
      if (names.length > maxEntries)
        throw new FileRefusedError(
          "size",
          hostPath,
          `a directory of more than ${maxEntries} entries`,
        );
    }
  } finally {
    await dir.close();
  }
  return names.sort();
}

/**
 * Write `data` to `hostPath` so that a reader sees either the old or the new content,
 * never a torn file, even across a power cut: the data and the rename are both synced.
 */
export async function writeHostFileAtomic(
  hostPath: string,
  data: Buffer | string,
  options: { mode: number; uid?: number; gid?: number },
): Promise<void> {
  const dir = dirname(hostPath);
  const temp = join(dir, `.${basename(hostPath)}.koffer-${randomBytes(6).toString("hex")}`);
  // The mode is set at creation so secret content is never readable by others, even briefly.
  const handle = await fs.open(
    temp,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL,
    options.mode,
  );
  try {
    await handle.writeFile(data);
    await handle.chmod(options.mode); // creation mode is subject to the umask
    if (options.uid !== undefined || options.gid !== undefined) {
      await handle.chown(options.uid ?? -1, options.gid ?? -1);
    }
    await handle.sync();
  } catch (error) {
    await handle.close();
    await fs.rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await fs.rename(temp, hostPath);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
  const dirHandle = await fs.open(dir, constants.O_RDONLY);
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}

/** Make `hostPath` a symbolic link to `linkTarget`, replacing what is there in one rename. */
export async function replaceWithSymlinkHost(hostPath: string, linkTarget: string): Promise<void> {
  const temp = join(
    dirname(hostPath),
    `.${basename(hostPath)}.koffer-${randomBytes(6).toString("hex")}`,
  );
  await fs.symlink(linkTarget, temp);
  try {
    await fs.rename(temp, hostPath);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
}
