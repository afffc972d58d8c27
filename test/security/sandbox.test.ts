/**
 * Security: an image's own code must never run as the host (issue 14).
 *
 * The attack: an image whose `apt-get` and `dpkg` are planted scripts. Run by provision, they
 * try to write a host canary through every /proc/<pid>/root they can see, harvest
 * KOFFER_CA_PASSPHRASE / KOFFER_DISK_PASSPHRASE from their environment and from every
 * /proc/<pid>/environ, list /dev for host disks and leave processes behind. With the old
 * `chroot ROOT apt-get` all of that worked. Asserted: the host canary is untouched, no secret
 * reaches the image, no host block device is visible, the host's mount table is the same
 * before and after, and nothing of the image keeps running.
 */
import { execa } from "execa";
import { chmod, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadProfileOrThrow } from "../../src/profiles/loader.js";
import { applyChanges } from "../../src/provision/apply.js";
import { makeHandlers } from "../../src/provision/handlers/index.js";
import type { Change } from "../../src/provision/types.js";
import { childEnvironment, run } from "../../src/targets/exec.js";
import { RootTarget } from "../../src/targets/root.js";
import { runInSandbox, sandboxProcesses } from "../../src/targets/sandbox.js";
import { repoRoot } from "../helpers/cli.js";
import { debianRoot, debianRootSkipReason } from "../helpers/debian-root.js";

const skip = debianRootSkipReason();
const caSecret = `ca-secret-${process.pid}-7f3a`;
const diskSecret = `disk-secret-${process.pid}-91bc`;
const otherSecret = `other-secret-${process.pid}-c0de`;

let dir: string;
let root: string;
let canaryDir: string;
let canary: string;

/** The planted program: everything an attacker in an image would try. */
function plantedScript(name: string, canaryPath: string): string {
  return `#!/bin/sh
out=/var/tmp/koffer-attack-${name}
{
  echo "== env"; env
  echo "== environ"; for f in /proc/[0-9]*/environ; do tr '\\0' '\\n' < "$f" 2>/dev/null; done
  echo "== dev"; ls -1 /dev
  echo "== mounts"; cat /proc/self/mountinfo
} >> "$out" 2>&1
for p in /proc/[0-9]*; do
  echo "pwned by ${name} via $p" > "$p/root${canaryPath}" 2>/dev/null
done
# A fresh procfs (allowed in the container's own namespaces) shows only the container.
mount -t proc proc /mnt 2>/dev/null
for p in /mnt/[0-9]*; do
  echo "pwned by ${name} via $p" > "$p/root${canaryPath}" 2>/dev/null
done
echo c > /proc/sysrq-trigger 2>/dev/null
# A daemon that would outlive the run.
(sleep 300 &) 2>/dev/null
exit 0
`;
}

/**
 * The host mounts this test can vouch for: those at or below its own directories and the
 * host's /, /proc, /sys and /dev (other engineers' tests mount elsewhere at the same time).
 */
function mountTable(text: string): string[] {
  const mine = [dir, canaryDir];
  const watched = (point: string) =>
    ["/", "/proc", "/sys", "/dev", "/dev/pts"].includes(point) ||
    mine.some((d) => point === d || point.startsWith(`${d}/`));
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => line.split(" "))
    .filter((f) => watched(f[4] ?? ""))
    .map((f) => `${f[4]} ${f.slice(f.indexOf("-") + 1).join(" ")}`)
    .sort();
}

describe("exec seam: a child gets an allowlisted environment", () => {
  it("passes PATH and the caller's variables, never KOFFER_* or other secrets", async () => {
    const saved = { ...process.env };
    process.env.KOFFER_CA_PASSPHRASE = caSecret;
    process.env.KOFFER_DISK_PASSPHRASE = diskSecret;
    process.env.AWS_SECRET_ACCESS_KEY = otherSecret;
    try {
      const result = await run("env", [], { env: { WANTED: "yes" } });
      expect(result.exitCode).toBe(0);
      expect(result.stdout).not.toContain(caSecret);
      expect(result.stdout).not.toContain(diskSecret);
      expect(result.stdout).not.toContain(otherSecret);
      expect(result.stdout).not.toMatch(/^KOFFER_/m);
      expect(result.stdout).toMatch(/^PATH=/m);
      expect(result.stdout).toMatch(/^WANTED=yes$/m);
      expect(result.stdout).toMatch(/^LC_ALL=C$/m);
    } finally {
      for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    }
  });

  it("builds the environment from the allowlist only", () => {
    expect(
      childEnvironment({ A: "1" }, { PATH: "/bin", HOME: "/root", KOFFER_X: "s", SECRET: "s" }),
    ).toEqual({ PATH: "/bin", HOME: "/root", A: "1", LC_ALL: "C", LANG: "C" });
  });
});

describe.skipIf(skip !== null)("security: an image's planted apt-get and dpkg", () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "koffer-sec-sandbox-"));
    root = join(dir, "root");
    canaryDir = await mkdtemp(join(tmpdir(), "koffer-sec-canary-"));
    canary = join(canaryDir, "canary");
    await writeFile(canary, "host canary\n");
    await execa("cp", ["-a", await debianRoot(), root]);
    for (const name of ["apt-get", "dpkg"]) {
      const path = join(root, "usr/bin", name);
      await writeFile(path, plantedScript(name, canary));
      await chmod(path, 0o755);
    }
    // An interrupted dpkg journal, so provision runs the image's dpkg too.
    await writeFile(join(root, "var/lib/dpkg/updates/0001"), "");
  }, 600_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    if (canaryDir) await rm(canaryDir, { recursive: true, force: true });
  });

  it("runs them in a container: host canary, mounts and secrets stay the host's", async () => {
    const mountsBefore = mountTable(await readFile("/proc/self/mountinfo", "utf8"));
    const hostDisks = (await readdir("/dev")).filter((n) => /^(sd|vd|nvme|xvd|loop|dm-)/.test(n));
    const saved = { ...process.env };
    process.env.KOFFER_CA_PASSPHRASE = caSecret;
    process.env.KOFFER_DISK_PASSPHRASE = diskSecret;
    process.env.AWS_SECRET_ACCESS_KEY = otherSecret;
    let message: string | undefined;
    try {
      const profile = await loadProfileOrThrow(join(repoRoot, "examples/meerane.yaml"));
      const set = makeHandlers({
        profile,
        pbkdfCost: "fast",
        passphrase: diskSecret,
        aptArchives: join(homedir(), ".cache", "koffer", "apt-archives"),
      });
      const change: Change = {
        kind: "install-packages",
        resource: "packages",
        summary: "install hello",
        controls: [],
        packages: ["hello"],
      };
      const target = await RootTarget.open({ root });
      const report = await applyChanges(target, [change], { handlers: set.handlers });
      message = report.failed[0]?.message;
    } finally {
      for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    }
    // The planted apt-get "succeeded" but installed nothing: koffer notices.
    expect(message).toMatch(/hello is not installed/);

    // The attack ran (it left its notes in the image) …
    const notes = await readFile(join(root, "var/tmp/koffer-attack-apt-get"), "utf8");
    const dpkgNotes = await readFile(join(root, "var/tmp/koffer-attack-dpkg"), "utf8");
    expect(notes).toContain("== env");
    expect(dpkgNotes).toContain("== env");
    // … and found no secret, no koffer variable, no host disk, no host /proc.
    for (const text of [notes, dpkgNotes]) {
      expect(text).not.toContain(caSecret);
      expect(text).not.toContain(diskSecret);
      expect(text).not.toContain(otherSecret);
      expect(text).not.toMatch(/^KOFFER_/m);
      const dev = text.split("== dev\n")[1]!.split("== mounts")[0]!.split("\n");
      for (const disk of hostDisks) expect(dev).not.toContain(disk);
    }
    expect(notes).toMatch(/^DEBIAN_FRONTEND=noninteractive$/m);

    // The host canary is untouched; the only file next to it is itself.
    expect(await readFile(canary, "utf8")).toBe("host canary\n");
    expect(await readdir(canaryDir)).toEqual(["canary"]);
    // Same mount table before and after: nothing was ever mounted on the host.
    expect(mountTable(await readFile("/proc/self/mountinfo", "utf8"))).toEqual(mountsBefore);
    // The daemon it started died with the container.
    const { stdout } = await execa("pgrep", ["-x", "sleep"], { reject: false });
    for (const pid of stdout.split("\n").filter(Boolean)) {
      const rootOf = await execa("readlink", [`/proc/${pid}/root`], { reject: false });
      expect(rootOf.stdout.trim()).not.toBe(root);
    }
  }, 600_000);

  it("refuses a tree whose mount points are symbolic links, before running anything", async () => {
    const hostDir = await mkdtemp(join(tmpdir(), "koffer-sec-mnt-"));
    const evil = join(dir, "evil");
    try {
      await execa("cp", ["-a", root, evil]);
      await rm(join(evil, "proc"), { recursive: true, force: true });
      await execa("ln", ["-s", "../../../../../../../.." + hostDir, join(evil, "proc")]);
      await rm(join(evil, "dev"), { recursive: true, force: true });
      await execa("ln", ["-s", hostDir, join(evil, "dev")]);
      await execa("sh", ["-c", `rm -f ${join(evil, "var/tmp")}/koffer-attack-*`]);
      const mountsBefore = mountTable(await readFile("/proc/self/mountinfo", "utf8"));
      const profile = await loadProfileOrThrow(join(repoRoot, "examples/meerane.yaml"));
      const set = makeHandlers({ profile, pbkdfCost: "fast" });
      const report = await applyChanges(
        await RootTarget.open({ root: evil }),
        [
          {
            kind: "install-packages",
            resource: "packages",
            summary: "install hello",
            controls: [],
            packages: ["hello"],
          },
        ],
        { handlers: set.handlers },
      );
      expect(report.failed[0]?.message).toMatch(/\/(proc|dev) is a symbolic link/);
      expect(await readdir(hostDir)).toEqual([]);
      // Nothing of the image ran.
      expect((await readdir(join(evil, "var/tmp"))).filter((n) => n.startsWith("koffer-"))).toEqual(
        [],
      );
      expect(mountTable(await readFile("/proc/self/mountinfo", "utf8"))).toEqual(mountsBefore);
    } finally {
      await rm(hostDir, { recursive: true, force: true });
      await rm(evil, { recursive: true, force: true });
    }
  }, 600_000);
  it("bounds a planted fork bomb, and makes the image's processes the OOM killer's first choice", async () => {
    // 3000 processes at once: far above the bound, far below what would hurt this host.
    const attempts = 3000;
    await writeFile(
      join(root, "var/tmp/koffer-bomb.sh"),
      `cat /proc/self/oom_score_adj > /var/tmp/koffer-bomb-oom
n=0
while [ $n -lt ${attempts} ]; do
  sleep 300 &
  n=$((n+1))
  echo $n > /var/tmp/koffer-bomb-count
done
`,
    );
    try {
      const result = await runInSandbox(root, "/bin/sh", ["/var/tmp/koffer-bomb.sh"], {
        env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" },
        timeoutMs: 300_000,
      });
      const started = Number(await readFile(join(root, "var/tmp/koffer-bomb-count"), "utf8"));
      expect(started).toBeLessThan(sandboxProcesses);
      expect(started).toBeGreaterThan(sandboxProcesses / 2);
      expect(`${result.stdout}\n${result.stderr}`).toMatch(/fork/i);
      expect((await readFile(join(root, "var/tmp/koffer-bomb-oom"), "utf8")).trim()).toBe("1000");
      // Every one of them died with the container.
      const { stdout } = await execa("pgrep", ["-x", "sleep"], { reject: false });
      for (const pid of stdout.split("\n").filter(Boolean)) {
        const rootOf = await execa("readlink", [`/proc/${pid}/root`], { reject: false });
        expect(rootOf.stdout.trim()).not.toBe(root);
      }
    } finally {
      await execa("sh", ["-c", `rm -f ${join(root, "var/tmp")}/koffer-bomb*`]);
    }
  }, 600_000);
});
