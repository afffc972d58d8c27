/**
 * Hostile files in a target: a FIFO, device nodes (one onto a `/dev/zero` node in the tree,
 * one with the numbers of a host block device holding a canary), a 132 MB /etc/passwd, a
 * huge directory and a run that reads too much in total. Each is refused by the one reading
 * primitive (src/targets/files.ts) quickly, with the reason as the area's gather error,
 * and nothing of the host is read or changed.
 *
 * Exit codes: `koffer facts` exits 0 and names the refused area in `gatherErrors`;
 * `koffer verify` exits 2 (could not complete: the area's controls are `error`).
 */
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileRefusedError } from "../../src/errors.js";
import { RootTarget } from "../../src/targets/root.js";
import { ReadBudget, readHostDir, readHostFile } from "../../src/targets/files.js";
import { koffer, repoRoot } from "../helpers/cli.js";
import { hostCanary, treeSnapshot } from "./guard.js";

let base: string;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), "koffer-hostile-"));
});
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await rm(base, { recursive: true, force: true });
});

async function newRoot(name: string): Promise<string> {
  const root = join(base, name);
  await mkdir(join(root, "etc"), { recursive: true });
  await mkdir(join(root, "dev"), { recursive: true });
  await writeFile(join(root, "etc/group"), "root:x:0:\n");
  return root;
}

async function mknod(path: string, kind: "c" | "b", major: number, minor: number) {
  await execa("mknod", [path, kind, String(major), String(minor)]);
}

const facts = (root: string) => koffer(["facts", "--root", root], { timeoutMs: 30_000 });

const isRoot = process.getuid?.() === 0;

describe("hostile files in a target", () => {
  it("security: a FIFO at /etc/hostname does not block gathering", async () => {
    const root = await newRoot("fifo");
    await execa("mkfifo", [join(root, "etc/hostname")]);
    const target = await RootTarget.open({ root });
    await expect(target.readText("/etc/hostname")).rejects.toThrow(/not read: a FIFO/);
    const before = await treeSnapshot(root);
    const started = Date.now();
    const run = await facts(root);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).target.hostname).toBe("unknown");
    expect(await treeSnapshot(root)).toEqual(before);
  });

  it.skipIf(!isRoot)(
    "security: /etc/passwd linked to a /dev/zero node in the tree is refused, not read",
    async () => {
      const root = await newRoot("devzero");
      await mknod(join(root, "dev/zero"), "c", 1, 5);
      await symlink("/dev/zero", join(root, "etc/passwd"));
      const before = await treeSnapshot(root);
      const started = Date.now();
      const run = await facts(root);
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(run.exitCode, run.stderr).toBe(0);
      const errors = JSON.parse(run.stdout).gatherErrors as { area: string; message: string }[];
      expect(errors).toContainEqual({
        area: "accounts",
        message: `${join(root, "dev/zero")}: not read: a character device`,
      });
      expect(await treeSnapshot(root)).toEqual(before);
    },
  );

  it.skipIf(!isRoot)(
    "security: a device node with a host block device's numbers puts no host data in the facts",
    async () => {
      const canary = await hostCanary("");
      cleanups.push(() => rm(canary.dir, { recursive: true, force: true }));
      const image = join(canary.dir, "host-disk.img");
      await writeFile(
        image,
        Buffer.concat([Buffer.from("HOST-DISK-CANARY\n"), Buffer.alloc(65536)]),
      );
      const loop = (await execa("losetup", ["-f", "--show", image])).stdout.trim();
      cleanups.push(() => execa("losetup", ["-d", loop]));
      const [major, minor] = (await execa("stat", ["-c", "%t %T", loop])).stdout
        .trim()
        .split(" ")
        .map((n) => Number.parseInt(n, 16)) as [number, number];
      const root = await newRoot("hostdev");
      await mknod(join(root, "etc/passwd"), "b", major, minor);
      await mknod(join(root, "etc/machine-id"), "b", major, minor);
      const canaryBefore = await readFile(image);
      const run = await facts(root);
      expect(run.exitCode, run.stderr).toBe(0);
      expect(run.stdout + run.stderr).not.toContain("HOST-DISK-CANARY");
      const errors = JSON.parse(run.stdout).gatherErrors as { area: string; message: string }[];
      expect(errors).toContainEqual({
        area: "accounts",
        message: `${join(root, "etc/passwd")}: not read: a block device`,
      });
      expect(await readFile(image)).toEqual(canaryBefore);
    },
  );

  it("security: a 132 MB /etc/passwd is refused at once; verify exits 2 naming the reason", async () => {
    const root = await newRoot("huge");
    const line = "user:x:1000:1000:User,,,:/home/user:/bin/bash\n";
    await writeFile(join(root, "etc/passwd"), line.repeat(Math.ceil(132_000_000 / line.length)));
    const before = await treeSnapshot(root);
    const started = Date.now();
    const run = await koffer(
      [
        "verify",
        "--root",
        root,
        "--profile",
        join(repoRoot, "examples/meerane.yaml"),
        "--format",
        "json",
      ],
      { timeoutMs: 60_000 },
    );
    const elapsed = Date.now() - started;
    expect(run.exitCode, run.stderr).toBe(2);
    expect(elapsed).toBeLessThan(30_000); // was 20-25 s and 2 GB of memory for facts alone
    expect(run.stderr).toContain(
      `accounts: ${join(root, "etc/passwd")}: not read: expected at most 8388608 bytes, found`,
    );
    const result = JSON.parse(run.stdout) as { controls: { id: string; status: string }[] };
    expect(result.controls.find((c) => c.id === "ACC-01")?.status).toBe("error");
    expect(await treeSnapshot(root)).toEqual(before);
  });

  it("security: a file that grows past the cap while read is cut off, not read to the end", async () => {
    // procfs and growing files report a size below what they yield: the cap counts bytes read.
    const file = join(base, "grows");
    await writeFile(file, "x".repeat(4096));
    await expect(readHostFile(file, { maxBytes: 100 })).rejects.toThrow(
      /expected at most 100 bytes, found 4096 bytes/,
    );
    if (process.platform === "linux") {
      await expect(readHostFile("/proc/self/environ", { maxBytes: 1 })).rejects.toThrow(
        /expected at most 1 bytes, found more than 1 bytes/,
      );
    }
  });

  it("security: the run's read budget stops many files just under the cap", async () => {
    const file = join(base, "chunk");
    await writeFile(file, "y".repeat(1000));
    const budget = new ReadBudget(2500);
    await readHostFile(file, { budget });
    await readHostFile(file, { budget });
    const third = readHostFile(file, { budget });
    await expect(third).rejects.toBeInstanceOf(FileRefusedError);
    await expect(readHostFile(file, { budget })).rejects.toThrow(/read budget of 2500 bytes/);
  });

  it("security: a symbolic link where none may be (root target, after resolving) is not followed", async () => {
    const canary = await hostCanary("HOST-SECRET\n");
    cleanups.push(() => rm(canary.dir, { recursive: true, force: true }));
    const link = join(base, "swapped");
    await symlink(canary.file, link);
    await expect(readHostFile(link, { follow: false })).rejects.toThrow(/a symbolic link/);
  });

  it("security: a directory listing is bounded", async () => {
    const dir = join(base, "many");
    await mkdir(dir);
    for (let i = 0; i < 12; i++) await writeFile(join(dir, `f${i}`), "");
    await expect(readHostDir(dir, 10)).rejects.toThrow(/more than 10 entries/);
    expect(await readHostDir(dir, 12)).toHaveLength(12);
  });
});
