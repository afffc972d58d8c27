#!/usr/bin/env node
/**
 * `npm test` after build, typecheck and lint: the default suite (vitest.config.ts) and the
 * laptop VM (vitest.vm.config.ts, issue 10) side by side. On two cores vitest runs the default
 * suite in one worker, most of it waiting on containers; the VM is one TCG thread. Started
 * together they finish in about the time of the longer one instead of the sum.
 *
 * The suite writes to this terminal; the VM's output goes to test-artifacts/vm-run.log and is
 * printed after the suite. Exit status: the suite's, else the VM's. SIGINT/SIGTERM/SIGHUP are
 * passed to both runs, whose own cleanup (test/rig/cleanup.ts) then stops containers, VMs and
 * namespaces.
 */
import { spawn } from "node:child_process";
import { createWriteStream, mkdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { constants } from "node:os";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..");
const vitest = join(repo, "node_modules", "vitest", "vitest.mjs");
const artifacts = join(repo, "test-artifacts");
mkdirSync(artifacts, { recursive: true });
const vmLogPath = join(artifacts, "vm-run.log");
const vmLog = createWriteStream(vmLogPath);

const run = (args, stdio) =>
  spawn(process.execPath, [vitest, "run", ...args], { cwd: repo, stdio, env: process.env });

const vm = run(["--config", "vitest.vm.config.ts"], ["ignore", "pipe", "pipe"]);
vm.stdout.pipe(vmLog, { end: false });
vm.stderr.pipe(vmLog, { end: false });
const suite = run([], "inherit");

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"])
  process.on(signal, () => {
    for (const child of [suite, vm]) if (child.exitCode === null) child.kill(signal);
  });

/** Exit code of a child (a signal counts as 128 + its number, as a shell reports it). */
const finished = (child) =>
  new Promise((resolve) =>
    child.on("close", (code, signal) => resolve(code ?? 128 + (constants.signals[signal] ?? 0))),
  );

const [suiteCode, vmCode] = await Promise.all([finished(suite), finished(vm)]);
await new Promise((resolve) => vmLog.end(resolve));
process.stdout.write(`\n── laptop VM (npm run test:vm; ${vmLogPath}) ──\n`);
process.stdout.write(readFileSync(vmLogPath, "utf8"));
process.exit(suiteCode !== 0 ? suiteCode : vmCode);
