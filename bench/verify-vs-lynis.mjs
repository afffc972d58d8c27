#!/usr/bin/env node
// bench:verify — `koffer verify --root` against Lynis on the same offline root, same run.
//
// Root: the cached debootstrapped Debian 12 tree the tests and `koffer demo` use
// (src/demo/debian-root.ts, ~/.cache/koffer/debian-12-*; built once if absent), or
// KOFFER_BENCH_ROOT. It is only read, never changed.
//
// How Lynis is pointed at the root: Lynis 3.0.8 (Debian 12's package `lynis`) has an
// undocumented `--rootdir DIR` option (include/parameters: "Root directory (useful for
// forensics)"; it is not listed by `lynis show options`), used together with `--forensics`.
// This is the closest real way to audit an offline tree with Lynis; not every Lynis test
// honours ROOTDIR (some still look at the running host, e.g. BOOT-5104 asks the host's
// PID 1 and reports "Unknown service manager" as an exception here), which only makes
// Lynis's job smaller, never larger. Run: `lynis audit system --rootdir ROOT --forensics --quick
// --no-colors --no-log --report-file TMP`.
//
// koffer: the built CLI, `node bin/koffer.js verify --root ROOT --format json --out TMP`,
// process start-up included (as Lynis's is), median of KOFFER_BENCH_RUNS (default 5).
// Lynis: one run by default (it takes tens of seconds; KOFFER_BENCH_LYNIS_RUNS for more).
// Target (issue 3): koffer evaluates the whole catalogue at least 20× faster.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

const bin = fileURLToPath(new URL("../bin/koffer.js", import.meta.url));
const runs = Number(process.env.KOFFER_BENCH_RUNS ?? 5);
const lynisRuns = Number(process.env.KOFFER_BENCH_LYNIS_RUNS ?? 1);

/** The tests' and the demo's cached Debian 12 root (src/demo/debian-root.ts), built if absent. */
async function findRoot() {
  if (process.env.KOFFER_BENCH_ROOT) return process.env.KOFFER_BENCH_ROOT;
  const { debianRoot, debianRootPath, debianRootSkipReason } =
    await import("../dist/demo/debian-root.js");
  if (existsSync(join(debianRootPath(), "var", "lib", "dpkg", "status"))) return debianRootPath();
  const why = debianRootSkipReason();
  if (why !== null) {
    console.error(`no debootstrapped Debian 12 root and cannot build one: ${why}`);
    return null;
  }
  console.error("building the Debian 12 root once with debootstrap (a few minutes)…");
  return debianRoot();
}

function lynisPath() {
  for (const p of ["/usr/sbin/lynis", "/usr/bin/lynis"]) if (existsSync(p)) return p;
  return null;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(cmd, args) {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { encoding: "utf8", env: { ...process.env, LC_ALL: "C" } });
  return { ms: performance.now() - t0, status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const root = await findRoot();
if (root === null) process.exit(2);
const lynis = lynisPath();
if (lynis === null) {
  console.error("lynis is not installed: apt-get install lynis (Debian package lynis)");
  process.exit(2);
}
const lynisVersion = execFileSync(lynis, ["--version"], { encoding: "utf8" }).trim();
const tmp = mkdtempSync(join(tmpdir(), "koffer-bench-verify-"));
try {
  console.log(`root: ${root}`);
  // koffer: one warm-up run (page cache, node's compile cache), then the measured runs.
  const out = join(tmp, "result.json");
  const kofferArgs = [bin, "verify", "--root", root, "--format", "json", "--out", out, "--quiet"];
  time(process.execPath, kofferArgs);
  const koffer = [];
  for (let i = 0; i < runs; i++) {
    const r = time(process.execPath, kofferArgs);
    // exit 1 = non-compliant (a plain Debian is); anything else means the run did not complete.
    if (r.status !== 1) throw new Error(`koffer verify exited ${r.status}: ${r.stderr}`);
    koffer.push(r.ms);
  }
  const result = JSON.parse(readFileSync(out, "utf8"));
  const s = result.summary;

  const lynisTimes = [];
  let testsDone = "?";
  let exceptions = [];
  for (let i = 0; i < lynisRuns; i++) {
    const report = join(tmp, `lynis-${i}.dat`);
    const r = time(lynis, [
      "audit",
      "system",
      "--rootdir",
      root,
      "--forensics",
      "--quick",
      "--no-colors",
      "--no-log",
      "--report-file",
      report,
    ]);
    if (r.status !== 0) throw new Error(`lynis exited ${r.status}: ${r.stderr.slice(-500)}`);
    lynisTimes.push(r.ms);
    const dat = existsSync(report) ? readFileSync(report, "utf8") : "";
    testsDone = /^lynis_tests_done=(\d+)/m.exec(dat)?.[1] ?? testsDone;
    exceptions = [...dat.matchAll(/^exception_event\[\]=(.*)$/gm)].map((m) => m[1]);
  }

  const k = median(koffer);
  const l = median(lynisTimes);
  console.log(
    `koffer verify --root:            ${(k / 1000).toFixed(3)} s (median of ${runs}; ${result.controls.length} controls: ${s.pass} pass, ${s.fail} fail, ${s.error} error, ${s.skip} skip, ${s.notApplicable} n/a)`,
  );
  console.log(
    `lynis audit system --rootdir:    ${(l / 1000).toFixed(3)} s (median of ${lynisRuns}; ${lynisVersion}, ${testsDone} tests done; --forensics --quick)`,
  );
  console.log(
    `how Lynis was pointed at the root: lynis audit system --rootdir ROOT --forensics (undocumented option of Lynis 3.0.8)${exceptions.length > 0 ? `; Lynis exceptions: ${exceptions.join("; ")}` : ""}`,
  );
  const ratio = l / k;
  console.log(`ratio lynis/koffer: ${ratio.toFixed(1)}× (target ≥ 20×)`);
  console.log(ratio >= 20 ? "OK: at least 20× faster" : "UNDER TARGET: less than 20× faster");
  process.exitCode = ratio >= 20 ? 0 : 1;
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
