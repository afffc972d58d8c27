/**
 * Disk key hygiene on LUKS2 volumes (DISK-03, DISK-05), with the real `cryptsetup`:
 *
 * - `luks-convert-keyslot`: `cryptsetup luksConvertKey --pbkdf argon2id` of a passphrase
 *   keyslot, after proving the technician's passphrase opens exactly that slot;
 * - `luks-add-recovery-key`: a generated recovery key (256 bits, systemd's modhex format in
 *   groups of eight) added with `luksAddKey`, marked with a `systemd-recovery` token, and
 *   stored ONLY as a CMS envelope to the profile's escrow certificate
 *   (`/var/lib/koffer/escrow/<uuid>.cms` plus the record `<uuid>.json` the disk gatherer
 *   reads). The key itself is never written to disk in clear, printed or logged: cryptsetup
 *   gets it (and the key that unlocks) through its stdin;
 * - `luks-remove-keyslot`: `luksKillSlot`, never of the last keyslot, and only after
 *   `cryptsetup open --test-passphrase` proved that a key koffer holds opens ANOTHER slot.
 *
 * A run killed between two cryptsetup calls leaves at most a keyslot without its token.
 * A pending marker (`<uuid>.pending`, written before the slot is added) names that slot,
 * so the next run removes it before adding a fresh recovery key.
 */
import { createHash, randomBytes } from "node:crypto";
import { lstat, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { IncompleteError } from "../../errors.js";
import { parseLuks2Json } from "../../facts/disk.js";
import type { LuksKeyslot, LuksSegment, LuksToken } from "../../facts/types.js";
import { escrowRecoveryKey } from "../../pki/escrow.js";
import type { Target } from "../../targets/types.js";
import type { ChangeHandler, ChangeOutcome } from "../apply.js";
import { STATE_DIR } from "../state.js";
import type { Change, KeyslotChange } from "../types.js";
import { pbkdfArgs, type HandlerState } from "./context.js";

export const ESCROW_DIR = `${STATE_DIR}/escrow`;
const recoveryTokenTypes = new Set(["systemd-recovery", "koffer-recovery"]);

/** systemd's modhex alphabet: recovery keys type the same on any keyboard layout. */
const modhex = "cbdefghijklnrtuv";

/** A 256-bit recovery key as systemd-cryptenroll makes one: 64 modhex characters in 8 groups. */
export function generateRecoveryKey(): string {
  const bytes = randomBytes(32);
  let text = "";
  for (const byte of bytes) text += modhex[byte >> 4]! + modhex[byte & 15]!;
  bytes.fill(0);
  return text.match(/.{8}/g)!.join("-");
}

export interface LuksHeader {
  uuid: string | null;
  keyslots: LuksKeyslot[];
  tokens: LuksToken[];
  segments: LuksSegment[];
  /** LUKS2 mandatory requirements (`online-reencrypt-v2` while a re-encryption is unfinished). */
  requirements: string[];
}

/** The keyslots and tokens of a LUKS2 header, from `cryptsetup luksDump --dump-json-metadata`. */
export async function readHeader(target: Target, device: string): Promise<LuksHeader> {
  const dump = await target.exec("cryptsetup", ["luksDump", "--dump-json-metadata", device]);
  if (dump.exitCode !== 0)
    throw new IncompleteError(
      "E_LUKS",
      `cannot read the LUKS2 header of ${device}: ${dump.stderr.trim()}`,
    );
  const uuid = await target.exec("cryptsetup", ["luksUUID", device]);
  const parsed = parseLuks2Json(dump.stdout);
  return {
    uuid: uuid.exitCode === 0 ? uuid.stdout.trim() : null,
    keyslots: parsed.keyslots,
    tokens: parsed.tokens,
    segments: parsed.segments,
    requirements: parsed.requirements,
  };
}

/** Does `key` open keyslot `slot` (or any slot when `slot` is undefined)? */
export async function opensSlot(
  target: Target,
  device: string,
  key: string,
  slot?: string,
): Promise<boolean> {
  const result = await target.exec(
    "cryptsetup",
    [
      "open",
      "--test-passphrase",
      "--batch-mode",
      "--key-file=-",
      ...(slot === undefined ? [] : [`--key-slot=${slot}`]),
      device,
    ],
    { input: key },
  );
  return result.exitCode === 0;
}

async function cryptsetup(
  target: Target,
  args: string[],
  input?: string,
  what = args[0],
): Promise<void> {
  const result = await target.exec("cryptsetup", args, {
    ...(input === undefined ? {} : { input }),
    timeoutMs: 10 * 60_000,
  });
  if (result.exitCode !== 0)
    throw new IncompleteError("E_LUKS", `cryptsetup ${what} failed: ${result.stderr.trim()}`);
}

function needPassphrase(state: HandlerState, device: string): string {
  const passphrase = state.options.passphrase;
  if (passphrase === undefined || passphrase === "")
    throw new IncompleteError(
      "E_NO_PASSPHRASE",
      `changing the keyslots of ${device} needs its current passphrase (--passphrase-file, KOFFER_DISK_PASSPHRASE or the prompt)`,
    );
  return passphrase;
}

/**
 * Keys koffer holds for this volume: the technician's passphrase, the recovery key the
 * technician gave (`--recovery-key-file`) and this run's recovery key.
 */
function heldKeys(state: HandlerState, uuid: string | null): string[] {
  const keys: string[] = [];
  if (state.options.passphrase) keys.push(state.options.passphrase);
  if (state.options.recoveryKey) keys.push(state.options.recoveryKey);
  const recovery = uuid === null ? undefined : state.recoveryKeys.get(uuid);
  if (recovery !== undefined) keys.push(recovery);
  return keys;
}

/** A key koffer holds that opens a slot other than `except`, or null. */
async function keyForAnotherSlot(
  target: Target,
  device: string,
  header: LuksHeader,
  state: HandlerState,
  except: string,
): Promise<string | null> {
  for (const key of heldKeys(state, header.uuid)) {
    for (const slot of header.keyslots) {
      if (slot.id === except) continue;
      if (await opensSlot(target, device, key, slot.id)) return key;
    }
  }
  return null;
}

/** Remove tokens whose keyslots are all gone (luksKillSlot leaves them behind). */
async function removeOrphanTokens(target: Target, device: string): Promise<void> {
  const header = await readHeader(target, device);
  const slots = new Set(header.keyslots.map((k) => k.id));
  for (const token of header.tokens) {
    if (token.keyslots.length > 0 && token.keyslots.every((s) => !slots.has(s)))
      await cryptsetup(
        target,
        ["token", "remove", `--token-id=${token.id}`, device],
        undefined,
        "token remove",
      );
  }
}

/**
 * Kill `slot` after proving a held key opens another slot; returns false when nothing was there.
 * The slot the technician's passphrase opens is never killed unless the passphrase also opens
 * another slot, or the caller has proven (in this run, with the technician's own secrets) that
 * the passphrase may go (`allowPassphrase`). Nothing read from the volume or the image —
 * tokens, escrow records, pending markers — can make that decision.
 */
export async function killSlot(
  target: Target,
  device: string,
  state: HandlerState,
  slot: string,
  options: { allowPassphrase?: boolean } = {},
): Promise<boolean> {
  const header = await readHeader(target, device);
  if (!header.keyslots.some((k) => k.id === slot)) return false;
  const passphrase = state.options.passphrase;
  if (
    !options.allowPassphrase &&
    passphrase !== undefined &&
    passphrase !== "" &&
    (await opensSlot(target, device, passphrase, slot))
  ) {
    let elsewhere = false;
    for (const other of header.keyslots)
      if (other.id !== slot && (await opensSlot(target, device, passphrase, other.id))) {
        elsewhere = true;
        break;
      }
    if (!elsewhere)
      throw new IncompleteError(
        "E_PASSPHRASE_KEYSLOT",
        `refusing to remove keyslot ${slot} of ${device}: the technician's passphrase opens it and no other keyslot`,
      );
  }
  if (header.keyslots.length <= 1)
    throw new IncompleteError(
      "E_LAST_KEYSLOT",
      `refusing to remove keyslot ${slot} of ${device}: it is the last keyslot`,
    );
  const key = await keyForAnotherSlot(target, device, header, state, slot);
  if (key === null)
    throw new IncompleteError(
      "E_UNPROVEN_KEYSLOT",
      `refusing to remove keyslot ${slot} of ${device}: no key koffer holds opens another keyslot`,
    );
  await cryptsetup(
    target,
    ["luksKillSlot", "--batch-mode", "--key-file=-", device, slot],
    key,
    "luksKillSlot",
  );
  await removeOrphanTokens(target, device);
  return true;
}

function firstFreeSlot(header: LuksHeader): string {
  const used = new Set(header.keyslots.map((k) => k.id));
  for (let i = 0; i < 32; i++) if (!used.has(String(i))) return String(i);
  throw new IncompleteError("E_LUKS", "no free keyslot");
}

export interface EscrowRecordFile {
  volumeUuid: string;
  keyslot: string;
  escrowCertificateSha256: string;
  createdAt: string;
  envelope: string;
  format: string;
}

export async function readRecord(target: Target, uuid: string): Promise<EscrowRecordFile | null> {
  try {
    return JSON.parse(
      (await target.readText(`${ESCROW_DIR}/${uuid}.json`)) ?? "null",
    ) as EscrowRecordFile | null;
  } catch {
    return null;
  }
}

/**
 * Remove secret files that a killed run of an earlier koffer left in clear: it wrote the new
 * key of `luksAddKey` to `<dir>/koffer-XXXXXX/key` (/run is on disk on many machines). Only
 * directories of exactly that shape — koffer's mkdtemp name, holding nothing but `key` — go.
 */
export async function sweepStaleSecretFiles(
  dirs: string[] = ["/run", tmpdir()],
): Promise<string[]> {
  const swept: string[] = [];
  for (const dir of [...new Set(dirs)]) {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      if (!/^koffer-[A-Za-z0-9]{6}$/.test(name)) continue;
      const path = join(dir, name);
      const stats = await lstat(path).catch(() => null);
      if (stats === null || !stats.isDirectory() || stats.uid !== process.getuid?.()) continue;
      const entries = await readdir(path).catch(() => null);
      if (entries === null || entries.length !== 1 || entries[0] !== "key") continue;
      await rm(path, { recursive: true, force: true });
      swept.push(path);
    }
  }
  return swept;
}

/**
 * Add a fresh recovery key to `device` and escrow it; an earlier recovery slot (escrowed or
 * not) and the slot of an interrupted run are removed afterwards, so exactly one remains.
 */
async function addRecoveryKey(
  target: Target,
  state: HandlerState,
  device: string,
  escrowCertificate: string,
  now: Date,
): Promise<void> {
  const passphrase = needPassphrase(state, device);
  let header = await readHeader(target, device);
  const uuid = header.uuid;
  if (uuid === null) throw new IncompleteError("E_LUKS", `${device} has no LUKS UUID`);
  if (!(await opensSlot(target, device, passphrase)))
    throw new IncompleteError("E_WRONG_PASSPHRASE", `the passphrase does not open ${device}`);
  const certPem = await readFile(escrowCertificate, "utf8").catch((error: Error) => {
    throw new IncompleteError(
      "E_ESCROW_CERT",
      `cannot read the escrow certificate ${escrowCertificate}: ${error.message}`,
    );
  });
  const oldRecovery = header.tokens
    .filter((t) => recoveryTokenTypes.has(t.type))
    .flatMap((t) => t.keyslots);
  const pendingPath = `${ESCROW_DIR}/${uuid}.pending`;
  const pending = (await target.readText(pendingPath))?.trim();
  // A pending slot is only a leftover while no token claims it (a later step may reuse the number).
  const claimed = new Set(header.tokens.flatMap((t) => t.keyslots));
  const leftovers = [...oldRecovery, ...(pending && !claimed.has(pending) ? [pending] : [])];

  const key = generateRecoveryKey();
  const slot = firstFreeSlot(header);
  const envelope = escrowRecoveryKey(key, certPem);
  await target.mkdirp(ESCROW_DIR, 0o700);
  // The marker first: a kill after luksAddKey leaves a slot the next run knows to remove.
  await target.writeFileAtomic(pendingPath, `${slot}\n`, { mode: 0o600 });
  await target.writeFileAtomic(`${ESCROW_DIR}/${uuid}.cms`, envelope, { mode: 0o600 });
  await addKeyslot(target, state, device, key, slot, passphrase);
  await cryptsetup(
    target,
    ["token", "import", device],
    JSON.stringify({ type: "systemd-recovery", keyslots: [slot] }),
    "token import",
  );
  const record: EscrowRecordFile = {
    volumeUuid: uuid,
    keyslot: slot,
    escrowCertificateSha256: createHash("sha256")
      .update(Buffer.from(certPem.replace(/-----[^-]+-----|\s+/g, ""), "base64"))
      .digest("hex"),
    createdAt: now.toISOString(),
    envelope: `${uuid}.cms`,
    format:
      "systemd-recovery (modhex, 8 groups of 8); CMS EnvelopedData, RSAES-OAEP-SHA256 + AES-256-CBC",
  };
  await target.writeFileAtomic(
    `${ESCROW_DIR}/${uuid}.json`,
    JSON.stringify(record, null, 2) + "\n",
    { mode: 0o600 },
  );
  state.recoveryKeys.set(uuid, key);
  await target.remove(pendingPath);

  // Now the new key is escrowed and proven: the earlier recovery slots can go.
  header = await readHeader(target, device);
  if (!(await opensSlot(target, device, key, slot)))
    throw new IncompleteError(
      "E_LUKS",
      `the new recovery key does not open keyslot ${slot} of ${device}`,
    );
  for (const old of leftovers) {
    if (old === slot) continue;
    // The header's tokens and the pending marker are data from the image, not proof: a slot
    // the technician's passphrase opens is the technician's, whatever claims otherwise.
    if (await opensSlot(target, device, passphrase, old)) {
      state.notes.push({
        resource: "disk",
        kind: "recovery-key-escrowed",
        message: `keyslot ${old} of ${device} is marked as a recovery slot but the technician's passphrase opens it: kept`,
      });
      continue;
    }
    await killSlot(target, device, state, old);
  }

  if (state.options.escrowCopyDir !== undefined) {
    const { writeHostFileAtomic } = await import("../../targets/files.js");
    const { mkdir } = await import("node:fs/promises");
    await mkdir(state.options.escrowCopyDir, { recursive: true });
    await writeHostFileAtomic(join(state.options.escrowCopyDir, `escrow-${uuid}.cms`), envelope, {
      mode: 0o600,
    });
  }
  state.notes.push({
    resource: "disk",
    kind: "recovery-key-escrowed",
    message: `recovery key of ${device} (keyslot ${slot}) escrowed to the escrow certificate; hand ${ESCROW_DIR}/${uuid}.cms to the municipal key store`,
    path: `${ESCROW_DIR}/${uuid}.cms`,
  });
}

/** True when the volume has exactly one recovery slot with an escrow record for it. */
async function recoveryComplete(target: Target, header: LuksHeader): Promise<boolean> {
  if (header.uuid === null) return false;
  const slots = new Set(header.keyslots.map((k) => k.id));
  const recovery = header.tokens
    .filter((t) => recoveryTokenTypes.has(t.type))
    .flatMap((t) => t.keyslots)
    .filter((s) => slots.has(s));
  if (recovery.length !== 1) return false;
  if ((await target.stat(`${ESCROW_DIR}/${header.uuid}.pending`)) !== null) return false;
  const record = await readRecord(target, header.uuid);
  return (
    record !== null &&
    record.keyslot === recovery[0] &&
    (await target.stat(`${ESCROW_DIR}/${header.uuid}.cms`)) !== null
  );
}

/**
 * Add `key` as keyslot `slot` (argon2id), unlocking with `unlockWith` (by default `key`
 * itself, which then already opens another slot), and prove the new slot opens.
 */
async function addKeyslot(
  target: Target,
  state: HandlerState,
  device: string,
  key: string,
  slot: string,
  unlockWith: string = key,
): Promise<void> {
  await sweepStaleSecretFiles();
  // Both keys through one pipe, never a file: cryptsetup reads the unlocking key's bytes,
  // then the new key's, from stdin ("-" as the new key file), each limited by its size.
  await cryptsetup(
    target,
    [
      "luksAddKey",
      "--batch-mode",
      "--key-file=-",
      `--keyfile-size=${Buffer.byteLength(unlockWith)}`,
      `--new-keyfile-size=${Buffer.byteLength(key)}`,
      `--key-slot=${slot}`,
      ...pbkdfArgs(state.options.pbkdfCost),
      device,
      "-",
    ],
    unlockWith + key,
    "luksAddKey",
  );
  if (!(await opensSlot(target, device, key, slot)))
    throw new IncompleteError("E_LUKS", `the new keyslot ${slot} of ${device} does not open`);
}

const isArgon = (slot: LuksKeyslot | undefined) =>
  slot?.kdf.type === "argon2id" && (slot.kdf.memory ?? Infinity) >= 32768;

/**
 * Convert a passphrase keyslot to argon2id without ever leaving the volume with no slot the
 * passphrase opens. `cryptsetup luksConvertKey` rewrites the slot in place; a kill -9 in the
 * middle of it lost the only passphrase slot in a crash trial. So: add the passphrase to a free
 * slot (argon2id) and prove it, kill the old slot, add it again under the old number and prove
 * it, kill the spare. The slot keeps its number, so the rest of the plan stays valid, and a run
 * killed between any two steps leaves a slot the passphrase opens (the next run finishes).
 */
export function convertKeyslotHandler(state: HandlerState): ChangeHandler {
  return async (change: Change, target: Target): Promise<ChangeOutcome> => {
    if (change.kind !== "luks-convert-keyslot") throw new Error("unreachable");
    const device = change.device;
    let header = await readHeader(target, device);
    const slot = header.keyslots.find((k) => k.id === change.keyslot);
    if (slot === undefined || isArgon(slot)) return "unchanged";
    const passphrase = needPassphrase(state, device);
    // A spare left by an interrupted conversion: another argon2id slot the passphrase opens.
    let spare: string | null = null;
    for (const other of header.keyslots)
      if (
        other.id !== slot.id &&
        isArgon(other) &&
        !header.tokens.some((t) => t.keyslots.includes(other.id)) &&
        (await opensSlot(target, device, passphrase, other.id))
      ) {
        spare = other.id;
        break;
      }
    if (spare === null) {
      if (!(await opensSlot(target, device, passphrase, slot.id)))
        throw new IncompleteError(
          "E_WRONG_PASSPHRASE",
          `the passphrase does not open keyslot ${slot.id} of ${device}; a slot whose passphrase is unknown is removed, not converted`,
        );
      spare = firstFreeSlot(header);
      await addKeyslot(target, state, device, passphrase, spare);
    }
    await killSlot(target, device, state, slot.id);
    await addKeyslot(target, state, device, passphrase, slot.id);
    await killSlot(target, device, state, spare);
    header = await readHeader(target, device);
    if (!isArgon(header.keyslots.find((k) => k.id === slot.id)))
      throw new IncompleteError("E_LUKS", `keyslot ${slot.id} of ${device} is not argon2id`);
    return "applied";
  };
}

export function addRecoveryKeyHandler(state: HandlerState, now: () => Date): ChangeHandler {
  return async (change: Change, target: Target): Promise<ChangeOutcome> => {
    if (change.kind !== "luks-add-recovery-key") throw new Error("unreachable");
    if (await recoveryComplete(target, await readHeader(target, change.device))) return "unchanged";
    await addRecoveryKey(target, state, change.device, change.escrowCertificate, now());
    return "applied";
  };
}

/**
 * A removal planned before this run re-encrypted the device names the passphrase slot by its
 * old number; cryptsetup re-wrapped it under a new one (a re-encryption needs every slot's
 * key, so the only unbound slots left are the ones the passphrase opens). The change is
 * pointed at that slot; without a re-encryption it stays as planned.
 */
async function renumbered(
  target: Target,
  state: HandlerState,
  change: KeyslotChange,
  header: LuksHeader,
): Promise<KeyslotChange> {
  const passphrase = state.options.passphrase;
  if (!state.reencrypted?.has(change.device) || passphrase === undefined) return change;
  const bound = new Set(header.tokens.flatMap((t) => t.keyslots));
  for (const k of header.keyslots.filter((s) => !bound.has(s.id)))
    if (await opensSlot(target, change.device, passphrase, k.id))
      return { ...change, keyslot: k.id };
  return change;
}

export function removeKeyslotHandler(state: HandlerState, now: () => Date): ChangeHandler {
  return async (planned: Change, target: Target): Promise<ChangeOutcome> => {
    if (planned.kind !== "luks-remove-keyslot") throw new Error("unreachable");
    const header = await readHeader(target, planned.device);
    const change = await renumbered(target, state, planned, header);
    if (!header.keyslots.some((k) => k.id === change.keyslot)) return "unchanged";
    // A slot bound to a token (TPM2, recovery) is never a stray slot: a plan naming it is
    // stale (the number was reused). Replacing those is the job of tpm2-enrol and
    // luks-add-recovery-key, which keep one working key at every step.
    if (header.tokens.some((t) => t.keyslots.includes(change.keyslot))) return "unchanged";
    const passphrase = state.options.passphrase;
    const isPassphraseSlot =
      passphrase !== undefined &&
      (await opensSlot(target, change.device, passphrase, change.keyslot));
    // A duplicate of the passphrase (another slot it opens) may go like any stray slot.
    const duplicate =
      isPassphraseSlot &&
      (
        await Promise.all(
          header.keyslots
            .filter((k) => k.id !== change.keyslot)
            .map((k) => opensSlot(target, change.device, passphrase, k.id)),
        )
      ).some(Boolean);
    if (isPassphraseSlot && !duplicate) {
      // The technician's passphrase goes only when daily unlocking no longer needs it — and
      // only a TPM2 enrolment this run made proves that: a systemd-tpm2 token in the header
      // may be planted.
      const tpm =
        state.tpm2Enrolled.has(change.device) &&
        header.tokens.some((t) => t.type === "systemd-tpm2" && t.keyslots.length > 0);
      if (!tpm) {
        state.notes.push({
          resource: "disk",
          kind: "tpm2-first-boot",
          message: `passphrase keyslot ${change.keyslot} of ${change.device} kept until TPM2+PIN is enrolled on the device`,
        });
        return "unchanged";
      }
      // Removing the passphrase needs another proven key: the recovery key of this run. A
      // recovery key escrowed by an earlier run is not held, so it is replaced first.
      if (header.uuid !== null && !state.recoveryKeys.has(header.uuid)) {
        const record = await readRecord(target, header.uuid);
        const escrowCertificate = state.options.profile.spec.disk.recovery?.escrowCertificate;
        if (escrowCertificate === undefined || record === null)
          throw new IncompleteError(
            "E_UNPROVEN_KEYSLOT",
            `refusing to remove passphrase keyslot ${change.keyslot} of ${change.device}: no escrowed recovery key`,
          );
        await addRecoveryKey(target, state, change.device, escrowCertificate, now());
      }
    }
    return (await killSlot(target, change.device, state, change.keyslot, {
      allowPassphrase: isPassphraseSlot && !duplicate,
    }))
      ? "applied"
      : "unchanged";
  };
}
