/**
 * The exit code of a verify run (ARCHITECTURE.md): 0 compliant, 1 a failing control at or
 * above the threshold, 2 when any control errored — a run never exits 0 with an error.
 * A `pending` control (TPM2+PIN enrolment at first boot) counts like a failing one unless the
 * caller accepts it (`--pending=ok`, for image pipelines whose image is finished on the device).
 */
import { ExitCode } from "../errors.js";
import type { Severity } from "../profiles/types.js";
import type { Result } from "./types.js";

export const severities: readonly Severity[] = ["low", "medium", "high", "critical"];

export function isSeverity(value: string): value is Severity {
  return (severities as readonly string[]).includes(value);
}

/** How a gate treats `pending`: as a failure (default) or as accepted. */
export type PendingGate = "fail" | "ok";

export function isPendingGate(value: string): value is PendingGate {
  return value === "fail" || value === "ok";
}

/**
 * @param failOn the lowest severity whose failure makes the run fail (default `low`: any failure).
 * @param pending `fail` (default): a pending control at or above `failOn` exits 1; `ok`: it does not.
 */
export function exitCodeFor(
  result: Result,
  failOn: Severity = "low",
  pending: PendingGate = "fail",
): number {
  if (result.controls.some((c) => c.status === "error")) return ExitCode.incomplete;
  const threshold = severities.indexOf(failOn);
  const failing = result.controls.some(
    (c) =>
      (c.status === "fail" || (c.status === "pending" && pending === "fail")) &&
      severities.indexOf(c.severity) >= threshold,
  );
  return failing ? ExitCode.failed : ExitCode.ok;
}
