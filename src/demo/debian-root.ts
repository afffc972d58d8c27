/**
 * A real Debian root filesystem (Debian 12 bookworm by default, or any release of
 * src/platform/releases.ts), built once with debootstrap and cached, so gatherers and checks
 * meet a real distribution's files.
 *
 * Shared by `koffer demo` and the tests (test/helpers/debian-root.ts re-exports it).
 *
 * Cache: `~/.cache/koffer/debian-<version>-<hash of suite, variant and packages>`. The tree is
 * built into a temporary sibling directory and renamed into place, so a half-built tree
 * is never seen; a lock file keeps two test files (vitest forks) from building at once.
 * Callers must treat the tree as read-only; copy it (`cp -a`) before changing anything.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readFile, rename, rm, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { IncompleteError } from "../errors.js";
import { releases, type PlatformId } from "../platform/releases.js";
import { run } from "../targets/exec.js";
import { acquirePidLock } from "../targets/pid-lock.js";

/** Packages on top of `--variant=minbase` that give the gatherers real files to read (Debian 12). */
export const debianRootPackages: readonly string[] = releases["debian-12"].debootstrapPackages;

const variant = "minbase";

/** Which root: the release (default Debian 12) and the packages on top of minbase. */
export interface DebianRootOptions {
  release?: PlatformId;
  /** Default: the release's `debootstrapPackages`. */
  packages?: readonly string[];
}

function resolve(options: DebianRootOptions | readonly string[]) {
  const opts: DebianRootOptions = Array.isArray(options)
    ? { packages: options as readonly string[] }
    : (options as DebianRootOptions);
  const release = releases[opts.release ?? "debian-12"];
  return { release, packages: opts.packages ?? release.debootstrapPackages };
}

/** Why a test needing the Debian root cannot run here, or null when it can. */
export function debianRootSkipReason(): string | null {
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    return "debootstrap needs root (CI runs as root)";
  }
  if (!existsSync("/usr/sbin/debootstrap"))
    return "debootstrap is not installed (Debian package debootstrap)";
  return null;
}

/** The first URI of the host's Debian sources, so the build uses the same mirror as apt. */
export function debianMirror(): string {
  const candidates = ["/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list"];
  for (const file of candidates) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n")) {
      const deb822 = /^URIs:\s*(\S+)/i.exec(line.trim());
      if (deb822?.[1] && !deb822[1].includes("security")) return deb822[1];
      const oneLine = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)/.exec(line.trim());
      if (oneLine?.[1] && !oneLine[1].includes("security")) return oneLine[1];
    }
  }
  return "http://deb.debian.org/debian";
}

function cacheKey(suite: string, packages: readonly string[]): string {
  const material = JSON.stringify({ suite, variant, packages: [...packages].sort() });
  return createHash("sha256").update(material).digest("hex").slice(0, 12);
}

/** Where the cached root for this release and package list lives (whether built yet or not). */
export function debianRootPath(options: DebianRootOptions | readonly string[] = {}): string {
  const { release, packages } = resolve(options);
  return join(
    homedir(),
    ".cache",
    "koffer",
    `debian-${release.versionId}-${cacheKey(release.codename, packages)}`,
  );
}

/** Take a cache's lock (shared with provisioning's apt archives); see src/targets/pid-lock.ts. */
export const acquireCacheLock = (lockPath: string, timeoutMs: number) =>
  acquirePidLock(lockPath, timeoutMs);

/**
 * Return the path of the cached Debian root (Debian 12 unless `release` says otherwise),
 * building it first if needed (needs root and network access to a Debian mirror; a few
 * minutes the first time).
 */
export async function debianRoot(
  options: DebianRootOptions | readonly string[] = {},
): Promise<string> {
  const { release: debian, packages } = resolve(options);
  const finalPath = debianRootPath(options);
  if (await isComplete(finalPath)) return finalPath;
  await mkdir(join(finalPath, ".."), { recursive: true });
  const release = await acquireCacheLock(`${finalPath}.lock`, 30 * 60_000);
  try {
    if (await isComplete(finalPath)) return finalPath;
    const tempPath = `${finalPath}.tmp-${process.pid}`;
    await rm(tempPath, { recursive: true, force: true });
    const result = await run(
      "debootstrap",
      [
        `--variant=${variant}`,
        `--include=${packages.join(",")}`,
        "--keyring=/usr/share/keyrings/debian-archive-keyring.gpg",
        debian.codename,
        tempPath,
        debianMirror(),
      ],
      { timeoutMs: 30 * 60_000, env: { DEBIAN_FRONTEND: "noninteractive" } },
    );
    if (result.exitCode !== 0) {
      const log = await readFile(join(tempPath, "debootstrap", "debootstrap.log"), "utf8").catch(
        () => "",
      );
      await rm(tempPath, { recursive: true, force: true });
      throw new IncompleteError(
        "E_DEBOOTSTRAP",
        `debootstrap failed (${result.exitCode}): ${String(result.stderr).slice(-2000)}\n${log.slice(-2000)}`,
      );
    }
    // apt's downloaded .debs are not part of the system and would only bloat the cache.
    await rm(join(tempPath, "var", "cache", "apt", "archives"), { recursive: true, force: true });
    await mkdir(join(tempPath, "var", "cache", "apt", "archives", "partial"), { recursive: true });
    await rename(tempPath, finalPath);
    return finalPath;
  } finally {
    await release();
  }
}

async function isComplete(path: string): Promise<boolean> {
  // The rename is the commit point, so the directory existing means a finished build.
  const info = await stat(join(path, "var", "lib", "dpkg", "status")).catch(() => null);
  return info !== null;
}
