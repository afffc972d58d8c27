/**
 * A Debian root WITH A KERNEL, as an installer leaves a laptop before koffer: the cached
 * plain Debian root (src/demo/debian-root.ts) plus Debian's cloud kernel and
 * `cryptsetup-initramfs`, so /boot holds a real initrd built by initramfs-tools. Installing a
 * kernel is slow (the postinst builds the initrd), so the layer is built once, INSIDE the
 * tree by systemd-nspawn (never chroot on the host), and cached as
 * ~/.cache/koffer/kernel-<version>-<recipe hash> with a `.manifest.json` whose tree checksum
 * every use re-checks, like the laptop root (test/rig/laptop-root.ts).
 *
 * `linux-image-cloud-amd64`: the laptop VM boots it (NVMe built in), its initrd is built in
 * seconds rather than minutes, and it is what dracut regenerates in the provisioning tests.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import {
  debianMirror,
  debianRoot,
  debianRootPath,
  debianRootSkipReason,
} from "../../src/demo/debian-root.js";
import { releases, type PlatformId } from "../../src/platform/releases.js";
import { aptLayerScript, cachedLayer } from "./laptop-root.js";

/** What the layer adds on top of the plain root: a kernel and the stock initrd generator. */
export const kernelLayerPackages: readonly string[] = [
  "linux-image-cloud-amd64",
  "cryptsetup",
  "cryptsetup-initramfs",
];

const buildScript = (packages: readonly string[]) =>
  aptLayerScript(packages, "ls /boot/initrd.img-*\n");

function recipe(release: PlatformId) {
  return {
    base: debianRootPath({ release }),
    packages: [...kernelLayerPackages].sort(),
    mirror: debianMirror(),
    script: buildScript(kernelLayerPackages),
  };
}

/** Where the kernel root of `release` lives (whether built yet or not). */
export function kernelRootPath(release: PlatformId = "debian-12"): string {
  const key = createHash("sha256")
    .update(JSON.stringify(recipe(release)))
    .digest("hex")
    .slice(0, 12);
  return join(homedir(), ".cache", "koffer", `kernel-${releases[release].versionId}-${key}`);
}

/**
 * The .deb cache of the kernel layer and of the initrd tests' provisioning: a directory of its
 * own, because other test rigs run apt on the shared `apt-archives` without koffer's lock and
 * apt gives up at once on a held archives lock.
 */
export function kernelArchives(release: PlatformId = "debian-12"): string {
  return join(homedir(), ".cache", "koffer", `apt-archives-initrd-${releases[release].codename}`);
}

/** Why the kernel root cannot be built here, or null when it can. */
export function kernelRootSkipReason(): string | null {
  return (
    debianRootSkipReason() ??
    (existsSync("/usr/bin/systemd-nspawn") ? null : "systemd-nspawn is not installed")
  );
}

/**
 * The cached Debian root with kernel and initramfs-tools initrd for `release`, built on first
 * use (~5 min, root and a Debian mirror). Read-only: copy it (test/rig/laptop-root.ts
 * `copyRoot`) before changing anything.
 */
export async function kernelRoot(release: PlatformId = "debian-12"): Promise<string> {
  const skip = kernelRootSkipReason();
  if (skip !== null) throw new Error(skip);
  return cachedLayer({
    finalPath: kernelRootPath(release),
    base: () => debianRoot({ release }),
    script: buildScript(kernelLayerPackages),
    archives: kernelArchives(release),
    what: "kernel root",
    recipe: recipe(release),
  });
}
