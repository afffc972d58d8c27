// Re-provisioning an already provisioned root (the no-op path: gather, plan nothing, verify,
// write the reports) through the CLI, timed against `koffer verify` on the same root in the
// same run. Target: the no-op provision under 3 s. Setup (once, not timed): a copy of the
// cached debootstrapped Debian 12 root and a weak LUKS2 image, provisioned for real.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { debianRoot } from "../dist/demo/debian-root.js";

const repo = new URL("..", import.meta.url).pathname;
const bin = join(repo, "bin/koffer.js");
const runs = Number(process.env.BENCH_RUNS ?? 5);
const dir = mkdtempSync(join(tmpdir(), "koffer-bench-provision-"));
const env = {
  ...process.env,
  NO_COLOR: "1",
  KOFFER_TEST_PBKDF: "fast",
  KOFFER_APT_ARCHIVES: join(homedir(), ".cache", "koffer", "apt-archives"),
};

/** Remove a work tree, first detaching anything still mounted below it (never delete through a bind mount of /dev). */
function safeRm(path) {
  const mounts = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((line) => line.split(" ")[4] ?? "")
    .filter((point) => point.startsWith(`${path}/`))
    .sort((a, b) => b.length - a.length);
  for (const point of mounts) spawnSync("umount", ["-l", point]);
  rmSync(path, { recursive: true, force: true });
}

function koffer(args) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: repo, env, encoding: "utf8" });
  return { ms: performance.now() - t0, code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

try {
  const root = join(dir, "root");
  execFileSync("cp", ["-a", await debianRoot(), root]);
  const disk = join(dir, "disk.img");
  writeFileSync(disk, "");
  truncateSync(disk, 32 * 1024 * 1024);
  execFileSync(
    "cryptsetup",
    [
      "luksFormat",
      "--batch-mode",
      "--type=luks2",
      "--pbkdf=pbkdf2",
      "--pbkdf-force-iterations=1000",
      "--key-file=-",
      disk,
    ],
    { input: "bench-passphrase" },
  );
  const pass = join(dir, "pass");
  writeFileSync(pass, "bench-passphrase\n", { mode: 0o600 });
  const target = ["--root", root, "--disk", disk, "--profile", join(repo, "examples/meerane.yaml")];
  const first = koffer([
    "provision",
    ...target,
    "--yes",
    "--passphrase-file",
    pass,
    "--ca-p12",
    join(repo, "examples/certs/test-vpn-ca.p12"),
    "--ca-passphrase-file",
    join(repo, "examples/certs/test-vpn-ca.pass"),
  ]);
  if (!/ 0 failed/.test(first.stdout))
    throw new Error(`setup provision failed:\n${first.stdout}${first.stderr}`);
  console.log(
    `setup: first provision ${(first.ms / 1000).toFixed(1)} s (apt in the chroot included)`,
  );

  const noop = [];
  const verify = [];
  for (let i = 0; i < runs; i++) {
    const p = koffer(["provision", ...target, "--yes", "--passphrase-file", pass]);
    if (!/^Plan: nothing to change\.$/m.test(p.stdout))
      throw new Error(`not a no-op:\n${p.stdout}`);
    noop.push(p.ms);
    verify.push(koffer(["verify", ...target, "--format", "json"]).ms);
  }
  const n = median(noop);
  const v = median(verify);
  console.log(
    `no-op provision: median ${(n / 1000).toFixed(2)} s over ${runs} runs (target < 3 s) ${n < 3000 ? "OK" : "TOO SLOW"}`,
  );
  console.log(`koffer verify (baseline, same root): median ${(v / 1000).toFixed(2)} s`);
  console.log(`ratio no-op provision / verify: ${(n / v).toFixed(2)}×`);
  if (n >= 3000) process.exitCode = 1;
} finally {
  safeRm(dir);
}
