/**
 * Data at rest: sysctl (files and live), core dump settings, CUPS retention and listeners,
 * capture-type files left in persistent places (DATA-01), and live mounts.
 */
import type { Target } from "../targets/types.js";
import type { DataFacts, GatherContext } from "./types.js";
import { joinPath, compareC } from "./parsers/common.js";
import { liveValue } from "./parsers/live.js";
import { mapOrdered } from "./in-flight.js";
import { parseCupsdConf } from "./parsers/misc-conf.js";
import { readLimits, readSysctl, sysctlNotRead } from "./parsers/sysctl.js";
import { readSystemdConf } from "./parsers/systemd-ini.js";

/** File types a capture client leaves behind: photos, fingerprints (WSQ, JPEG 2000), scans. */
export const captureExtensions = [
  ".jp2",
  ".j2k",
  ".wsq",
  ".bmp",
  ".png",
  ".jpg",
  ".jpeg",
  ".tif",
  ".tiff",
  ".pdf",
];
/** Persistent places scanned for capture files. */
export const captureRoots = ["/home", "/var/tmp", "/root", "/srv"];
/** Kernel settings read live in addition to those the sysctl.d files set. */
export const liveSysctlKeys = [
  "kernel.sysrq",
  "kernel.core_pattern",
  "fs.suid_dumpable",
  "kernel.kptr_restrict",
  "kernel.dmesg_restrict",
  "kernel.unprivileged_bpf_disabled",
  "kernel.yama.ptrace_scope",
  "net.ipv4.ip_forward",
  "net.ipv6.conf.all.disable_ipv6",
  "net.ipv4.ip_nonlocal_bind",
  "net.ipv6.ip_nonlocal_bind",
];
/** Mount points whose options APP-01 and DATA-01 judge. */
export const mountsOfInterest = ["/tmp", "/var/tmp", "/home", "/media"];

export interface CaptureScanLimits {
  maxDepth: number;
  maxEntries: number;
  maxResults: number;
}
export const defaultCaptureLimits: CaptureScanLimits = {
  maxDepth: 8,
  maxEntries: 50_000,
  maxResults: 1000,
};

/** Directory names that hold caches or packages, not user data; skipping keeps the scan bounded. */
const skippedDirs = new Set([
  "node_modules",
  ".cache",
  ".git",
  ".npm",
  ".cargo",
  ".rustup",
  "proc",
  "sys",
]);

export function emptyDataFacts(): DataFacts {
  const notGathered = { available: false as const, reason: "not gathered" };
  return {
    sysctl: {},
    sysctlLive: notGathered,
    coredump: {},
    coreLimits: [],
    cupsd: {},
    cupsdListen: [],
    captureFiles: [],
    mounts: notGathered,
  };
}

/**
 * Find capture-type files below the given roots: path, size and mtime only — the content is
 * never read. Bounded by depth, entries visited and results; symlinks are not followed.
 */
export async function scanCaptureFiles(
  target: Target,
  roots: string[] = captureRoots,
  limits: CaptureScanLimits = defaultCaptureLimits,
): Promise<{ files: DataFacts["captureFiles"]; truncated: boolean }> {
  const files: DataFacts["captureFiles"] = [];
  let visited = 0;
  let truncated = false;
  const walk = async (dir: string, depth: number): Promise<void> => {
    const names = await target.readDir(dir);
    if (names === null) return;
    for (const name of names.sort(compareC)) {
      if (++visited > limits.maxEntries || files.length >= limits.maxResults) {
        truncated = true;
        return;
      }
      const path = joinPath(dir, name);
      const lower = name.toLowerCase();
      const isCapture = captureExtensions.some((ext) => lower.endsWith(ext));
      if (!isCapture && (skippedDirs.has(name) || depth >= limits.maxDepth)) continue;
      const info = await lstat(target, path);
      if (info === null) continue;
      if (info.type === "directory") await walk(path, depth + 1);
      else if (info.type === "file" && isCapture) {
        files.push({ path, size: info.size, mtime: new Date(info.mtimeMs).toISOString() });
      }
    }
  };
  for (const root of roots) await walk(root, 0);
  return { files, truncated };
}

/** lstat when the target offers it (root and local do), so symlinked trees are not walked. */
async function lstat(target: Target, path: string) {
  const withLstat = target as Target & { lstat?: (p: string) => ReturnType<Target["stat"]> };
  return typeof withLstat.lstat === "function" ? withLstat.lstat(path) : target.stat(path);
}

/** Gather the data area from a target. */
export async function gatherData(target: Target, _ctx: GatherContext): Promise<DataFacts> {
  const sysctl = await readSysctl(target);
  const cupsText = await target.readText("/etc/cups/cupsd.conf");
  const cups = cupsText === null ? null : parseCupsdConf(cupsText, "/etc/cups/cupsd.conf");
  const limits = await readLimits(target);
  const sysctlLive = await liveValue(target, "/proc/sys", async () => {
    const out: Record<string, string> = {};
    const keys = [...new Set([...liveSysctlKeys, ...Object.keys(sysctl)])].filter(
      (key) => !key.includes("*"),
    );
    const texts = await mapOrdered(keys, (key) =>
      target.readText(`/proc/sys/${key.replace(/\./g, "/")}`),
    );
    keys.forEach((key, i) => {
      const text = texts[i];
      if (text !== null && text !== undefined) out[key] = text.trim().replace(/\s+/g, " ");
    });
    return out;
  });
  const mounts = await liveValue(
    target,
    "findmnt -J -o TARGET,FSTYPE,OPTIONS --target",
    async () => {
      const out: { target: string; fstype: string; options: string[] }[] = [];
      const results = await Promise.all(
        mountsOfInterest.map((path) =>
          target.exec("findmnt", ["-J", "-o", "TARGET,FSTYPE,OPTIONS", "--target", path]),
        ),
      );
      for (const [i, path] of mountsOfInterest.entries()) {
        const r = results[i];
        if (r === undefined || r.exitCode !== 0) continue; // the path does not exist here
        const fs = (
          JSON.parse(r.stdout) as {
            filesystems?: { target: string; fstype: string; options: string }[];
          }
        ).filesystems?.[0];
        // `target` is the path asked about; the mount holding it may be "/" (then /tmp is on disk).
        if (fs) out.push({ target: path, fstype: fs.fstype, options: fs.options.split(",") });
      }
      return out;
    },
  );
  return {
    sysctl,
    sysctlNotRead: await sysctlNotRead(target),
    sysctlLive,
    coredump: await readSystemdConf(target, "coredump", "Coredump"),
    coreLimits: limits
      .filter((l) => l.item === "core")
      .map((l) => ({ domain: l.domain, type: l.type, value: l.value, source: l.source })),
    cupsd: cups?.directives ?? {},
    cupsdListen: cups?.listen ?? [],
    captureFiles: (await scanCaptureFiles(target)).files,
    mounts,
  };
}
