/**
 * The `local` target: the machine koffer runs on. Paths are the host's own; live sources
 * (lsblk, efivars, /sys/class/tpm, nft, ss, systemctl is-active) are available.
 */
import { promises as fs } from "node:fs";
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

export class LocalTarget implements Target {
  readonly kind = "local" as const;
  readonly live = true;
  readonly location = "local";
  readonly disks: TargetDisk[];
  /** What this run may read in total (see {@link ReadBudget}). */
  readonly budget = new ReadBudget();

  constructor(options: { disks?: string[] } = {}) {
    this.disks = (options.disks ?? []).map((path) => ({ path }));
  }

  hostPath(path: string): string {
    assertTargetPath(path);
    return path;
  }

  /** The local machine's own paths: its symbolic links are its own. */
  async resolve(path: string): Promise<string> {
    return this.hostPath(path);
  }

  async readFile(path: string, limits: { maxBytes?: number } = {}): Promise<Buffer | null> {
    return readHostFile(this.hostPath(path), { ...limits, follow: true, budget: this.budget });
  }

  async readText(path: string, limits: { maxBytes?: number } = {}): Promise<string | null> {
    return (await this.readFile(path, limits))?.toString("utf8") ?? null;
  }

  stat(path: string): Promise<TargetStat | null> {
    return statHost(this.hostPath(path), true);
  }

  lstat(path: string): Promise<TargetStat | null> {
    return statHost(this.hostPath(path), false);
  }

  async readLink(path: string): Promise<string | null> {
    try {
      return await fs.readlink(this.hostPath(path));
    } catch (error) {
      if (isAbsent(error) || (error as NodeJS.ErrnoException).code === "EINVAL") return null;
      throw error;
    }
  }

  readDir(path: string): Promise<string[] | null> {
    return readHostDir(this.hostPath(path));
  }

  exec(command: string, args: string[], options?: ExecOptions): Promise<ExecResult> {
    return run(command, args, options);
  }

  writeFileAtomic(
    path: string,
    data: Buffer | string,
    options: { mode: number; uid?: number; gid?: number },
  ): Promise<void> {
    return writeHostFileAtomic(this.hostPath(path), data, options);
  }

  async symlink(path: string, linkTarget: string): Promise<void> {
    await replaceWithSymlinkHost(this.hostPath(path), linkTarget);
  }

  async remove(path: string): Promise<void> {
    await fs.rm(this.hostPath(path), { force: true, recursive: true });
  }

  async mkdirp(path: string, mode = 0o755): Promise<void> {
    await fs.mkdir(this.hostPath(path), { recursive: true, mode });
  }

  async close(): Promise<void> {}
}
