/**
 * The leak guard (vitest globalSetup). Every run gets its own TMPDIR, so what other processes
 * on the machine put in /tmp never counts; at the end, any `koffer-*` entry left in it is a
 * test that did not clean up: the run fails naming it. The run's directory is then removed
 * (unless something is still mounted below it, which is reported instead of descended into).
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function setup(): () => void {
  const runDir = mkdtempSync(join(tmpdir(), "vitest-koffer-run-"));
  // Same semantics as /tmp for the tests' own users (sshd, su): world-writable and sticky.
  chmodSync(runDir, 0o1777);
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = runDir;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    const left = readdirSync(runDir).filter((name) => name.startsWith("koffer-"));
    const mounts = readFileSync("/proc/self/mountinfo", "utf8")
      .split("\n")
      .map((line) => line.split(" ")[4] ?? "")
      .filter((point) => point.startsWith(runDir + "/"));
    if (left.length > 0 || mounts.length > 0) {
      process.stderr.write(
        `\ntmp guard: tests left ${left.length} temporary ${left.length === 1 ? "entry" : "entries"} behind` +
          (left.length > 0 ? `:\n  ${left.join("\n  ")}` : "") +
          (mounts.length > 0 ? `\nand mounts:\n  ${mounts.join("\n  ")}` : "") +
          "\nEvery test must remove what it creates (tempDir() in test/helpers/tmp.ts does).\n",
      );
      process.exitCode = 1;
    }
    if (mounts.length === 0) rmSync(runDir, { recursive: true, force: true });
  };
}
