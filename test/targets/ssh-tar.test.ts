/**
 * The ssh target's streaming file reader (src/targets/ssh-tar.ts) against a real GNU tar run
 * here with the exact argv the laptop runs (no ssh: the channel is only a pipe).
 */
import { execa } from "execa";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnPiped } from "../../src/targets/exec.js";
import { TarReader, tarReaderArgv } from "../../src/targets/ssh-tar.js";

let dir: string;
const readers: TarReader[] = [];
const reader = () => {
  const r = new TarReader(() => spawnPiped(tarReaderArgv[0] as string, tarReaderArgv.slice(1)));
  readers.push(r);
  return r;
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "koffer-tar-"));
});
afterAll(async () => {
  for (const r of readers) await r.close();
  await rm(dir, { recursive: true, force: true });
});

describe("tar reader", () => {
  it("answers many reads in one wave, byte for byte, in any size", async () => {
    const r = reader();
    const sizes = [1, 511, 512, 513, 10_000, 261_121, 700_000];
    for (const size of sizes)
      await writeFile(join(dir, `f${size}`), Buffer.alloc(size, size % 251));
    const answers = await Promise.all(sizes.map((s) => r.read(join(dir, `f${s}`), 8 << 20)));
    answers.forEach((a, i) => {
      expect(a, String(sizes[i])).toMatchObject({ kind: "file" });
      const bytes = (a as { bytes: Buffer }).bytes;
      expect(bytes.equals(Buffer.alloc(sizes[i] as number, (sizes[i] as number) % 251))).toBe(true);
    });
    expect(r.waves).toBe(1);
  });

  it("a long name, a symlink (followed), a directory and absent files", async () => {
    const r = reader();
    const deep = join(dir, "d".repeat(80), "e".repeat(80));
    await mkdir(deep, { recursive: true });
    await writeFile(join(deep, "file.conf"), "deep\n");
    await writeFile(join(dir, "target"), "pointed at\n");
    await symlink(join(dir, "target"), join(dir, "link"));
    const [long, link, directory, absent, dangling] = await Promise.all([
      r.read(join(deep, "file.conf"), 1024),
      r.read(join(dir, "link"), 1024),
      r.read(deep, 1024),
      r.read(join(dir, "nothing-here"), 1024),
      r.read(join(dir, "nothing-here", "x"), 1024),
    ]);
    expect(long).toEqual({ kind: "file", bytes: Buffer.from("deep\n") });
    expect(link).toEqual({ kind: "file", bytes: Buffer.from("pointed at\n") });
    expect(directory).toEqual({ kind: "directory" });
    // Not answered here: the caller asks SFTP (absent → null there).
    expect(absent).toBeUndefined();
    expect(dangling).toBeUndefined();
  });

  it("security: a FIFO, a link to one and a device are named, never opened (no hang)", async () => {
    const r = reader();
    await execa("mkfifo", [join(dir, "fifo")]);
    await symlink(join(dir, "fifo"), join(dir, "to-fifo"));
    const answers = await Promise.all([
      r.read(join(dir, "fifo"), 1024),
      r.read(join(dir, "to-fifo"), 1024),
      r.read("/dev/zero", 1024),
      r.read("/dev/null", 1024),
    ]);
    expect(answers).toEqual([
      { kind: "special", what: "a FIFO" },
      { kind: "special", what: "a FIFO" },
      { kind: "special", what: "a character device" },
      { kind: "special", what: "a character device" },
    ]);
  });

  it("security: a file over the cap is refused from its header and the channel ends", async () => {
    const r = reader();
    await writeFile(join(dir, "big"), Buffer.alloc(3 << 20, 7));
    await writeFile(join(dir, "small"), "small\n");
    const [big, after] = await Promise.all([
      r.read(join(dir, "big"), 1 << 20),
      r.read(join(dir, "small"), 1 << 20),
    ]);
    expect(big).toEqual({ kind: "too-large", size: 3 << 20 });
    // The rest of that wave and every later read go the ordinary way.
    expect(after).toBeUndefined();
    expect(await r.read(join(dir, "small"), 1 << 20)).toBeUndefined();
  });

  it("procfs, sysfs, empty files and unusual names are left to SFTP", async () => {
    const r = reader();
    await writeFile(join(dir, "empty"), "");
    expect(await r.read("/proc/self/status", 1 << 20)).toBeUndefined();
    expect(await r.read("/sys/kernel/hostname", 1 << 20)).toBeUndefined();
    expect(await r.read(join(dir, "empty"), 1 << 20)).toBeUndefined();
    expect(await r.read(`${dir}/../x`, 1 << 20)).toBeUndefined();
    expect(await r.read(`${dir}//x`, 1 << 20)).toBeUndefined();
    expect(await r.read("/", 1 << 20)).toBeUndefined();
    await writeFile(join(dir, "new\nline"), "nl\n");
    expect(await r.read(join(dir, "new\nline"), 1 << 20)).toBeUndefined();
    // Only the empty file went to tar (procfs says size 0 too: an empty entry is never trusted).
    expect(r.waves).toBe(1);
  });

  it("a channel that cannot start answers everything 'not here'", async () => {
    const r = new TarReader(() => spawnPiped("/nonexistent/tar", []));
    readers.push(r);
    await writeFile(join(dir, "x"), "x");
    expect(await r.read(join(dir, "x"), 1024)).toBeUndefined();
  });
});
