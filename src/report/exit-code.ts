/**
 * The exit code of a verify run (ARCHITECTURE.md): 0 compliant, 1 a failing control at or
 * above the threshold, 2 when any control errored — a run never exits 0 with an error.
 */
import { ExitCode } from "../errors.js";
import type { Severity } from "../profiles/types.js";
import type { Result } from "./types.js";

export const severities: readonly Severity[] = ["low", "medium", "high", "critical"];

export function isSeverity(value: string): value is Severity {
  return (severities as readonly string[]).includes(value);
}

/**
 * @param failOn the lowest severity whose failure makes the run fail (default `low`: any failure).
 */
export function exitCodeFor(result: Result, failOn: Severity = "low"): number {
  if (result.controls.some((c) => c.status === "error")) return ExitCode.incomplete;
  const threshold = severities.indexOf(failOn);
  const failing = result.controls.some(
    (c) => c.status === "fail" && severities.indexOf(c.severity) >= threshold,
  );
  return failing ? ExitCode.failed : ExitCode.ok;
}
