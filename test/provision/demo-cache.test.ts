/**
 * What the demo leaves on disk: it says where and how big (issue 15), and
 * `koffer demo --clean` removes it — never through a mount a killed run left behind.
 */
import { execa } from "execa";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { demoCacheLine, displayPath, formatSize } from "../../src/demo/cache.js";
import { koffer } from "../helpers/cli.js";
import { tempDir } from "../helpers/tmp.js";

/** A home directory holding one demo laptop of about 2 MB. */
function homeWithDemo(): { home: string; demo: string } {
  const home = tempDir("demo-home");
  const demo = join(home, ".cache", "koffer", "demo");
  mkdirSync(join(demo, "laptop-abc", "root", "proc"), { recursive: true });
  writeFileSync(join(demo, "laptop-abc", "disk.img"), Buffer.alloc(2_000_000, 1));
  return { home, demo };
}

describe("the demo's cache", () => {
  it("sizes are shown as people read them", () => {
    expect(formatSize(0)).toBe("0 B");
    expect(formatSize(860_123_456)).toBe("860 MB");
    expect(formatSize(1_234_000_000)).toBe("1.2 GB");
    expect(formatSize(2_060_000)).toBe("2.1 MB");
    expect(displayPath("/root/.cache/koffer/demo", "/root")).toBe("~/.cache/koffer/demo");
    expect(displayPath("/srv/demo", "/root")).toBe("/srv/demo");
  });

  it("the closing line names the directory, its size and how to remove it", async () => {
    const { demo } = homeWithDemo();
    expect(await demoCacheLine(demo)).toMatch(
      /^Cache: \S+\/\.cache\/koffer\/demo \(2 MB\) — löschen \/ remove: koffer demo --clean$/,
    );
  });

  it("koffer demo --clean removes the laptops and says how much", async () => {
    const { home, demo } = homeWithDemo();
    const run = await koffer(["demo", "--clean"], { env: { HOME: home } });
    expect(run.stderr).toBe("");
    expect(run.stdout).toBe("gelöscht / removed: ~/.cache/koffer/demo (2 MB)\n");
    expect(run.exitCode).toBe(0);
    expect(existsSync(demo)).toBe(false);
    expect(existsSync(join(home, ".cache", "koffer"))).toBe(true);
  });

  it.skipIf(process.getuid?.() !== 0)(
    "refuses (exit 2) while something is mounted below, removing nothing",
    async () => {
      const { home, demo } = homeWithDemo();
      const proc = join(demo, "laptop-abc", "root", "proc");
      await execa("mount", ["-t", "tmpfs", "none", proc]);
      try {
        writeFileSync(join(proc, "precious"), "kept");
        const run = await koffer(["demo", "--clean"], { env: { HOME: home } });
        expect(run.exitCode).toBe(2);
        expect(run.stderr).toContain("still has mounts below it");
        expect(existsSync(join(proc, "precious"))).toBe(true);
        expect(existsSync(join(demo, "laptop-abc", "disk.img"))).toBe(true);
      } finally {
        await execa("umount", [proc]);
      }
    },
  );
});
