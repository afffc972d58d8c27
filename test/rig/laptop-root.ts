/**
 * The desktop laptop root as KISA ships it before koffer provisions it: Debian 12 or Debian 13
 * with GNOME (gdm3), NetworkManager, ModemManager, CUPS, firefox-esr, pcscd and the reader
 * drivers of the example profiles. README "The running-laptop rig" says what is in it and why.
 * Both releases get the same package list (every name exists in both), so the rig's tests
 * judge the same desktop on either.
 *
 * Built once on top of the cached plain Debian root (src/demo/debian-root.ts): a copy of
 * that tree, then `apt-get install --no-install-recommends` run INSIDE the tree by
 * systemd-nspawn (own PID, mount, IPC and UTS namespaces; no host /proc or /dev; a
 * policy-rc.d keeps maintainer scripts from starting daemons), never by chroot on the host.
 * The result is renamed into ~/.cache/koffer/laptop-<12|13>-<recipe hash>; next to it,
 * `<dir>.manifest.json` holds the recipe and a checksum over the tree's listing (path,
 * type, mode, owner, size, mtime) that every use re-checks (~1 s), so a test that wrote
 * into the cache is caught instead of silently shared.
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import {
  acquireCacheLock,
  debianMirror,
  debianRoot,
  debianRootPath,
  debianRootSkipReason,
} from "../../src/demo/debian-root.js";
import { releases, type PlatformId } from "../../src/platform/releases.js";
import {
  markerVariable,
  processStart,
  sweepStale,
  track,
  undoLeftover,
  type Leftover,
} from "./cleanup.js";
import { machineSkipReason } from "./machine.js";

/**
 * What the laptop has before koffer touches it. Each line's reason is in the README.
 * Everything koffer installs itself (usbguard, auditd, strongSwan, apparmor …) is NOT here:
 * provisioning must bring it, or the rig would hide a missing install.
 */
export const laptopPackages: readonly string[] = [
  // The desktop: GNOME Shell on gdm3, the session, settings (network/VPN/printer panels).
  "gdm3",
  "gnome-shell",
  "gnome-session",
  "gnome-control-center",
  "gnome-terminal",
  "nautilus",
  "dconf-cli",
  "fonts-dejavu-core",
  "xwayland",
  // Networking: NetworkManager with the LTE modem (ModemManager) of the example profiles.
  "network-manager",
  "modemmanager",
  // Printing of receipts and forms.
  "cups",
  "printer-driver-brlaser",
  // The only browser the profiles allow.
  "firefox-esr",
  // eID and card readers: pcscd with the CCID and REINER SCT cyberJack drivers.
  "pcscd",
  "libccid",
  "libifd-cyberjack6",
  // The tools a technician expects and koffer's own tests call inside the machine.
  "iproute2",
  "iputils-ping",
  "procps",
  "kmod",
];

/** The shell script that installs `packages` inside a tree (no daemon starts), then `tail`. */
export const aptLayerScript = (packages: readonly string[], tail = "") => `
printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d
chmod 755 /usr/sbin/policy-rc.d
apt-get update -q
apt-get install -y -q --no-install-recommends \\
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold ${packages.join(" ")}
rm -f /usr/sbin/policy-rc.d /var/cache/apt/*.bin
${tail}`;

const buildScript = (packages: readonly string[]) =>
  aptLayerScript(
    packages,
    `echo koffer-laptop > /etc/hostname
printf '127.0.0.1\\tlocalhost\\n127.0.1.1\\tkoffer-laptop\\n::1\\tlocalhost ip6-localhost ip6-loopback\\n' > /etc/hosts
: > /etc/machine-id
`,
  );

function recipe(platform: PlatformId): {
  base: string;
  packages: string[];
  mirror: string;
  script: string;
} {
  return {
    // The release enters the recipe through its base root's path (debian-12-… / debian-13-…),
    // so the Debian 12 recipe and its cache name are the ones built before releases existed.
    base: debianRootPath({ release: platform }),
    packages: [...laptopPackages].sort(),
    mirror: debianMirror(),
    // The build steps themselves: changing them makes a new cache entry.
    script: buildScript(laptopPackages),
  };
}

/** The releases the rig builds laptops of; the rig's laptop tests run once for each. */
export const rigReleases: readonly PlatformId[] = ["debian-12", "debian-13"];

/** Where the laptop root of a release's current recipe lives (whether built yet or not). */
export function laptopRootPath(platform: PlatformId = "debian-12"): string {
  const material = JSON.stringify(recipe(platform));
  const key = createHash("sha256").update(material).digest("hex").slice(0, 12);
  return join(homedir(), ".cache", "koffer", `laptop-${releases[platform].versionId}-${key}`);
}

/** Why the laptop root cannot be built or booted here, or null when it can. */
export function laptopRootSkipReason(): string | null {
  return debianRootSkipReason() ?? machineSkipReason();
}

interface Manifest {
  recipe: unknown;
  builtAt: string;
  buildSeconds: number;
  bytes: number;
  files: number;
  treeSha256: string;
}

/** sha256 over the sorted listing of the tree (metadata, not content: cheap, ~1 s). */
export async function treeChecksum(
  path: string,
): Promise<{ sha256: string; files: number; bytes: number }> {
  const { stdout } = await execa(
    "find",
    [".", "-xdev", "-printf", "%p\\0%y\\0%m\\0%U\\0%G\\0%s\\0%T@\\0%l\\n"],
    { cwd: path, env: { LC_ALL: "C" }, maxBuffer: 1 << 30, stripFinalNewline: false },
  );
  const lines = stdout.split("\n").filter(Boolean).sort();
  const bytes = lines.reduce((sum, line) => sum + Number(line.split("\0")[5] ?? 0), 0);
  const sha256 = createHash("sha256").update(lines.join("\n")).digest("hex");
  return { sha256, files: lines.length, bytes };
}

const manifestPath = (root: string) => `${root}.manifest.json`;

/** The recorded build figures of the cached laptop root (for bench and the README). */
export async function laptopManifest(root: string): Promise<Manifest> {
  return JSON.parse(await readFile(manifestPath(root), "utf8")) as Manifest;
}

export async function nspawnRun(
  root: string,
  script: string,
  bindArchives: string,
  what = "the laptop root",
): Promise<void> {
  const name = `kof-build-${process.pid}-${randomBytes(3).toString("hex")}`;
  const run = execa(
    "systemd-nspawn",
    [
      `--directory=${root}`,
      "--register=no",
      "--keep-unit",
      "--as-pid2",
      "--pipe",
      "--link-journal=no",
      "--timezone=off",
      // apt must reach the mirror: the host's network and resolver, nothing else of the host.
      "--resolv-conf=bind-host",
      `--bind=${bindArchives}:/var/cache/apt/archives`,
      "--setenv=DEBIAN_FRONTEND=noninteractive",
      "--setenv=DEBCONF_NONINTERACTIVE_SEEN=true",
      "--setenv=LC_ALL=C",
      "--",
      "/bin/sh",
      "-euc",
      script,
    ],
    {
      reject: false,
      all: true,
      timeout: 40 * 60_000,
      env: {
        PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin",
        LC_ALL: "C",
        // nspawn's stub init (PID 1 with --as-pid2) is a fork of nspawn: the sweeper finds it
        // by this variable when nspawn is gone.
        [markerVariable]: name,
      },
      extendEnv: false,
    },
  );
  // Tracked like a booted machine: a run killed during apt leaves no container behind.
  const item: Leftover = {
    kind: "machine",
    name,
    nspawnPid: run.pid ?? 0,
    nspawnStart: processStart(run.pid ?? 0),
  };
  const untrack = track(item, () => undoLeftover(item));
  const result = await run.finally(() => {
    undoLeftover(item);
    untrack();
  });
  if (result.exitCode !== 0)
    throw new Error(
      `building ${what} failed (${result.exitCode}):\n${String(result.all).slice(-4000)}`,
    );
}

/**
 * The desktop laptop root of a release (default Debian 12), built on first use (root, a
 * Debian mirror, ~10-16 min) and cached with a checksum; returns the cached path. Read-only:
 * use {@link copyRoot} for a test.
 */
export async function laptopRoot(platform: PlatformId = "debian-12"): Promise<string> {
  const skip = laptopRootSkipReason();
  if (skip !== null) throw new Error(skip);
  return cachedLayer({
    finalPath: laptopRootPath(platform),
    base: () => debianRoot({ release: platform }),
    script: buildScript(laptopPackages),
    // Each release has its own .deb cache: same package names, different versions.
    archives: join(homedir(), ".cache", "koffer", releases[platform].aptArchiveCache),
    what: "laptop root",
    recipe: recipe(platform),
  });
}

/** A cached tree made by running `script` in a container on a copy of `base`. */
export interface LayerSpec {
  finalPath: string;
  base: () => Promise<string>;
  script: string;
  /** Host directory bound over the tree's /var/cache/apt/archives (koffer's lock held). */
  archives: string;
  /** "laptop root", "kernel root": for messages. */
  what: string;
  /** Recorded in the manifest (the path's hash is taken over it by the caller). */
  recipe: unknown;
}

/**
 * Build a layer once (under a lock; the manifest is the commit point) or return the cached
 * one after re-checking its tree checksum, so a test that wrote into the cache is caught.
 */
export async function cachedLayer(spec: LayerSpec): Promise<string> {
  const { finalPath } = spec;
  if (existsSync(manifestPath(finalPath))) return verified(finalPath, spec.what);
  const base = await spec.base();
  await mkdir(join(finalPath, ".."), { recursive: true });
  const release = await acquireCacheLock(`${finalPath}.lock`, 60 * 60_000);
  try {
    if (existsSync(manifestPath(finalPath))) return await verified(finalPath, spec.what);
    const started = Date.now();
    const tempPath = `${finalPath}.tmp-${process.pid}`;
    await rm(tempPath, { recursive: true, force: true });
    await rm(finalPath, { recursive: true, force: true });
    await execa("cp", ["-a", "--reflink=auto", base, tempPath]);
    await mkdir(join(spec.archives, "partial"), { recursive: true });
    // koffer's own apt runs and other tests share the cache: hold koffer's lock on it.
    const releaseArchives = await acquireCacheLock(
      join(spec.archives, ".koffer-lock"),
      30 * 60_000,
    );
    try {
      await nspawnRun(tempPath, spec.script, spec.archives, `the ${spec.what}`).finally(
        releaseArchives,
      );
    } catch (error) {
      await rm(tempPath, { recursive: true, force: true });
      throw error;
    }
    const sum = await treeChecksum(tempPath);
    await rename(tempPath, finalPath);
    const manifest: Manifest = {
      recipe: spec.recipe,
      builtAt: new Date().toISOString(),
      buildSeconds: Math.round((Date.now() - started) / 1000),
      bytes: sum.bytes,
      files: sum.files,
      treeSha256: sum.sha256,
    };
    // The manifest is the commit point: a tree without one is rebuilt.
    await writeFile(manifestPath(finalPath), `${JSON.stringify(manifest, null, 2)}\n`);
    return finalPath;
  } finally {
    await release();
  }
}

async function verified(path: string, what: string): Promise<string> {
  const manifest = await laptopManifest(path);
  const sum = await treeChecksum(path);
  if (sum.sha256 !== manifest.treeSha256)
    throw new Error(
      `the cached ${what} ${path} changed since it was built (tree checksum ${sum.sha256}, ` +
        `manifest ${manifest.treeSha256}); something wrote into the cache. Remove it and its ` +
        `.manifest.json to rebuild.`,
    );
  return path;
}

/**
 * How {@link copyRoot} makes a private tree:
 * - "tmpfs" (default): `cp -a` into a tmpfs of its own (RAM, ~2 GiB for the laptop; ~10-30 s;
 *   removal is an unmount). Works for everything, including koffer's provisioning, whose
 *   package sandbox (systemd-nspawn --private-users) needs idmapped mounts, which tmpfs has.
 * - "overlay": the cache as the read-only lower layer of an overlayfs: instant, for trees
 *   that are only booted. overlayfs cannot be idmapped, so koffer's package sandbox refuses
 *   it, and the tree's root is itself a mount point.
 */
export type CopyMode = "tmpfs" | "overlay";

/**
 * A private writable copy of a cached root for one test; the cache is never written.
 * Tracked: removed by cleanup(), at exit, on a signal, or by the next run's sweeper.
 */
export async function copyRoot(
  src: string,
  mode: CopyMode = "tmpfs",
): Promise<{ path: string; cleanup(): Promise<void> }> {
  sweepStale();
  const dir = await mkdtemp(join("/var/tmp", "kof-root-"));
  const name = dir.slice(dir.lastIndexOf("/") + 1);
  const mountPoint = join(dir, "mnt");
  await mkdir(mountPoint);
  const item = { kind: "mount" as const, name, path: mountPoint, dir };
  const untrack = track(item, () => undoLeftover(item));
  let done = false;
  const cleanup = async () => {
    if (done) return;
    done = true;
    const result = await execa("umount", [mountPoint], { reject: false });
    if (result.exitCode !== 0) await execa("umount", ["--lazy", mountPoint], { reject: false });
    untrack();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    let path: string;
    if (mode === "overlay") {
      await mkdir(join(dir, "upper"));
      await mkdir(join(dir, "work"));
      const lower = `lowerdir=${src},upperdir=${join(dir, "upper")},workdir=${join(dir, "work")}`;
      await mustRun("mount", ["-t", "overlay", "overlay", "-o", lower, mountPoint]);
      path = mountPoint;
    } else {
      // The tree is a directory below the mount, so the root itself is no mount point.
      await mustRun("mount", ["-t", "tmpfs", "-o", "mode=0755,size=8g", name, mountPoint]);
      path = join(mountPoint, "root");
      await mustRun("cp", ["-a", src, path]);
    }
    return { path, cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

async function mustRun(cmd: string, args: string[]): Promise<void> {
  const result = await execa(cmd, args, { reject: false });
  if (result.exitCode !== 0)
    throw new Error(`${cmd} ${args.join(" ")} failed (${result.exitCode}): ${result.stderr}`);
}
