// What the container costs per apt call: the same command (`dpkg --version`, then
// `apt-get check`) in a copy of the cached Debian 12 root, once as the old chroot did it
// (mount proc, sys, dev, dev/pts, resolv.conf; chroot; unmount) and once through
// src/targets/sandbox.ts (systemd-nspawn with user namespace). Median of BENCH_RUNS.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { debianRoot } from "../dist/demo/debian-root.js";
import { runInSandbox } from "../dist/targets/sandbox.js";

const runs = Number(process.env.BENCH_RUNS ?? 7);
const dir = mkdtempSync(join(tmpdir(), "koffer-bench-sandbox-"));
const root = join(dir, "root");
execFileSync("cp", ["-a", await debianRoot(), root]);
const env = {
  PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
  LC_ALL: "C",
  DEBIAN_FRONTEND: "noninteractive",
};

function chroot(command, args) {
  const points = [];
  const mount = (a, p) => {
    execFileSync("mount", [...a, join(root, p)]);
    points.push(join(root, p));
  };
  try {
    mount(["-t", "proc", "proc"], "proc");
    mount(["-t", "sysfs", "sysfs"], "sys");
    mount(["--bind", "/dev"], "dev");
    mount(["--bind", "/dev/pts"], "dev/pts");
    mount(["--bind", "-o", "ro", "/etc/resolv.conf"], "etc/resolv.conf");
    const r = spawnSync("chroot", [root, command, ...args], { env, stdio: "ignore" });
    if (r.status !== 0) throw new Error(`chroot ${command} exited ${r.status}`);
  } finally {
    for (const p of points.reverse()) spawnSync("umount", [p]);
  }
}

async function sandbox(command, args) {
  const r = await runInSandbox(root, command, args, { env });
  if (r.exitCode !== 0) throw new Error(`sandbox ${command} exited ${r.exitCode}: ${r.stderr}`);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function time(fn) {
  const xs = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    xs.push(performance.now() - t);
  }
  return median(xs);
}

try {
  for (const [command, args] of [
    ["dpkg", ["--version"]],
    ["apt-get", ["check", "-q"]],
  ]) {
    const c = await time(() => chroot(command, args));
    const s = await time(() => sandbox(command, args));
    console.log(
      `${command} ${args.join(" ")}: chroot ${c.toFixed(0)} ms, nspawn ${s.toFixed(0)} ms, +${(s - c).toFixed(0)} ms per call (median of ${runs})`,
    );
  }
} finally {
  // Never delete through a mount (the chroot variant bind-mounts the host's /dev).
  const { readFileSync } = await import("node:fs");
  const busy = readFileSync("/proc/self/mountinfo", "utf8").includes(` ${dir}/`);
  if (!busy) rmSync(dir, { recursive: true, force: true });
  else console.error(`left ${dir}: something is still mounted below it`);
}
