/**
 * The `root` target: an offline root filesystem (a golden image, a debootstrapped tree)
 * plus the disk images or block devices that belong to it.
 *
 * Every target path is mapped below the root directory. Symbolic links inside the tree
 * are resolved the way the laptop itself would resolve them once booted: an absolute
 * link target starts again at the root, and `..` never climbs above it. So a tree with
 * `/etc/os-release -> ../usr/lib/os-release` reads its own file, and a hostile link to
 * `/etc/shadow` reads the tree's shadow, never the host's. The same walk serves writes,
 * koffer's state (lock, journal, backups, reports, escrow) and the certificate files
 * ({@link resolveInRoot}). The image's own programs run only in a container
 * (src/targets/sandbox.ts), never on the host.
 *
 * The running system's own root (`--root /`, or any path that is the same directory by
 * device and inode) is refused: a root target is an offline tree, and treating the live
 * system as one would point apt and every write at the technician's machine.
 */
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { IncompleteError, InputError, UsageError } from "../errors.js";
import { run, type ExecOptions, type ExecResult } from "./exec.js";
import {
  assertTargetPath,
  isAbsent,
  readHostDir,
  readHostFile,
  ReadBudget,
  replaceWithSymlinkHost,
  statHost,
  writeHostFileAtomic,
} from "./files.js";
import type { Target, TargetDisk, TargetStat } from "./types.js";

/** As Linux does (MAXSYMLINKS): more links than this in one lookup is a loop. */
const maxSymlinks = 40;

export interface RootTargetOptions {
  /** The root directory on the host. */
  root: string;
  /** Disk images or block devices (host paths) that belong to this root. */
  disks?: string[];
}

export class RootTarget implements Target {
  readonly kind = "root" as const;
  readonly live = false;
  readonly location: string;
  readonly disks: TargetDisk[];
  /** The root directory with the host's own symlinks resolved (so joins stay below it). */
  readonly root: string;
  /** What this run may read from the tree in total (see {@link ReadBudget}). */
  readonly budget = new ReadBudget();

  private constructor(root: string, location: string, disks: TargetDisk[]) {
    this.root = root;
    this.location = location;
    this.disks = disks;
  }

  /** Open a root directory; fails (exit 2) when it or a disk is missing. */
  static async open(options: RootTargetOptions): Promise<RootTarget> {
    let root: string;
    try {
      root = await fs.realpath(options.root);
      if (!(await fs.stat(root)).isDirectory()) throw new Error("not a directory");
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw new IncompleteError(
        "E_TARGET",
        `cannot open root ${options.root}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    await refuseRunningSystem(options.root, root);
    const disks: TargetDisk[] = [];
    for (const disk of options.disks ?? []) {
      try {
        await fs.access(disk);
      } catch (error) {
        throw new IncompleteError("E_TARGET", `cannot open disk ${disk}: it does not exist`, {
          cause: error,
        });
      }
      disks.push({ path: disk });
    }
    return new RootTarget(root, options.root, disks);
  }

  /**
   * Map a target path to the host path below the root, resolving symlinks inside the
   * tree (the last component only when `followLast`). Paths that do not exist are
   * mapped lexically from the first missing component on.
   */
  async resolve(path: string, followLast = true): Promise<string> {
    return resolveInRoot(this.root, path, followLast);
  }

  hostPath(path: string): string | null {
    // Synchronous by contract: maps lexically. Use `resolve` where links matter.
    assertTargetPath(path);
    refuseLexicalEscape(path);
    return join(this.root, path);
  }

  async readFile(path: string, limits: { maxBytes?: number } = {}): Promise<Buffer | null> {
    return readHostFile(await this.resolve(path), {
      ...limits,
      follow: false,
      budget: this.budget,
    });
  }

  async readText(path: string, limits: { maxBytes?: number } = {}): Promise<string | null> {
    return (await this.readFile(path, limits))?.toString("utf8") ?? null;
  }

  async stat(path: string): Promise<TargetStat | null> {
    return statHost(await this.resolve(path), true);
  }

  async lstat(path: string): Promise<TargetStat | null> {
    return statHost(await this.resolve(path, false), false);
  }

  async readLink(path: string): Promise<string | null> {
    try {
      return await fs.readlink(await this.resolve(path, false));
    } catch (error) {
      if (isAbsent(error) || (error as NodeJS.ErrnoException).code === "EINVAL") return null;
      throw error;
    }
  }

  async readDir(path: string): Promise<string[] | null> {
    return readHostDir(await this.resolve(path));
  }

  /** Runs on the host: the caller passes `--root`/`--admindir` style arguments itself. */
  exec(command: string, args: string[], options?: ExecOptions): Promise<ExecResult> {
    return run(command, args, options);
  }

  async writeFileAtomic(
    path: string,
    data: Buffer | string,
    options: { mode: number; uid?: number; gid?: number },
  ): Promise<void> {
    // A symlink at the final path is replaced, not written through (it could point anywhere).
    await writeHostFileAtomic(await this.resolve(path, false), data, options);
  }

  async symlink(path: string, linkTarget: string): Promise<void> {
    await replaceWithSymlinkHost(await this.resolve(path, false), linkTarget);
  }

  async remove(path: string): Promise<void> {
    await fs.rm(await this.resolve(path, false), { force: true, recursive: true });
  }

  async mkdirp(path: string, mode = 0o755): Promise<void> {
    await fs.mkdir(await this.resolve(path), { recursive: true, mode });
  }

  async close(): Promise<void> {}
}

/** A target path whose `..` would climb above `/` is refused outright: it is a mistake or an attack. */
function refuseLexicalEscape(path: string): void {
  let depth = 0;
  for (const component of path.split("/")) {
    if (component === "" || component === ".") continue;
    depth += component === ".." ? -1 : 1;
    if (depth < 0) throw new InputError(`target path escapes the root: ${path}`);
  }
}

/**
 * Map the target path `path` to a host path below `root` (a real path without symlinks),
 * resolving symbolic links component by component the way the booted laptop would — an
 * absolute link starts again at `root`, `..` never climbs above it — so the result is
 * always inside `root`. The last component is followed only when `followLast`. Paths that
 * do not exist are mapped lexically from the first missing component on.
 */
export async function resolveInRoot(
  root: string,
  path: string,
  followLast = true,
): Promise<string> {
  assertTargetPath(path);
  refuseLexicalEscape(path);
  const done: string[] = [];
  const todo = path.split("/").filter((c) => c !== "" && c !== ".");
  let links = 0;
  let missing = false;
  while (todo.length > 0) {
    const component = todo.shift() as string;
    if (component === ".") continue;
    if (component === "..") {
      done.pop(); // at the root, ".." is the root, as for a chrooted process
      continue;
    }
    if (missing || (todo.length === 0 && !followLast)) {
      done.push(component);
      continue;
    }
    const hostPath = join(root, ...done, component);
    let isLink = false;
    try {
      isLink = (await fs.lstat(hostPath)).isSymbolicLink();
    } catch (error) {
      if (!isAbsent(error)) throw error;
      missing = true;
    }
    if (!isLink) {
      done.push(component);
      continue;
    }
    if (++links > maxSymlinks) {
      throw new IncompleteError("E_SYMLINK_LOOP", `too many symbolic links resolving ${path}`);
    }
    const link = await fs.readlink(hostPath);
    if (link.startsWith("/")) done.length = 0;
    todo.unshift(...link.split("/").filter((c) => c !== "" && c !== "."));
  }
  return join(root, ...done);
}

/** `--root /` and any other name of the running system's root directory: exit 64. */
async function refuseRunningSystem(given: string, root: string): Promise<void> {
  const target = await fs.stat(root);
  for (const own of ["/", "/proc/1/root"]) {
    const stats = await fs.stat(own).catch(() => null);
    if (stats !== null && stats.dev === target.dev && stats.ino === target.ino)
      throw new UsageError(
        `refusing --root ${given}: it is the root directory of the running system, not an offline tree (verify the running machine without --root)`,
      );
  }
}
