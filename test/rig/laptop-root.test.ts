/**
 * The cached desktop laptop roots (Debian 12 and Debian 13): each built once (or found),
 * recorded in its manifest with the recipe and a tree checksum, and never written by a test
 * (a copy is an overlay view).
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import {
  copyRoot,
  laptopManifest,
  laptopPackages,
  laptopRoot,
  laptopRootSkipReason,
  rigReleases,
} from "./laptop-root.js";
import { releases } from "../../src/platform/releases.js";

const skip = laptopRootSkipReason();

describe.skipIf(skip !== null).each(rigReleases)(
  "rig: the desktop laptop root (%s)",
  (platform) => {
    let root: string;

    beforeAll(async () => {
      root = await laptopRoot(platform);
    }, 60 * 60_000);

    it("is the release it is named for, per its own /etc/os-release", async () => {
      const osRelease = await readFile(join(root, "etc/os-release"), "utf8");
      expect(osRelease).toContain(`VERSION_ID="${releases[platform].versionId}"`);
      expect(osRelease).toContain(`VERSION_CODENAME=${releases[platform].codename}`);
      expect(root).toMatch(new RegExp(`/laptop-${releases[platform].versionId}-[0-9a-f]{12}$`));
    });

    it("has every package of the recipe installed, per the tree's own dpkg database", async () => {
      const { stdout } = await execa("dpkg-query", [
        `--admindir=${join(root, "var/lib/dpkg")}`,
        "-W",
        "-f=${Package} ${db:Status-Abbrev}\\n",
        ...laptopPackages,
      ]);
      const notInstalled = stdout
        .trim()
        .split("\n")
        .filter((line) => !/ ii\s*$/.test(line));
      expect(notInstalled).toEqual([]);
      const manifest = await laptopManifest(root);
      expect((manifest.recipe as { packages: string[] }).packages).toEqual(
        [...laptopPackages].sort(),
      );
      expect(manifest.treeSha256).toMatch(/^[0-9a-f]{64}$/);
    });

    it.each(["tmpfs", "overlay"] as const)(
      "gives each test a private %s copy: writes land in the copy, never in the cache",
      async (mode) => {
        const copy = await copyRoot(root, mode);
        try {
          await writeFile(join(copy.path, "etc/hostname"), "changed\n");
          expect(await readFile(join(copy.path, "etc/hostname"), "utf8")).toBe("changed\n");
          expect(await readFile(join(root, "etc/hostname"), "utf8")).toBe("koffer-laptop\n");
        } finally {
          await copy.cleanup();
        }
        expect(await readFile("/proc/self/mountinfo", "utf8")).not.toContain(copy.path);
      },
    );

    it("still matches its manifest (laptopRoot re-checks the tree checksum)", async () => {
      expect(await laptopRoot(platform)).toBe(root);
    });
  },
);
