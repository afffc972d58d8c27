/**
 * File access shared by the targets whose files the host can open directly (root, local):
 * reading with "missing is null", stat in the Target's shape, and the atomic write
 * (temporary file in the same directory, fsync, rename, fsync of the directory).
 */
import { constants, promises as fs } from "node:fs";
import type { Stats } from "node:fs";
import { dirname, basename, join } from "node:path";
import { randomBytes } from "node:crypto";
import { InputError } from "../errors.js";
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

export async function readHostFile(hostPath: string): Promise<Buffer | null> {
  try {
    return await fs.readFile(hostPath);
  } catch (error) {
    if (isAbsent(error) || (error as NodeJS.ErrnoException).code === "EISDIR") return null;
    throw error;
  }
}

export async function statHost(hostPath: string, follow: boolean): Promise<TargetStat | null> {
  try {
    return toTargetStat(follow ? await fs.stat(hostPath) : await fs.lstat(hostPath));
  } catch (error) {
    if (isAbsent(error)) return null;
    throw error;
  }
}

export async function readHostDir(hostPath: string): Promise<string[] | null> {
  try {
    return (await fs.readdir(hostPath)).sort();
  } catch (error) {
    if (isAbsent(error)) return null;
    throw error;
  }
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
