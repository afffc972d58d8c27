// Fleet merge benchmark: generate 10,000 results (1,000 devices × 10 runs, 20 municipalities,
// 50 controls each) into a temp dir, then measure in separate child processes
//   baseline: read + JSON.parse every file (the least any merge must do)
//   merge:    mergeResults over the directory, the way `koffer report merge` runs it
// and print wall time, peak RSS of each child, and the ratio merge/baseline.
// Targets: merge < 5 s and < 500 MB peak RSS.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

const COUNT = Number(process.env.BENCH_RESULTS ?? 10_000);
const RUNS_PER_DEVICE = 10;
const MUNICIPALITIES = 20;
const CONTROLS = 50;
const statuses = [
  "pass",
  "pass",
  "pass",
  "pass",
  "pass",
  "pass",
  "fail",
  "waived",
  "skip",
  "not-applicable",
];
const severities = ["critical", "high", "medium", "low"];

function result(i) {
  const device = Math.floor(i / RUNS_PER_DEVICE);
  const run = i % RUNS_PER_DEVICE;
  const m = device % MUNICIPALITIES;
  const started = new Date(Date.UTC(2025, 0, 1) + run * 7 * 86_400_000 + device * 1000);
  const controls = [];
  for (let c = 0; c < CONTROLS; c++) {
    const status = statuses[(device * 7 + c * 3 + run * (c % 5 === 0 ? 1 : 0)) % statuses.length];
    const id = `CTL-${String(c).padStart(2, "0")}`;
    controls.push({
      id,
      title: `Control ${id}`,
      titles: { de: `Prüfpunkt ${id}`, en: `Control ${id}` },
      severity: severities[c % 4],
      kind: "auto",
      status,
      references: ["BSI SYS.2.1.A1", "DSGVO Art. 32 Abs. 1 lit. b"],
      sdmGoals: ["vertraulichkeit"],
      art32: ["b"],
      evidence: [
        {
          subject: `/etc/file-${c}.conf`,
          expected: "setting=on",
          actual: status === "fail" ? "setting=off" : "setting=on",
          source: `/etc/file-${c}.conf:3`,
        },
      ],
      message: status === "fail" ? "Expected setting=on, found setting=off." : "",
      messages: [],
      waiver:
        status === "waived"
          ? {
              reason: "Umstellung",
              author: "M. Muster",
              approvedBy: "DSB",
              risk: "low",
              expires: "2025-04-20",
              expired: false,
            }
          : null,
    });
  }
  const n = (s) => controls.filter((c) => c.status === s).length;
  return {
    schema: "koffer/result/v1",
    tool: { name: "koffer", version: "0.1.0", catalogueVersion: "2025.1" },
    profile: { name: `gemeinde-${m}`, sha256: "0".repeat(64), controller: `Gemeinde ${m}` },
    target: { kind: "root", hostname: `koffer-${String(device).padStart(4, "0")}` },
    facts: { sha256: "1".repeat(64) },
    startedAt: started.toISOString(),
    finishedAt: started.toISOString(),
    lang: "de",
    summary: {
      compliant: n("fail") === 0,
      pass: n("pass"),
      fail: n("fail"),
      error: 0,
      waived: n("waived"),
      notApplicable: n("not-applicable"),
      skip: n("skip"),
    },
    controls,
    readiness: [],
    context: {
      certificates: [
        {
          role: "vpn-client",
          subject: `CN=koffer-${device}`,
          issuer: "CN=CA",
          serialNumber: device.toString(16),
          notBefore: "2024-06-01T00:00:00Z",
          notAfter: new Date(Date.UTC(2025, 3, 1) + device * 86_400_000).toISOString(),
          renewBeforeDays: 30,
        },
      ],
    },
  };
}

const mode = process.argv[2];
if (mode === "baseline" || mode === "merge") {
  const dir = process.argv[3];
  const t0 = performance.now();
  let summary;
  if (mode === "baseline") {
    let controls = 0;
    const walk = (d) => {
      for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) =>
        a.name < b.name ? -1 : 1,
      )) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else controls += JSON.parse(readFileSync(p, "utf8")).controls.length;
      }
    };
    walk(dir);
    summary = { controls };
  } else {
    const { mergeResults, expandInputs } = await import("../dist/report/merge.js");
    const o = await mergeResults(expandInputs([dir]), { now: new Date("2025-03-20T00:00:00Z") });
    summary = {
      results: o.results,
      devices: o.devices,
      municipalities: o.municipalities.length,
      drift: o.municipalities.reduce((s, m) => s + m.drift.length, 0),
    };
  }
  const ms = performance.now() - t0;
  process.stdout.write(
    JSON.stringify({ ms, maxRssMb: process.resourceUsage().maxRSS / 1024, summary }),
  );
} else {
  const dir = mkdtempSync(join(tmpdir(), "koffer-bench-merge-"));
  try {
    const g0 = performance.now();
    for (let i = 0; i < COUNT; i++) {
      const m = Math.floor(i / RUNS_PER_DEVICE) % MUNICIPALITIES;
      const sub = join(dir, `gemeinde-${m}`);
      if (i < MUNICIPALITIES * RUNS_PER_DEVICE) mkdirSync(sub, { recursive: true });
      writeFileSync(
        join(sub, `r-${String(i).padStart(5, "0")}.json`),
        JSON.stringify(result(i), null, 2) + "\n",
      );
    }
    const bytes = Number(execFileSync("du", ["-sb", dir], { encoding: "utf8" }).split("\t")[0]);
    console.log(
      `generated ${COUNT} results (${(bytes / 1e6).toFixed(0)} MB) in ${((performance.now() - g0) / 1000).toFixed(1)} s`,
    );
    const self = fileURLToPath(import.meta.url);
    const child = (m) =>
      JSON.parse(execFileSync(process.execPath, [self, m, dir], { encoding: "utf8" }));
    // Warm the page cache once so both runs read from memory alike.
    child("baseline");
    const base = child("baseline");
    const merge = child("merge");
    console.log(
      `baseline (read + JSON.parse): ${(base.ms / 1000).toFixed(2)} s, peak RSS ${base.maxRssMb.toFixed(0)} MB`,
    );
    console.log(
      `merge:                        ${(merge.ms / 1000).toFixed(2)} s, peak RSS ${merge.maxRssMb.toFixed(0)} MB  ${JSON.stringify(merge.summary)}`,
    );
    console.log(
      `ratio merge/baseline: time ${(merge.ms / base.ms).toFixed(2)}×, RSS ${(merge.maxRssMb / base.maxRssMb).toFixed(2)}×`,
    );
    const ok = merge.ms < 5000 && merge.maxRssMb < 500;
    console.log(ok ? "OK: under 5 s and 500 MB" : "OVER TARGET (5 s, 500 MB)");
    process.exitCode = ok ? 0 : 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
