/**
 * After an ONLINE `cryptsetup reencrypt` was killed (kill -9, OOM, a crash of cryptsetup alone
 * while the laptop keeps running), cryptsetup had no chance to tear down what it stacked
 * under the opened mapping NAME (cryptsetup 2.6, lib/luks2/luks2_reencrypt.c):
 *
 *   NAME (linear) → NAME-overlay (the segments of the step) → NAME-hotzone-forward (or
 *   -backward), left SUSPENDED when the kill came inside a step: every read or write of the
 *   file system that touches the hot zone waits until it is resumed.
 *
 * `cryptsetup reencrypt --resume-only --active-name NAME` refuses that state twice: the header
 * needs recovery first ("Device requires reencryption recovery. Run repair first."), and NAME's
 * table (linear to the overlay) does not match the header's segments ("Mismatching parameters
 * on device NAME"). The way back, in this order, each step by cryptsetup or dmsetup:
 *
 * 1. `cryptsetup repair` recovers the hot zone on the device from the resilience data (the
 *    checksums) while the hot zone device is still suspended, so no I/O of the file system
 *    races the recovery;
 * 2. `dmsetup resume NAME-hotzone-*`: the stack is consistent with the recovered header again
 *    and the waiting I/O continues;
 * 3. `cryptsetup refresh NAME` loads NAME's table from the header (the multi-segment dm-crypt
 *    mapping on the device itself), with no I/O stuck below it to wait for;
 * 4. `dmsetup remove` of the helpers, now unused.
 *
 * Keys go on stdin (one held key per try), never argv, environment or a file.
 */
import { IncompleteError } from "../../errors.js";
import type { Target } from "../../targets/types.js";

/** The helper devices of NAME's online re-encryption that are still there. */
export function onlineHelpers(name: string, dmNames: readonly string[]): string[] {
  return [`${name}-overlay`, `${name}-hotzone-forward`, `${name}-hotzone-backward`].filter((h) =>
    dmNames.includes(h),
  );
}

/** `dmsetup ls` → the device-mapper names ("No devices found" → none). */
export function parseDmsetupLs(text: string): string[] {
  return text
    .split("\n")
    .map((l) => l.trim().split(/\s+/)[0] ?? "")
    .filter((n) => n !== "" && n !== "No");
}

/** cryptsetup options for the dm-crypt feature flags of a table (`dmsetup table`, no keys). */
export function refreshFlags(table: string): string[] {
  const words = new Set(table.split(/\s+/));
  return [
    ["allow_discards", "--allow-discards"],
    ["same_cpu_crypt", "--perf-same_cpu_crypt"],
    ["submit_from_crypt_cpus", "--perf-submit_from_crypt_cpus"],
    ["no_read_workqueue", "--perf-no_read_workqueue"],
    ["no_write_workqueue", "--perf-no_write_workqueue"],
  ]
    .filter(([flag]) => words.has(flag!))
    .map(([, option]) => option!);
}

const lastLine = (text: string) => text.trim().split("\n").pop() ?? "";

/** Run a cryptsetup action with each held key until one works; the errors of all tries otherwise. */
async function withKeys(
  target: Target,
  args: string[],
  keys: readonly string[],
): Promise<string | null> {
  const errors: string[] = [];
  for (const key of keys) {
    const result = await target.exec("cryptsetup", [...args, "--key-file=-"], {
      input: key,
      timeoutMs: 0,
    });
    if (result.exitCode === 0) return null;
    errors.push(lastLine(result.stderr) || `exit ${result.exitCode}`);
  }
  return errors.join("; ");
}

/**
 * Bring a killed online re-encryption of `device` (opened as `name`) back to a state that
 * `cryptsetup reencrypt --resume-only --active-name` accepts. Returns the steps taken (empty
 * when there was nothing left over: an interruption cryptsetup handled itself, or offline).
 */
export async function recoverKilledOnline(
  target: Target,
  device: string,
  name: string,
  keys: readonly string[],
): Promise<string[]> {
  const ls = await target.exec("dmsetup", ["ls"]);
  if (ls.exitCode !== 0) return [];
  const helpers = onlineHelpers(name, parseDmsetupLs(ls.stdout));
  if (helpers.length === 0) return [];
  const fail = (what: string, why: string): never => {
    throw new IncompleteError(
      "E_REENCRYPT",
      `recovering the killed online re-encryption of ${device} (${name}): ${what} failed: ${why}; the file system on ${name} may wait on the hot zone until this succeeds`,
    );
  };
  const steps: string[] = [];
  const repaired = await withKeys(target, ["repair", "--batch-mode", device], keys);
  if (repaired !== null) fail("cryptsetup repair", repaired);
  steps.push("cryptsetup repair");
  for (const hotzone of helpers.filter((h) => h.includes("-hotzone-"))) {
    const resumed = await target.exec("dmsetup", ["resume", hotzone]);
    if (resumed.exitCode !== 0) fail(`dmsetup resume ${hotzone}`, lastLine(resumed.stderr));
    steps.push(`dmsetup resume ${hotzone}`);
  }
  // refresh sets exactly the flags it is given: keep those the mapping has (discards for a
  // crypttab `discard`, the workqueue options), read from the overlay's table (no keys shown).
  const table = await target.exec("dmsetup", ["table", `${name}-overlay`]);
  const flags = table.exitCode === 0 ? refreshFlags(table.stdout) : [];
  const refreshed = await withKeys(target, ["refresh", "--batch-mode", ...flags, name], keys);
  if (refreshed !== null) fail(`cryptsetup refresh ${name}`, refreshed);
  steps.push(`cryptsetup refresh ${name}`);
  // Top down: the overlay maps onto the hot zone device.
  for (const helper of [...helpers].sort(
    (a, b) => Number(b.endsWith("-overlay")) - Number(a.endsWith("-overlay")),
  )) {
    const removed = await target.exec("dmsetup", ["remove", helper]);
    if (removed.exitCode !== 0) fail(`dmsetup remove ${helper}`, lastLine(removed.stderr));
    steps.push(`dmsetup remove ${helper}`);
  }
  return steps;
}
