/**
 * A Target is the only code that touches a machine (ARCHITECTURE.md).
 * Paths given to a Target are paths *on the target* ("/etc/crypttab"); a root target
 * maps them below its root directory, an ssh target reads them over the connection.
 */
import type { ExecOptions, ExecResult } from "./exec.js";

export type TargetKind = "local" | "root" | "ssh";

export interface TargetStat {
  type: "file" | "directory" | "symlink" | "other";
  mode: number; // permission bits
  uid: number;
  gid: number;
  size: number;
  mtimeMs: number;
}

/** A disk image or block device belonging to a target (`--disk`). */
export interface TargetDisk {
  /** Path as the host sees it (image file or block device). */
  path: string;
}

export interface Target {
  readonly kind: TargetKind;
  /** Human-readable location: "/srv/images/koffer-07", "local", "admin@10.0.0.5". */
  readonly location: string;
  readonly disks: TargetDisk[];
  /** True when the target is a running machine (live kernel, sockets, firmware visible). */
  readonly live: boolean;
  /**
   * ssh only: the uid the session logged in with, as the target's own `id -u` named it (an
   * ssh_config `User` or a login alias can differ from the "user@" of the location).
   */
  readonly loginUid?: number | null;

  /**
   * A regular file's bytes, or null when it does not exist (or is a directory). Anything
   * else (FIFO, device node, socket) and a file over `maxBytes` (default 8 MiB) or the run's
   * read budget is refused with a FileRefusedError (exit 78), never read.
   */
  readFile(path: string, limits?: { maxBytes?: number }): Promise<Buffer | null>;
  readText(path: string, limits?: { maxBytes?: number }): Promise<string | null>;
  stat(path: string): Promise<TargetStat | null>;
  /** Like `stat` but does not follow a symbolic link in the last component (optional: ssh may lack it). */
  lstat?(path: string): Promise<TargetStat | null>;
  /** The target of a symbolic link, as stored, or null when the path is not a link. */
  readLink?(path: string): Promise<string | null>;
  /** Entries of a directory (names only), or null when it does not exist. */
  readDir(path: string): Promise<string[] | null>;
  /**
   * Resolve a target path to a path the host can open (root: below the root; local: itself;
   * ssh: not possible → null). LEXICAL: a symlink in the tree is not followed. Code that
   * opens, creates or removes the result must use {@link resolve} instead.
   */
  hostPath(path: string): string | null;
  /**
   * The host path of `path` with symbolic links resolved INSIDE the target (root: an absolute
   * link starts again at the root, `..` stops at it), the last component only when
   * `followLast` (default true). Absent on targets the host cannot open (ssh).
   */
  resolve?(path: string, followLast?: boolean): Promise<string>;

  /**
   * Run a command *on behalf of* the target. For local and ssh it runs there; for a root
   * target it runs on the host and the caller passes `--root`-style arguments itself.
   */
  exec(command: string, args: string[], options?: ExecOptions): Promise<ExecResult>;

  /** Write a file atomically (temporary file, fsync, rename) with mode and owner. */
  writeFileAtomic(
    path: string,
    data: Buffer | string,
    options: { mode: number; uid?: number; gid?: number },
  ): Promise<void>;
  /**
   * For targets the host cannot open (ssh): create a file that must not exist yet (O_EXCL),
   * write and fsync it; false when it already exists. Used for the provision lock.
   */
  createExclusive?(path: string, data: string, mode: number): Promise<boolean>;
  /** For targets the host cannot open (ssh): append and fsync (the journal). */
  appendFile?(path: string, data: string, mode: number): Promise<void>;
  /** Make `path` a symbolic link to `linkTarget` (stored as given), replacing it atomically. */
  symlink?(path: string, linkTarget: string): Promise<void>;
  remove(path: string): Promise<void>;
  mkdirp(path: string, mode?: number): Promise<void>;

  /**
   * A new handle on the same machine with nothing cached by readers (they cache per target
   * object). Optional: the ssh target shares its one connection; others are simply reopened.
   */
  fresh?(): Target;

  close(): Promise<void>;
}
