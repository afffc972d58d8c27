/**
 * An ONLINE `cryptsetup reencrypt` (the volume is opened, e.g. the root of a running laptop)
 * runs on the target in its own transient systemd service, never as a child of koffer:
 *
 *   systemd-run --unit=koffer-reencrypt-NAME --pipe --quiet --collect
 *     --property=KillSignal=SIGTERM --property=SendSIGKILL=no
 *     --property=TimeoutStopSec=infinity --property=OOMScoreAdjust=-1000
 *     -- /bin/sh -c 'log=$1; shift; exec cryptsetup "$@" >"$log" 2>&1' sh LOG reencrypt …
 *
 * Why: measured on the laptop VM (cryptsetup 2.6.1), a SIGKILL of cryptsetup between loading a
 * step's tables and writing its checksums leaves the hot zone mapped with the new key over
 * data still under the old key; a SIGTERM makes it stop at the next safe point. In its own
 * unit, nothing koffer can suffer (Ctrl-C at the terminal, kill -9, a dropped ssh connection)
 * reaches cryptsetup: the unit is not in koffer's process group or session, `systemd-run`
 * (252 and 257) only pins the unit while it waits and never stops it, and the only stop is
 * `systemctl stop`, which sends SIGTERM and nothing after it (SendSIGKILL=no, no stop timeout).
 * The OOM killer is told to pick anything else.
 *
 * Keys: `--pipe` hands systemd-run's own stdin (a pipe from koffer, over ssh the session's) to
 * the service as its file descriptor 0; cryptsetup reads one key per line from it, as
 * offline. No key is in argv, the environment, the unit's properties or a file. stdout and
 * stderr go to a root-only log in /run (the JSON progress lines and cryptsetup's messages),
 * which koffer reads for progress — also a later koffer that finds the unit still running.
 */
import { IncompleteError } from "../../errors.js";
import type { Target } from "../../targets/types.js";

/** Root-only directory (tmpfs) of the units' logs: progress lines and cryptsetup's messages. */
export const UNIT_LOG_DIR = "/run/koffer";

/** The unit of the online re-encryption of mapping `name` (a unit name cannot hold every character). */
export function unitName(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9_-]/g, "_");
  return `koffer-reencrypt-${safe}.service`;
}

export function unitLog(name: string): string {
  return `${UNIT_LOG_DIR}/${unitName(name).replace(/\.service$/, "")}.log`;
}

/** Properties of the unit, each checked in systemd.kill(5)/systemd.exec(5) of 252 and 257. */
export const unitProperties = [
  "KillSignal=SIGTERM",
  "SendSIGKILL=no",
  "TimeoutStopSec=infinity",
  "OOMScoreAdjust=-1000",
] as const;

/** The `systemd-run` arguments that run `cryptsetup ARGS` for mapping `name` (no key in them). */
export function systemdRunArgs(name: string, cryptsetupArgs: readonly string[]): string[] {
  return [
    `--unit=${unitName(name)}`,
    `--description=koffer: cryptsetup reencrypt of ${name} (online)`,
    "--pipe",
    "--quiet",
    // A failed unit is unloaded too, so the next run can start one of the same name.
    "--collect",
    ...unitProperties.map((p) => `--property=${p}`),
    // cryptsetup's messages are matched (e.g. "requires reencryption recovery").
    "--setenv=LC_ALL=C",
    "--",
    "/bin/sh",
    "-c",
    'log=$1; shift; exec cryptsetup "$@" >"$log" 2>&1',
    "sh",
    unitLog(name),
    ...cryptsetupArgs,
  ];
}

export type UnitState = "running" | "stopping" | "gone";

/** `systemctl show -p ActiveState --value` → whether cryptsetup still runs in it. */
export function parseActiveState(text: string): UnitState {
  const state = text.trim();
  if (state === "deactivating") return "stopping";
  return state === "active" || state === "activating" || state === "reloading" ? "running" : "gone";
}

export async function unitState(target: Target, name: string): Promise<UnitState> {
  const r = await target.exec("systemctl", [
    "show",
    "--property=ActiveState",
    "--value",
    unitName(name),
  ]);
  return r.exitCode === 0 ? parseActiveState(r.stdout) : "gone";
}

/** The last line of the unit's log that `parse` accepts (the newest progress), else null. */
export async function lastLogLine<T>(
  target: Target,
  name: string,
  parse: (line: string) => T | null,
): Promise<T | null> {
  const r = await target.exec("tail", ["-c", "4096", unitLog(name)]);
  if (r.exitCode !== 0) return null;
  const lines = r.stdout.split("\n").reverse();
  for (const line of lines) {
    const parsed = parse(line.trim());
    if (parsed !== null) return parsed;
  }
  return null;
}

export async function unitLogTail(target: Target, name: string, lines = 3): Promise<string> {
  const r = await target.exec("tail", ["-n", String(lines), unitLog(name)]);
  return r.exitCode === 0
    ? r.stdout
        .split("\n")
        .filter((l) => l.trim() !== "" && !l.startsWith("{"))
        .join(" ")
    : "";
}

/** `systemctl stop`: SIGTERM to cryptsetup, which finishes its hot zone and exits; waits for that. */
export async function stopUnit(target: Target, name: string): Promise<void> {
  const r = await target.exec("systemctl", ["stop", unitName(name)], { timeoutMs: 0 });
  if (r.exitCode !== 0 && (await unitState(target, name)) !== "gone")
    throw new IncompleteError(
      "E_REENCRYPT",
      `systemctl stop ${unitName(name)} failed: ${r.stderr.trim()}`,
    );
}

/**
 * The mapping a device-mapper name is a helper of: cryptsetup stacks NAME-overlay and
 * NAME-hotzone-forward (or -backward) under NAME during an online step. Undefined for any
 * other name. The one place that knows these names (the plan's lsblk view and dmsetup's).
 */
export function helperOwner(dmName: string): string | undefined {
  return /^(.+)-(overlay|hotzone-forward|hotzone-backward)$/.exec(dmName)?.[1];
}

/** Helper devices cryptsetup stacks under NAME during an online step, with their state. */
export interface HelperDevice {
  name: string;
  suspended: boolean;
}

/**
 * `dmsetup info -c --noheadings --separator ' ' -o name,suspended` → NAME's helpers
 * (NAME-overlay, NAME-hotzone-forward/-backward).
 */
export function parseHelpers(text: string, name: string): HelperDevice[] {
  return text
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter(([dm]) => dm !== undefined && helperOwner(dm) === name)
    .map(([dm, state]) => ({ name: dm!, suspended: state === "Suspended" }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export async function helperDevices(target: Target, name: string): Promise<HelperDevice[]> {
  const r = await target.exec("dmsetup", [
    "info",
    "-c",
    "--noheadings",
    "--separator",
    " ",
    "-o",
    "name,suspended",
  ]);
  return r.exitCode === 0 ? parseHelpers(r.stdout, name) : [];
}

/**
 * The refusal after cryptsetup died uncleanly inside an online step (its helpers are left
 * and no unit of koffer runs it): nothing in place is safe, the initrd's open recovers it.
 */
export function killedRefusal(
  device: string,
  name: string,
  helpers: readonly HelperDevice[],
): IncompleteError {
  const left = helpers.map((h) => `${h.name}${h.suspended ? " (suspended)" : ""}`).join(", ");
  const links = helpers.map((h) => `${h.name}${h.suspended ? " (angehalten)" : ""}`).join(", ");
  return new IncompleteError(
    "E_REENCRYPT_KILLED",
    `cryptsetup wurde während eines Online-Schritts der Neuverschlüsselung von ${device} (${name}) hart beendet und hat ${links || "einen unvollständigen Header"} hinterlassen. koffer repariert nichts im laufenden Betrieb (die Hot Zone würde mit dem falschen Schlüssel gelesen und geschrieben). Laptop ausschalten; beim nächsten Öffnen (initrd) stellt cryptsetup die Hot Zone aus ihren Prüfsummen wieder her; danach koffer provision erneut ausführen, es setzt die Neuverschlüsselung fort. / ` +
      `cryptsetup was killed inside an online step of the re-encryption of ${device} (${name}) and left ${left || "a header that needs recovery"}. koffer repairs nothing in place (the hot zone would be read and written with the wrong key). Power the laptop off; the next open (initrd) recovers the hot zone from its checksums; then run koffer provision again to resume.`,
  );
}

/** Advice after a clean stop (Ctrl-C, SIGTERM): the next provision resumes online. */
export function stoppedAdvice(device: string, name: string, percent: number | null): string {
  const at = percent === null ? "" : ` at ${percent}%`;
  return `re-encryption of ${device} (${name}) stopped cleanly${at} (cryptsetup finished its hot zone); run koffer provision again to resume it online (cryptsetup reencrypt --resume-only --active-name ${name})`;
}
