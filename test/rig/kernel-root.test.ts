/**
 * The cached Debian roots with a kernel (test/rig/kernel-root.ts): built once per release,
 * holding a real initramfs-tools initrd for the cloud kernel.
 */
import { readdir } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { debianRootPath } from "../../src/demo/debian-root.js";
import { kernelRoot, kernelRootSkipReason } from "./kernel-root.js";

const skip = kernelRootSkipReason();
const trixie = existsSync(debianRootPath({ release: "debian-13" }));

describe.skipIf(skip !== null)("rig: the Debian roots with a kernel", () => {
  it.each([
    ["debian-12", true],
    ["debian-13", trixie],
  ] as const)(
    "%s has a cloud kernel and its initramfs-tools initrd in /boot",
    async (release, available) => {
      if (!available) return;
      const root = await kernelRoot(release);
      const boot = await readdir(join(root, "boot"));
      const kernels = boot.filter((n) => n.startsWith("vmlinuz-"));
      expect(kernels.length).toBeGreaterThan(0);
      for (const k of kernels) expect(boot).toContain(`initrd.img-${k.slice("vmlinuz-".length)}`);
    },
    40 * 60_000,
  );
});
