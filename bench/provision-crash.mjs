// Crash safety through the real CLI and the chroot path: `koffer provision` of a weak Debian 12
// root (fresh copy per trial) is killed with SIGKILL at a random moment — during apt in the
// chroot, file writes, unit changes or keyslot operations. After each kill:
//   - every file the plan manages is either its old bytes or its new bytes, never half-written;
//   - the re-run (no kill) finishes with 0 failed and leaves nothing mounted in the tree;
//   - `koffer plan` afterwards has zero changes (it converged).
// Odd trials kill only the koffer process (apt/dpkg in the chroot live on as orphans, which the
// re-run must wait for); even trials kill the whole process group.
// BENCH_TRIALS (default 20). Needs root and the Debian mirror (or a warm apt cache).
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { debianRoot } from "../dist/demo/debian-root.js";

const repo = new URL("..", import.meta.url).pathname;
const bin = join(repo, "bin/koffer.js");
const trials = Number(process.env.BENCH_TRIALS ?? 20);
const dir = mkdtempSync(join(tmpdir(), "koffer-crash-cli-"));
const env = {
  ...process.env,
  NO_COLOR: "1",
  KOFFER_TEST_PBKDF: "fast",
  KOFFER_APT_ARCHIVES: join(homedir(), ".cache", "koffer", "apt-archives"),
};
const profile = join(repo, "examples/meerane.yaml");
const sha = (b) => (b === null ? "absent" : createHash("sha256").update(b).digest("hex"));
const read = (p) => {
  try {
    return readFileSync(p);
  } catch {
    return null;
  }
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
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: repo, env, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function laptop(trialDir, base) {
  const root = join(trialDir, "root");
  execFileSync("cp", ["-a", base, root]);
  const disk = join(trialDir, "disk.img");
  writeFileSync(disk, "");
  truncateSync(disk, 32 * 1024 * 1024);
  const weak = ["--pbkdf=pbkdf2", "--pbkdf-force-iterations=1000"];
  execFileSync(
    "cryptsetup",
    ["luksFormat", "--batch-mode", "--type=luks2", ...weak, "--key-file=-", disk],
    {
      input: "crash-passphrase",
    },
  );
  const pass = join(trialDir, "pass");
  writeFileSync(pass, "crash-passphrase", { mode: 0o600 });
  execFileSync(
    "cryptsetup",
    ["luksAddKey", "--batch-mode", `--key-file=${pass}`, ...weak, disk, "-"],
    {
      input: "stray",
    },
  );
  return { root, disk, pass };
}

function provisionArgs(l) {
  return [
    "provision",
    "--root",
    l.root,
    "--disk",
    l.disk,
    "--profile",
    profile,
    "--yes",
    "--passphrase-file",
    l.pass,
    "--ca-p12",
    join(repo, "examples/certs/test-vpn-ca.p12"),
    "--ca-passphrase-file",
    join(repo, "examples/certs/test-vpn-ca.pass"),
  ];
}

/** The backup records of the (single) run in this tree, by path. */
function koffersBackups(root) {
  const records = new Map();
  const dir = join(root, "var/lib/koffer/backups");
  let runs = [];
  try {
    runs = readdirSync(dir);
  } catch {
    return records;
  }
  for (const run of runs) {
    const manifest = read(join(dir, run, "manifest.json"));
    if (manifest === null) continue;
    for (const f of JSON.parse(manifest.toString("utf8")).files) records.set(f.path, f);
  }
  return records;
}

async function waitForOrphans(root) {
  const { readdirSync, readlinkSync } = await import("node:fs");
  const deadline = Date.now() + 300_000;
  for (;;) {
    const busy = readdirSync("/proc").some((p) => {
      if (!/^\d+$/.test(p)) return false;
      try {
        return readlinkSync(`/proc/${p}/root`) === root;
      } catch {
        return false;
      }
    });
    if (!busy || Date.now() > deadline) return;
    await sleep(250);
  }
}

/** A provision, with the moment apt finished (the "packages:" progress line). */
function timedRun(l) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let aptDoneMs = 0;
    let stdout = "";
    let stderr = "";
    const child = spawn(process.execPath, [bin, ...provisionArgs(l)], { cwd: repo, env });
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => {
      stderr += d;
      if (aptDoneMs === 0 && /koffer: packages:/.test(stderr)) aptDoneMs = performance.now() - t0;
    });
    child.on("exit", () => resolve({ stdout, stderr, aptDoneMs, totalMs: performance.now() - t0 }));
  });
}

function aptDone(child) {
  return new Promise((resolve) => {
    let seen = "";
    child.stderr.on("data", (d) => {
      seen += d;
      if (/koffer: packages:/.test(seen)) resolve();
    });
  });
}

const mounted = (root) => readFileSync("/proc/self/mountinfo", "utf8").includes(` ${root}/`);

try {
  const base = await debianRoot();
  // One full run first: how long a provision takes, and how much of it comes after apt, so
  // half of the kills land anywhere in it and half in the file/unit/keyslot/certificate part.
  const probeDir = mkdtempSync(join(dir, "probe-"));
  const probe = laptop(probeDir, base);
  const timing = await timedRun(probe);
  if (!/ 0 failed/.test(timing.stdout))
    throw new Error(`full provision failed:\n${timing.stdout}${timing.stderr}`);
  const fullMs = timing.totalMs;
  const postAptMs = fullMs - timing.aptDoneMs;
  safeRm(probeDir);
  console.log(
    `full provision: ${(fullMs / 1000).toFixed(1)} s, of which ${(postAptMs / 1000).toFixed(1)} s after apt; ${trials} trials`,
  );

  let converged = 0;
  let touched = 0;
  let killedMidway = 0;
  const phases = {};
  // A kill that comes after the run finished proves nothing: go on until `trials` kills
  // landed mid-run (at most twice as many attempts).
  let trial = 0;
  for (; killedMidway < trials && trial < 2 * trials; trial++) {
    const trialDir = mkdtempSync(join(dir, `t${trial}-`));
    const l = laptop(trialDir, base);
    const plan = JSON.parse(
      koffer([
        "plan",
        "--root",
        l.root,
        "--disk",
        l.disk,
        "--profile",
        profile,
        "--format",
        "json",
        "--ca-p12",
        join(repo, "examples/certs/test-vpn-ca.p12"),
      ]).stdout,
    ).changes;
    const managed = plan.filter((c) => c.kind === "write-file");
    const wanted = new Map(
      managed.map((c) => [
        c.path,
        sha(Buffer.from(c.content, c.encoding === "base64" ? "base64" : "utf8")),
      ]),
    );

    const group = trial % 2 === 0;
    const child = spawn(process.execPath, [bin, ...provisionArgs(l)], {
      cwd: repo,
      env,
      detached: group,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    const exited = new Promise((resolve) =>
      child.on("exit", (code, signal) => resolve({ code, signal })),
    );
    const afterApt = trial % 4 >= 2;
    const t0 = performance.now();
    if (afterApt) await Promise.race([exited, aptDone(child)]);
    // The part after apt is short and varies with load: aim into its first 70 %.
    const at = Math.random() * (afterApt ? 0.7 * postAptMs : fullMs);
    await Promise.race([exited, sleep(at)]);
    const killedAt = performance.now() - t0;
    try {
      if (group) process.kill(-child.pid, "SIGKILL");
      else child.kill("SIGKILL");
    } catch {
      // already gone
    }
    const outcome = await exited;
    if (outcome.signal === "SIGKILL") killedMidway++;
    const lastResource = (err.match(/koffer: ([a-z-]+)(?::| )/g) ?? []).pop() ?? "start";
    phases[lastResource] = (phases[lastResource] ?? 0) + 1;

    // An orphaned apt/dpkg (koffer-only kills) finishes on its own: let it, then look.
    await waitForOrphans(l.root);
    // koffer backs a file up (manifest, fsynced) before it writes it: a path with a backup
    // record is one koffer may have been writing when killed. It must hold the backed-up
    // bytes or the planned ones. Paths without a record were never touched by koffer (what
    // apt's maintainer scripts wrote meanwhile is dpkg's business).
    const backups = koffersBackups(l.root);
    const torn = [];
    for (const c of managed) {
      const record = backups.get(c.path);
      if (record === undefined) continue;
      const now = sha(read(join(l.root, c.path)));
      const old = record.existed ? record.sha256 : "absent";
      if (now !== old && now !== wanted.get(c.path)) torn.push(c.path);
    }
    touched += backups.size;
    const rerun = koffer(provisionArgs(l));
    const ok = / 0 failed/.test(rerun.stdout) || /^Plan: nothing to change\.$/m.test(rerun.stdout);
    const after = JSON.parse(
      koffer(["plan", "--root", l.root, "--disk", l.disk, "--profile", profile, "--format", "json"])
        .stdout,
    ).changes;
    const clean = !mounted(l.root);
    const good = torn.length === 0 && ok && after.length === 0 && clean;
    if (good) converged++;
    console.log(
      `trial ${String(trial + 1).padStart(2)}: kill at ${(killedAt / 1000).toFixed(1)} s${afterApt ? " (after apt)" : ""} (${group ? "group" : "koffer only"}, ${outcome.signal ?? `exit ${outcome.code}`}, last: ${lastResource.trim()}) — torn ${torn.length}${torn.length ? ` (${torn.join(", ")})` : ""}, re-run ${ok ? "ok" : "FAILED"}, plan after ${after.length}, mounts ${clean ? "none" : "LEFT"}`,
    );
    if (!good)
      console.log(
        rerun.stdout
          .split("\n")
          .filter((x) => /failed|Verify/.test(x))
          .join("\n"),
        after.map((c) => c.summary),
      );
    safeRm(trialDir);
  }
  console.log(
    `${converged}/${trial} trials converged with no half-written file (${touched} files koffer had backed up at the kills checked); ${killedMidway} killed mid-run`,
  );
  if (converged !== trial || killedMidway < trials) process.exitCode = 1;
} finally {
  safeRm(dir);
}
