/**
 * What `koffer demo` keeps on disk, and removing it. Every demo run leaves a laptop copy (a
 * Debian root and a disk image, several hundred MB) under ~/.cache/koffer/demo so its report
 * and the rollback hint stay usable; the demo says where and how much, and
 * `koffer demo --clean` removes them. The Debian base roots and apt archives beside it are
 * reused by the next demo and by the tests, and are left alone.
 */
import { rm, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { join, sep } from "node:path";
import { IncompleteError } from "../errors.js";
import { mountsBelow } from "../provision/handlers/packages.js";
import { run } from "../targets/exec.js";

/** The directory the demo's laptop copies go to. */
export function demoCacheDir(home: string = homedir()): string {
  return join(home, ".cache", "koffer", "demo");
}

/** A path as a person types it: `~/…` below the home directory. */
export function displayPath(path: string, home: string = homedir()): string {
  return path === home || path.startsWith(home + sep) ? `~${path.slice(home.length)}` : path;
}

/** Decimal units as `du -h --si` and file managers show them: "860 MB", "1.2 GB". */
export function formatSize(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  const digits = unit === 0 || value >= 100 ? 0 : value >= 10 ? 0 : 1;
  return `${value.toFixed(digits).replace(/\.0$/, "")} ${units[unit]}`;
}

/** Bytes used below `dir` on its own file system (`du`), or null when it does not exist. */
export async function diskUsage(dir: string): Promise<number | null> {
  try {
    await stat(dir);
  } catch {
    return null;
  }
  const result = await run("du", ["-s", "-x", "-B1", "--", dir], { timeoutMs: 300_000 });
  const bytes = Number(/^(\d+)/.exec(result.stdout)?.[1]);
  return Number.isFinite(bytes) ? bytes : null;
}

/** The line the demo ends with: where its laptops are, how big, and how to remove them. */
export async function demoCacheLine(dir: string = demoCacheDir()): Promise<string> {
  const bytes = (await diskUsage(dir)) ?? 0;
  return `Cache: ${displayPath(dir)} (${formatSize(bytes)}) — löschen / remove: koffer demo --clean`;
}

/**
 * Remove the demo's laptop copies. Refused (exit 2) while anything is mounted below them:
 * deleting through a mount a killed run left behind would delete what the mount shows.
 */
export async function cleanDemoCache(
  dir: string = demoCacheDir(),
): Promise<{ dir: string; bytes: number }> {
  const mounted = await mountsBelow(dir);
  if (mounted.length > 0)
    throw new IncompleteError(
      "E_DEMO_MOUNTED",
      `${dir} still has mounts below it (${mounted.join(", ")}); unmount them first (umount -R), nothing was removed`,
    );
  const bytes = (await diskUsage(dir)) ?? 0;
  await rm(dir, { recursive: true, force: true });
  return { dir, bytes };
}
