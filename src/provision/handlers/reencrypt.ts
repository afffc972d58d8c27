/**
 * `luks-reencrypt` (DISK-02): a volume whose data segment uses a weak key or cipher is
 * re-encrypted in place to aes-xts-plain64 with a 512-bit volume key by the real
 * `cryptsetup reencrypt` — offline for image files and closed block devices (`--disk`), online
 * (`--active-name`) for an opened volume of a running laptop. Online, cryptsetup runs in its
 * own transient unit (reencrypt-unit.ts) so that nothing koffer suffers can SIGKILL it: a
 * SIGKILL inside an online step leaves the hot zone mapped with the new key over old data.
 * Ctrl-C of koffer stops the unit (SIGTERM: cryptsetup finishes its hot zone) and the next
 * provision resumes online; a koffer killed with -9 leaves the unit running and the next
 * provision waits for it, showing its progress. Helper devices left with no unit running mean
 * cryptsetup itself died inside a step: refused (E_REENCRYPT_KILLED, exit 2), nothing in place.
 *
 * - Confirmation: it rewrites every data sector and takes long, so `--yes` is not enough: the
 *   run needs `--confirm-reencrypt` (or a typed yes at a terminal). Unconfirmed, the change is
 *   skipped with a note and DISK-02 keeps failing (exit 1). Resuming an interrupted one needs
 *   no second confirmation: it was confirmed when it started, and a half re-encrypted volume
 *   is the riskier state.
 * - Keys: cryptsetup re-wraps every keyslot with the new volume key and asks for each slot's
 *   passphrase, in slot order, one line each on stdin (never argv, environment or a file).
 *   koffer supplies the keys it holds (the technician's passphrase, the recovery key given
 *   with `--recovery-key-file` or added in this run) and proves beforehand which opens which
 *   slot; a slot no held key opens stops the change before anything is written. TPM2, FIDO2
 *   and PKCS#11 slots cannot be re-wrapped (their key is sealed in the device): they are
 *   removed first and enrolled again afterwards (`tpm2-enrol`), or at first boot.
 * - Before starting, `cryptsetup luksHeaderBackup` into the run's backup directory (root
 *   only, 0600), so a damaged header can be restored.
 * - Interrupted (SIGINT/SIGTERM, kill -9 of koffer or of cryptsetup, power loss) the header
 *   keeps the `online-reencrypt-v2` requirement; the next provision plans `resume` and runs
 *   `cryptsetup reencrypt --resume-only`; killed inside a hot zone (about half of all kills),
 *   cryptsetup 2.6 refuses that in batch mode until `cryptsetup repair` has recovered the hot
 *   zone from its checksums, so koffer repairs with the same key and resumes.
 *   Offline, cryptsetup runs under `setpriv --pdeathsig TERM`: if koffer dies, cryptsetup gets
 *   SIGTERM and stops at a safe point instead of running on unsupervised.
 */
import { chmod, stat } from "node:fs/promises";
import { IncompleteError } from "../../errors.js";
import type { ExecResult } from "../../targets/exec.js";
import type { Target } from "../../targets/types.js";
import type { ChangeHandler, ChangeOutcome, RunContext } from "../apply.js";
import { BACKUP_DIR } from "../state.js";
import type { Change, ReencryptChange } from "../types.js";
import { pbkdfArgs, type HandlerState, type ReencryptProgress } from "./context.js";
import {
  UNIT_LOG_DIR,
  helperDevices,
  killedRefusal,
  lastLogLine,
  stopUnit,
  stoppedAdvice,
  systemdRunArgs,
  unitLog,
  unitLogTail,
  unitName,
  unitState,
} from "./reencrypt-unit.js";
import {
  ESCROW_DIR,
  killSlot,
  opensSlot,
  readHeader,
  readRecord,
  type LuksHeader,
} from "./luks.js";

/** Token types whose keyslot key lives in a device (TPM, security key): not re-wrappable. */
const sealedTokens = new Set(["systemd-tpm2", "systemd-fido2", "systemd-pkcs11"]);
const recoveryTokens = new Set(["systemd-recovery", "koffer-recovery"]);

export function interrupted(header: Pick<LuksHeader, "requirements">): boolean {
  return header.requirements.some((r) => r.startsWith("online-reencrypt"));
}

/** True when every crypt segment is aes-xts-plain64 and every keyslot holds a 512-bit key. */
export function strong(header: Pick<LuksHeader, "segments" | "keyslots">): boolean {
  const crypt = header.segments.filter((s) => s.type === "crypt");
  return (
    crypt.length > 0 &&
    crypt.every((s) => s.encryption === "aes-xts-plain64") &&
    header.keyslots.length > 0 &&
    header.keyslots.every((k) => k.keyBytes === 64)
  );
}

/** Parse the JSON progress lines of `cryptsetup reencrypt --progress-json` (others are ignored). */
export function parseProgressLine(line: string): ReencryptProgress | null {
  if (!line.startsWith("{")) return null;
  try {
    const doc = JSON.parse(line) as Record<string, unknown>;
    const num = (key: string) => Number(doc[key]);
    const progress = {
      device: String(doc.device ?? ""),
      doneBytes: num("device_bytes"),
      totalBytes: num("device_size"),
      bytesPerSecond: num("speed"),
      etaSeconds: Math.round(num("eta_ms") / 1000),
    };
    return Object.values(progress).some((v) => typeof v === "number" && !Number.isFinite(v))
      ? null
      : progress;
  } catch {
    return null;
  }
}

/** The keys koffer holds for a volume: technician's passphrase, recovery key (given or new). */
function heldKeys(state: HandlerState, uuid: string | null): string[] {
  const keys = [
    state.options.passphrase,
    state.options.recoveryKey,
    uuid === null ? undefined : state.recoveryKeys.get(uuid),
  ].filter((k): k is string => k !== undefined && k !== "");
  for (const key of keys)
    if (/[\n\r\0]/.test(key))
      throw new IncompleteError(
        "E_REENCRYPT_KEY",
        "a key with a line break or NUL cannot be handed to cryptsetup reencrypt (one key per line)",
      );
  return [...new Set(keys)];
}

async function isBlockDevice(target: Target, device: string): Promise<boolean> {
  return (await target.exec("test", ["-b", device])).exitCode === 0;
}

/** `cryptsetup luksHeaderBackup` into the run's backup directory, root-only. */
async function backupHeader(
  target: Target,
  device: string,
  uuid: string,
  run: RunContext,
): Promise<string> {
  const dir = `${BACKUP_DIR}/${run.runId}`;
  await target.mkdirp(dir, 0o700);
  const file = `${dir}/luks-header-${uuid}-${Date.now().toString(36)}.img`;
  const hostFile = (await target.resolve?.(file, false)) ?? file;
  const result = await target.exec("cryptsetup", [
    "luksHeaderBackup",
    "--batch-mode",
    `--header-backup-file=${hostFile}`,
    device,
  ]);
  if (result.exitCode !== 0)
    throw new IncompleteError(
      "E_LUKS",
      `cryptsetup luksHeaderBackup of ${device} failed: ${result.stderr.trim()}`,
    );
  if (target.kind !== "ssh") {
    await chmod(hostFile, 0o600);
    const mode = (await stat(hostFile)).mode & 0o777;
    if (mode !== 0o600)
      throw new IncompleteError("E_LUKS", `the header backup ${file} is not 0600`);
  } else {
    await target.exec("chmod", ["0600", file]);
  }
  return file;
}

/**
 * Run cryptsetup (through `setpriv --pdeathsig TERM` where the host runs it) with `input` on
 * stdin, reporting its JSON progress lines.
 */
async function runReencrypt(
  target: Target,
  state: HandlerState,
  change: ReencryptChange,
  args: string[],
  input: string,
): Promise<{ exitCode: number; stderr: string }> {
  if (change.activeName !== null)
    return runInUnit(target, state, change, change.activeName, args, input);
  const argv = ["cryptsetup", ...args];
  const [command, rest] =
    target.kind === "ssh"
      ? ["cryptsetup", args]
      : ["setpriv", ["--pdeathsig", "TERM", "--", ...argv]];
  let pending = "";
  const running = target.exec(command, rest, {
    input,
    // Hours on a large disk: no timeout; the technician interrupts with Ctrl-C.
    timeoutMs: 0,
    onStdout: (text) => {
      pending += text;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        const progress = parseProgressLine(line.trim());
        if (progress !== null)
          state.options.onReencryptProgress?.({ ...progress, device: change.device });
      }
    },
  });
  try {
    const result = await running;
    return { exitCode: result.exitCode, stderr: result.stderr };
  } catch (error) {
    // Killed by a signal (kill -9 of cryptsetup): the header says how far it got.
    if (error instanceof IncompleteError && error.code === "E_EXEC")
      return { exitCode: -1, stderr: `interrupted: ${error.message}` };
    throw error;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Follow the online re-encryption in unit `name` until cryptsetup has exited: its progress from
 * the unit's log every 2 s; Ctrl-C/SIGTERM of koffer (`trapInterrupt`) stops the unit
 * (SIGTERM: cryptsetup finishes its hot zone) and ends with the resume advice. `running` is
 * the systemd-run this koffer started, null when it waits for the unit of an earlier one.
 */
async function watchUnit(
  target: Target,
  state: HandlerState,
  change: ReencryptChange,
  name: string,
  running: Promise<ExecResult> | null,
): Promise<{ exitCode: number; stderr: string }> {
  let stopping: Promise<void> | null = null;
  let result: ExecResult | null = null;
  let exited = running === null;
  running?.then(
    (r) => {
      result = r;
      exited = true;
    },
    () => (exited = true),
  );
  const release = state.options.trapInterrupt?.(() => {
    if (stopping !== null) return;
    state.options.log?.(
      `stopping the re-encryption of ${change.device} at a safe point (SIGTERM to cryptsetup in ${unitName(name)}) …`,
    );
    stopping = stopUnit(target, name);
  });
  let last: ReencryptProgress | null = null;
  try {
    for (;;) {
      await Promise.race([sleep(2000), ...(running === null || exited ? [] : [running])]);
      const progress = await lastLogLine(target, name, parseProgressLine);
      if (progress !== null) {
        last = progress;
        state.options.onReencryptProgress?.({ ...progress, device: change.device });
      }
      // systemd-run may end before the unit (it got the terminal's SIGINT): the unit decides.
      if (exited && (await unitState(target, name)) === "gone") break;
    }
    if (stopping !== null) await stopping;
  } finally {
    release?.();
  }
  if (stopping !== null) {
    const percent =
      last === null || last.totalBytes === 0
        ? null
        : Math.floor((100 * last.doneBytes) / last.totalBytes);
    throw new IncompleteError("E_REENCRYPT_STOPPED", stoppedAdvice(change.device, name, percent));
  }
  const finished = result as ExecResult | null;
  const messages = await unitLogTail(target, name);
  return finished === null
    ? { exitCode: -1, stderr: messages }
    : { exitCode: finished.exitCode, stderr: `${finished.stderr}\n${messages}` };
}

/** Run `cryptsetup ARGS` for the opened mapping `name` in its own unit, `input` on its stdin. */
async function runInUnit(
  target: Target,
  state: HandlerState,
  change: ReencryptChange,
  name: string,
  args: string[],
  input: string,
): Promise<{ exitCode: number; stderr: string }> {
  await target.mkdirp(UNIT_LOG_DIR, 0o700);
  await target.exec("rm", ["-f", unitLog(name)]);
  // Hours on a large disk: no timeout; the technician interrupts with Ctrl-C.
  const running = target.exec("systemd-run", systemdRunArgs(name, args), {
    input,
    timeoutMs: 0,
  });
  return watchUnit(target, state, change, name, running);
}

/**
 * The dm-crypt mapping opened on a block device (lsblk), else null. Given a bare device that is
 * open, `cryptsetup reencrypt` would find the mapping itself and go online.
 */
async function openedAs(target: Target, device: string): Promise<string | null> {
  if (!(await isBlockDevice(target, device))) return null;
  const listed = await target.exec("lsblk", ["-n", "-r", "-o", "NAME,TYPE", device]);
  if (listed.exitCode !== 0) return null;
  const crypt = listed.stdout
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .find(([, type]) => type === "crypt");
  return crypt?.[0] ?? null;
}

/** Where cryptsetup finds the (closed) volume: the block device, or the image file. */
async function placement(target: Target, change: ReencryptChange): Promise<string[]> {
  if (change.activeName !== null) return [`--active-name=${change.activeName}`];
  // An image file cannot be checked for an active mapping; koffer's --disk images are offline.
  return (await isBlockDevice(target, change.device))
    ? [change.device]
    : ["--force-offline-reencrypt", change.device];
}

const progressArgs = ["--progress-frequency=1", "--progress-json"];

/**
 * Hot zone of 32 MiB unless set: cryptsetup 2.6 re-encrypts an image offline in one hot zone
 * otherwise (no progress until the end, and a long zone to recover after a crash).
 */
const hotzone = (state: HandlerState) =>
  `--hotzone-size=${Math.max(1, Math.floor(state.options.reencryptHotzoneMiB ?? 32))}M`;

/**
 * A `cryptsetup reencrypt` of `device` still running on this host — e.g. the one of a koffer
 * killed a moment ago, finishing its hot zone after SIGTERM. Starting another one beside it
 * must not happen, whatever cryptsetup's own lock would say.
 */
async function runningReencrypt(
  target: Target,
  change: Pick<ReencryptChange, "device" | "activeName">,
): Promise<number | null> {
  if (target.kind === "ssh") return null;
  const { readdir, readFile } = await import("node:fs/promises");
  for (const name of await readdir("/proc").catch(() => [] as string[])) {
    if (!/^\d+$/.test(name)) continue;
    const argv = (await readFile(`/proc/${name}/cmdline`, "utf8").catch(() => "")).split("\0");
    if (argv[0]?.endsWith("cryptsetup") && argv[1] === "reencrypt" && namesVolume(argv, change))
      return Number(name);
  }
  return null;
}

/**
 * Whether a `cryptsetup reencrypt` command line is about this volume: by its device (offline)
 * or, online, by the opened mapping (`--active-name=NAME` or `--active-name NAME`), which is
 * all an online run's command line names.
 */
export function namesVolume(
  argv: readonly string[],
  change: Pick<ReencryptChange, "device" | "activeName">,
): boolean {
  if (argv.includes(change.device)) return true;
  const name = change.activeName;
  if (name === null) return false;
  return argv.some(
    (arg, i) =>
      arg === `--active-name=${name}` || (arg === "--active-name" && argv[i + 1] === name),
  );
}

async function resume(
  target: Target,
  state: HandlerState,
  change: ReencryptChange,
  header: LuksHeader,
): Promise<string[]> {
  const keys = heldKeys(state, header.uuid);
  if (keys.length === 0)
    throw new IncompleteError(
      "E_NO_PASSPHRASE",
      `resuming the re-encryption of ${change.device} needs its passphrase or recovery key`,
    );
  const where = await placement(target, change);
  const errors: string[] = [];
  // Any key of a re-wrapped slot unlocks both volume keys; try each held key once.
  const resumeArgs = [
    "reencrypt",
    "--resume-only",
    "--batch-mode",
    "--tries=1",
    "--key-file=-",
    hotzone(state),
    ...progressArgs,
    ...where,
  ];
  for (const key of keys) {
    const result = await runReencrypt(target, state, change, resumeArgs, key);
    if (result.exitCode === 0) return [key];
    // A wrong key makes cryptsetup exit 2 with nothing on stderr: say the exit status then.
    const error = result.stderr.trim().split("\n").pop() || `exit ${result.exitCode}`;
    // Killed while it wrote a hot zone, cryptsetup 2.6 leaves the header in a state its own
    // --resume-only refuses in batch mode ("Device requires reencryption recovery. Run repair
    // first."): `cryptsetup repair` with the key recovers the hot zone from its checksums (the
    // resilience data of the header), then the resume goes on.
    // Online that state means cryptsetup died inside a step: nothing in place is safe.
    if (/requires reencryption recovery/i.test(result.stderr) && change.activeName !== null)
      throw killedRefusal(
        change.device,
        change.activeName,
        await helperDevices(target, change.activeName),
      );
    if (/requires reencryption recovery/i.test(result.stderr)) {
      const repaired = await repairHotzone(target, change, key);
      if (repaired !== null) {
        errors.push(`${error}; cryptsetup repair: ${repaired}`);
        continue;
      }
      const again = await runReencrypt(target, state, change, resumeArgs, key);
      if (again.exitCode === 0) return [key];
      errors.push(again.stderr.trim().split("\n").pop() || `exit ${again.exitCode}`);
      continue;
    }
    errors.push(error);
  }
  throw new IncompleteError(
    "E_REENCRYPT",
    `cryptsetup reencrypt --resume-only of ${change.device} failed: ${errors.join("; ")} (the header backup of this run is in ${BACKUP_DIR})`,
  );
}

/**
 * `cryptsetup repair` of an interrupted re-encryption: recovers the hot zone with `key` (read
 * from stdin, never argv). Offline it works on the image or partition; online on the device
 * under the active mapping. Returns null on success, else cryptsetup's last line.
 */
async function repairHotzone(
  target: Target,
  change: ReencryptChange,
  key: string,
): Promise<string | null> {
  const result = await target.exec(
    "cryptsetup",
    ["repair", "--batch-mode", "--tries=1", "--key-file=-", change.device],
    { input: key, timeoutMs: 0 },
  );
  return result.exitCode === 0
    ? null
    : (result.stderr.trim().split("\n").pop() ?? `exit ${result.exitCode}`);
}

async function start(
  target: Target,
  state: HandlerState,
  change: ReencryptChange,
  header: LuksHeader,
): Promise<string[]> {
  const device = change.device;
  const keys = heldKeys(state, header.uuid);
  const sealed = new Set(
    header.tokens.filter((t) => sealedTokens.has(t.type)).flatMap((t) => t.keyslots),
  );
  // Which held key opens which slot — proven before anything is written.
  const plan: { slot: string; key: string }[] = [];
  const unopened: string[] = [];
  for (const slot of header.keyslots) {
    if (sealed.has(slot.id)) continue;
    let found: string | undefined;
    for (const key of keys)
      if (await opensSlot(target, device, key, slot.id)) {
        found = key;
        break;
      }
    if (found === undefined) unopened.push(slot.id);
    else plan.push({ slot: slot.id, key: found });
  }
  if (unopened.length > 0) {
    const recovery = new Set(
      header.tokens.filter((t) => recoveryTokens.has(t.type)).flatMap((t) => t.keyslots),
    );
    const what = unopened
      .map((s) => (recovery.has(s) ? `${s} (recovery key: --recovery-key-file)` : s))
      .join(", ");
    throw new IncompleteError(
      "E_REENCRYPT_KEYS",
      `re-encrypting ${device} re-wraps every keyslot, but no key koffer holds opens keyslot ${what}; give that key, or remove the slot first — nothing was changed`,
    );
  }
  if (plan.length === 0)
    throw new IncompleteError(
      "E_NO_PASSPHRASE",
      `re-encrypting ${device} needs a key that opens one of its keyslots (the passphrase or the recovery key)`,
    );
  // Sealed slots go first (a held key proven above opens another slot; killSlot checks again),
  // and their tokens with them: cryptsetup 2.6 unassigns a killed slot from its token and
  // leaves the token behind with no keyslot, which would look like an enrolment.
  for (const slot of [...sealed].filter((s) => header.keyslots.some((k) => k.id === s)))
    await killSlot(target, device, state, slot);
  const sealedTokenIds = header.tokens.filter((t) => sealedTokens.has(t.type)).map((t) => t.id);
  for (const token of (await readHeader(target, device)).tokens)
    if (sealedTokenIds.includes(token.id)) {
      const removed = await target.exec("cryptsetup", [
        "token",
        "remove",
        `--token-id=${token.id}`,
        device,
      ]);
      if (removed.exitCode !== 0)
        throw new IncompleteError(
          "E_LUKS",
          `cryptsetup token remove ${token.id} of ${device} failed: ${removed.stderr.trim()}`,
        );
    }

  plan.sort((a, b) => Number(a.slot) - Number(b.slot));
  const result = await runReencrypt(
    target,
    state,
    change,
    [
      "reencrypt",
      "--batch-mode",
      "--tries=1",
      `--cipher=${change.to.cipher}`,
      `--key-size=${change.to.keyBits}`,
      ...pbkdfArgs(state.options.pbkdfCost),
      hotzone(state),
      ...progressArgs,
      ...(await placement(target, change)),
    ],
    // One line per keyslot, in slot order: cryptsetup asks for each in turn.
    plan.map((p) => `${p.key}\n`).join(""),
  );
  if (result.exitCode !== 0)
    throw new IncompleteError(
      "E_REENCRYPT",
      `cryptsetup reencrypt of ${device} failed (exit ${result.exitCode}): ${result.stderr.trim().split("\n").slice(-2).join(" ")}; if the header shows the re-encryption under way, the next provision resumes it`,
    );
  return [...new Set(plan.map((p) => p.key))];
}

/** The escrow record names its keyslot: cryptsetup gave the recovery key a new slot number. */
async function followRecoverySlot(target: Target, header: LuksHeader): Promise<void> {
  if (header.uuid === null) return;
  const record = await readRecord(target, header.uuid);
  if (record === null) return;
  const slots = header.tokens
    .filter((t) => recoveryTokens.has(t.type))
    .flatMap((t) => t.keyslots)
    .filter((s) => header.keyslots.some((k) => k.id === s));
  if (slots.length !== 1 || slots[0] === record.keyslot) return;
  await target.writeFileAtomic(
    `${ESCROW_DIR}/${header.uuid}.json`,
    JSON.stringify({ ...record, keyslot: slots[0] }, null, 2) + "\n",
    { mode: 0o600 },
  );
}

export function reencryptHandler(state: HandlerState): ChangeHandler {
  return async (planned: Change, target: Target, run: RunContext): Promise<ChangeOutcome> => {
    if (planned.kind !== "luks-reencrypt") throw new Error("unreachable");
    let change: ReencryptChange = planned;
    const opened = change.activeName ?? (await openedAs(target, change.device));
    if (opened !== null) change = { ...change, activeName: opened };
    let waited = false;
    if (opened !== null) {
      // A unit of an earlier koffer (killed, or its connection dropped) still runs: follow it.
      if ((await unitState(target, opened)) !== "gone") {
        state.options.log?.(
          `cryptsetup reencrypt of ${change.device} still runs in ${unitName(opened)} (started by an earlier koffer run): waiting for it; Ctrl-C stops it at a safe point`,
        );
        await watchUnit(target, state, change, opened, null);
        waited = true;
      }
      // Helpers and no unit: cryptsetup died inside a step (kill -9, OOM, crash).
      const helpers = await helperDevices(target, opened);
      if (helpers.length > 0) throw killedRefusal(change.device, opened, helpers);
    }
    let header = await readHeader(target, change.device);
    const resuming = interrupted(header);
    if (!resuming && strong(header)) {
      if (!waited) return "unchanged";
      (state.reencrypted ??= new Set()).add(change.device);
      return "applied";
    }
    if (!resuming) {
      const confirm = state.options.confirmReencrypt;
      const confirmed =
        confirm === true || (typeof confirm === "function" && (await confirm(change)));
      if (!confirmed) {
        state.notes.push({
          resource: "disk",
          kind: "reencrypt-unconfirmed",
          message: `re-encryption of ${change.device} skipped: not confirmed (run provision with --confirm-reencrypt, or answer yes at the terminal); DISK-02 keeps failing`,
        });
        return "unchanged";
      }
    }
    const busy = await runningReencrypt(target, change);
    if (busy !== null)
      throw new IncompleteError(
        "E_REENCRYPT_RUNNING",
        `cryptsetup reencrypt of ${change.device} is still running (pid ${busy}), e.g. stopping after an interruption; wait until it has exited, then provision again`,
      );
    const uuid = header.uuid ?? "unknown";
    const backup = await backupHeader(target, change.device, uuid, run);
    state.notes.push({
      resource: "disk",
      kind: "reencrypt-header-backup",
      message: `LUKS header of ${change.device} saved before re-encrypting (root only)`,
      path: backup,
    });
    state.options.log?.(
      `${change.resume || resuming ? "resuming the re-encryption of" : "re-encrypting"} ${change.device}`,
    );
    const used = resuming
      ? await resume(target, state, change, header)
      : await start(target, state, change, header);

    header = await readHeader(target, change.device);
    if (interrupted(header) || !strong(header))
      throw new IncompleteError(
        "E_REENCRYPT",
        `${change.device} is not aes-xts-plain64 with a 512-bit key after cryptsetup reencrypt`,
      );
    // Every key that opened a slot before still opens the volume (its slot was re-wrapped).
    for (const key of used)
      if (!(await opensSlot(target, change.device, key)))
        throw new IncompleteError(
          "E_REENCRYPT",
          `a key that opened ${change.device} before the re-encryption no longer opens it`,
        );
    await followRecoverySlot(target, header);
    (state.reencrypted ??= new Set()).add(change.device);
    return "applied";
  };
}
