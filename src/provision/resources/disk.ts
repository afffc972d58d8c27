/**
 * Disk key hygiene (DISK-03, DISK-04, DISK-05) on the LUKS volumes of the target: passphrase
 * keyslots converted to argon2id, one recovery key escrowed to the profile's certificate,
 * TPM2+PIN enrolled where a TPM is reachable, stray passphrase slots removed. The handlers
 * (cryptsetup, systemd-cryptenroll) belong to the apply side; the plan only says what.
 *
 * Never the last way in: a passphrase slot is removed only when another way to unlock stays
 * (a TPM2 token, enrolled or planned in the same run), and one passphrase slot always stays
 * while the TPM enrolment is left for the first boot on the device.
 *
 * No TPM reachable (an image): the enrolment is installed for the first boot instead —
 * /usr/lib/koffer/tpm2-enrol (templates/tpm2-enrol.sh), koffer-tpm2-enrol.service and
 * /etc/koffer/tpm2-enrol.conf naming each volume by its LUKS UUID and the profile's PCRs,
 * the unit enabled. DISK-04 reports such an image as `pending`.
 */
import { minArgonMemoryKiB } from "../../checks/disk-03.js";
import type { BlockDevice, LuksVolume } from "../../facts/types.js";
import { managedPath } from "../../facts/managed.js";
import { helperOwner, unitName } from "../handlers/reencrypt-unit.js";
import type { Change } from "../types.js";
import { enableUnit, fileChange, header, renderTemplate, type PlanContext } from "./common.js";

const resource = "disk";
const recoveryTokens = new Set(["systemd-recovery", "koffer-recovery"]);
const boundTokens = new Set(["systemd-tpm2", "systemd-fido2", "systemd-pkcs11"]);

function tpmReachable(ctx: PlanContext): boolean {
  const tpm = ctx.facts.boot.tpm;
  return (
    ctx.tpm2Device !== undefined || (tpm.available && tpm.value.present && tpm.value.version === 2)
  );
}

/**
 * Throughput the duration estimate assumes when none was measured (MiB/s), chosen to err long:
 * on a 2-core host without AF_ALG, loaded by parallel test runs, `cryptsetup reencrypt` of an
 * image managed 13.8 MiB/s (bench/reencrypt.mjs; unloaded data passes ran at 32–49 MiB/s).
 * Laptops with AES-NI and NVMe are much faster; a measured rate can be passed instead.
 */
export const conservativeReencryptMiBPerSecond = 10;

/** The data segment's cipher every volume must end with (DISK-02, BSI TR-02102-1). */
export const targetCipher = { cipher: "aes-xts-plain64", keyBits: 512 } as const;

/** The header says a re-encryption was started and not finished (`online-reencrypt-v2`). */
export function reencryptInterrupted(volume: LuksVolume): boolean {
  return volume.requirements.some((r) => r.startsWith("online-reencrypt"));
}

/** The cipher and key size of a volume whose data segment DISK-02 rejects, else null. */
export function weakVolumeKey(volume: LuksVolume): { cipher: string; keyBits: number } | null {
  const segment = volume.segments.find((s) => s.type === "crypt");
  // Authenticated (dm-integrity) segments cannot be re-encrypted by cryptsetup: DISK-02 reports them.
  if (segment === undefined || segment.integrity !== undefined) return null;
  const keyBytes = volume.keyslots[0]?.keyBytes ?? segment.keyBytes;
  if (keyBytes === undefined || keyBytes === 0) return null;
  if (segment.encryption === targetCipher.cipher && keyBytes * 8 === targetCipher.keyBits)
    return null;
  return { cipher: segment.encryption, keyBits: keyBytes * 8 };
}

/** "≈ 4 s", "≈ 12 min", "≈ 3 h 20 min". */
export function formatDuration(seconds: number): string {
  if (seconds < 90) return `≈ ${Math.max(1, Math.round(seconds))} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return `≈ ${minutes} min`;
  return `≈ ${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

function mib(bytes: number): string {
  return bytes >= 10 * 1024 ** 3
    ? `${(bytes / 1024 ** 3).toFixed(0)} GiB`
    : `${(bytes / 1024 ** 2).toFixed(0)} MiB`;
}

/** The opened dm-crypt mapping of `device` on a running laptop (lsblk), or null. */
function activeMapping(ctx: PlanContext, device: string): string | null {
  const devices = ctx.facts.disk.blockDevices;
  if (!devices.available) return null;
  const stack = [...devices.value];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node.path === device) return openedMapping(node);
    stack.push(...node.children);
  }
  return null;
}

/**
 * The mapping opened on a LUKS device (lsblk node). While an online re-encryption runs, or
 * after one was killed, cryptsetup's helper devices NAME-overlay and NAME-hotzone-forward
 * (or -backward) sit between the device and NAME, and lsblk shows them as crypt devices too:
 * the mapping is the crypt device no other one below the device names as its helper.
 */
export function openedMapping(device: BlockDevice): string | null {
  const crypt: string[] = [];
  const stack = [...device.children];
  while (stack.length > 0) {
    const node = stack.shift()!;
    if (node.type === "crypt" && !crypt.includes(node.name)) crypt.push(node.name);
    stack.push(...node.children);
  }
  return (
    crypt.find((name) => {
      const owner = helperOwner(name);
      return owner === undefined || !crypt.includes(owner);
    }) ?? null
  );
}

function planReencrypt(ctx: PlanContext, volume: LuksVolume): Change | null {
  const resume = reencryptInterrupted(volume);
  const from = resume ? null : weakVolumeKey(volume);
  if (!resume && from === null) return null;
  const label = volume.crypttabName ?? volume.device;
  const activeName = activeMapping(ctx, volume.device);
  const rate = ctx.reencryptMiBPerSecond ?? conservativeReencryptMiBPerSecond;
  const bytes = volume.dataBytes ?? null;
  const estimate = bytes === null ? null : Math.ceil(bytes / (rate * 1024 * 1024));
  const size =
    bytes === null
      ? "size unknown"
      : `${mib(bytes)}, ${formatDuration(estimate!)} at ${rate} MiB/s`;
  const mode = activeName === null ? "offline" : `online, mapping ${activeName}`;
  const devices = ctx.facts.disk.blockDevices;
  const helpers = devices.available ? leftoverHelpers(devices.value, volume.device) : [];
  const what = resume
    ? `resume the interrupted re-encryption`
    : `re-encrypt from ${from!.cipher} ${from!.keyBits}-bit to ${targetCipher.cipher} ${targetCipher.keyBits}-bit`;
  return {
    kind: "luks-reencrypt",
    device: volume.device,
    activeName,
    resume,
    from,
    to: { ...targetCipher },
    dataBytes: bytes,
    mibPerSecond: rate,
    estimateSeconds: estimate,
    confirmation: "explicit",
    resource,
    controls: ["DISK-02"],
    summary:
      activeName === null || helpers.length === 0
        ? `${label}: ${what} (${size}; ${mode}) — ${resume ? "resumed" : "needs --confirm-reencrypt or a typed yes"}${activeName === null ? "" : `; runs in its own unit ${unitName(activeName)}, Ctrl-C stops it at a safe point`}`
        : `${label}: ${what} (${size}; ${mode}) — ${onlineHelpersAdvice(activeName, helpers)}`,
  };
}

/**
 * cryptsetup's helper devices are stacked under the mapping: either koffer's unit still runs
 * cryptsetup (provision waits for it), or cryptsetup died inside a step — measured on the
 * laptop VM (cryptsetup 2.6.1): a SIGKILL between loading a step's tables and writing its
 * checksums leaves NAME-overlay mapping the hot zone with the NEW key over data still under
 * the OLD key, behind the suspended NAME-hotzone-*; releasing that I/O corrupts silently, so
 * koffer refuses any in-place recovery (the handler decides, with the unit's state).
 */
export function onlineHelpersAdvice(name: string, helpers: readonly string[]): string {
  return `helper devices ${helpers.join(", ")} present: if ${unitName(name)} still runs, provision waits for it; otherwise cryptsetup was killed inside a step and provision refuses (exit 2): power the laptop off, the next open (initrd) recovers the hot zone, then provision resumes`;
}

/** cryptsetup's helper devices of an online re-encryption still stacked on `device` (lsblk). */
export function leftoverHelpers(devices: readonly BlockDevice[], device: string): string[] {
  const stack = [...devices];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node.path !== device) {
      stack.push(...node.children);
      continue;
    }
    const found: string[] = [];
    const below = [...node.children];
    while (below.length > 0) {
      const child = below.shift()!;
      if (helperOwner(child.name) !== undefined && !found.includes(child.name))
        found.push(child.name);
      below.push(...child.children);
    }
    return found.sort();
  }
  return [];
}

const enrolUnit = "koffer-tpm2-enrol.service";

/** Whether this volume's TPM2+PIN enrolment is left for the first boot on the device. */
function enrolsAtFirstBoot(ctx: PlanContext, volume: LuksVolume): boolean {
  return (
    ctx.profile.spec.disk.unlock === "tpm2+pin" &&
    volume.uuid !== null &&
    !volume.tokens.some((t) => t.type === "systemd-tpm2" && t.tpm2Pin === true) &&
    !tpmReachable(ctx)
  );
}

/** The config line of a volume: NAME DEVICE PCRS (templates/tpm2-enrol.sh). */
function enrolLine(ctx: PlanContext, volume: LuksVolume): string {
  const name = (volume.crypttabName ?? `luks-${volume.uuid}`).replace(/\s+/g, "_");
  return `${name} /dev/disk/by-uuid/${volume.uuid} ${ctx.profile.spec.disk.tpm2Pcrs.join("+")}`;
}

/** Script, unit, config and enablement of the first-boot enrolment, for the volumes that need it. */
function planFirstBoot(ctx: PlanContext, volumes: LuksVolume[]): Change[] {
  if (volumes.length === 0) return [];
  const fb = ctx.facts.disk.firstBootEnrol ?? null;
  const controls = ["DISK-04"];
  const conf =
    header() +
    "# Volumes koffer-tpm2-enrol.service enrols at the first boot: NAME DEVICE PCRS\n" +
    volumes.map((v) => enrolLine(ctx, v) + "\n").join("");
  const wanted = volumes.map((v) => enrolLine(ctx, v));
  return [
    ...fileChange(ctx, {
      resource: "disk",
      path: managedPath.tpm2EnrolScript,
      content: renderTemplate("tpm2-enrol.sh", {}),
      mode: 0o755,
      summary: "first-boot TPM2+PIN enrolment script (/usr/lib/koffer/tpm2-enrol)",
      controls,
      satisfied: fb?.script != null,
    }),
    ...fileChange(ctx, {
      resource: "disk",
      path: managedPath.tpm2EnrolUnit,
      content: renderTemplate("koffer-tpm2-enrol.service", {}),
      summary: `${enrolUnit}: asks the technician's passphrase and a new PIN on the console at first boot`,
      controls,
      satisfied: fb?.unit != null,
    }),
    ...fileChange(ctx, {
      resource: "disk",
      path: managedPath.tpm2EnrolConf,
      content: conf,
      summary: `TPM2+PIN enrolment at first boot for ${volumes.map((v) => v.crypttabName ?? v.device).join(", ")} (PCR ${ctx.profile.spec.disk.tpm2Pcrs.join("+")})`,
      controls,
      satisfied:
        fb !== null &&
        wanted.every((w) =>
          fb.volumes.some((v) => `${v.name} ${v.device} ${v.pcrs.join("+")}` === w),
        ),
    }),
    ...enableUnit(ctx, enrolUnit, "disk", controls),
  ];
}

function planVolume(ctx: PlanContext, volume: LuksVolume): Change[] {
  const reencrypt = planReencrypt(ctx, volume);
  // While a re-encryption is interrupted the header holds the old and the new keyslots side by
  // side: nothing else is planned on it until it is finished (the next run plans the rest).
  // Opened (online), the re-encryption may run for hours in its own unit and outlive this run
  // (kill -9, a dropped connection): the keyslot work waits for the next run, which plans it
  // against the re-wrapped keyslots.
  if (
    reencrypt !== null &&
    (reencryptInterrupted(volume) ||
      (reencrypt.kind === "luks-reencrypt" && reencrypt.activeName !== null))
  )
    return [reencrypt];
  const changes = planKeyslots(ctx, volume, reencrypt !== null);
  // First: the fewer keyslots there are, the fewer keys the re-encryption needs.
  return reencrypt === null ? changes : [reencrypt, ...changes];
}

function planKeyslots(ctx: PlanContext, volume: LuksVolume, reencrypting: boolean): Change[] {
  const disk = ctx.profile.spec.disk;
  const label = volume.crypttabName ?? volume.device;
  const bound = new Set(
    volume.tokens.filter((t) => boundTokens.has(t.type)).flatMap((t) => t.keyslots),
  );
  const recovery = new Set(
    volume.tokens.filter((t) => recoveryTokens.has(t.type)).flatMap((t) => t.keyslots),
  );
  const passphrases = volume.keyslots.filter((k) => !bound.has(k.id) && !recovery.has(k.id));
  const changes: Change[] = [];

  const escrowed = [...recovery].filter((slot) =>
    ctx.facts.disk.escrowRecords.some(
      (r) => r.keyslot === slot && (volume.uuid === null || r.volumeUuid === volume.uuid),
    ),
  );
  const escrow = disk.recovery?.escrowCertificate;
  if (
    escrow !== undefined &&
    volume.uuid !== null &&
    (recovery.size !== 1 || escrowed.length !== 1)
  )
    changes.push({
      kind: "luks-add-recovery-key",
      device: volume.device,
      volumeUuid: volume.uuid,
      escrowCertificate: escrow,
      resource,
      controls: ["DISK-05"],
      summary:
        recovery.size === 0
          ? `${label}: new recovery key, stored only encrypted to the escrow certificate`
          : `${label}: replace ${recovery.size} unescrowed recovery key(s) with one escrowed key`,
    });

  // A TPM2 keyslot cannot be re-wrapped (its key is sealed in the TPM): the re-encryption
  // drops it and it is enrolled again afterwards.
  let tpmToken =
    !reencrypting && volume.tokens.some((t) => t.type === "systemd-tpm2" && t.tpm2Pin === true);
  if (disk.unlock === "tpm2+pin" && !tpmToken && tpmReachable(ctx)) {
    changes.push({
      kind: "tpm2-enrol",
      device: volume.device,
      pcrs: [...disk.tpm2Pcrs],
      resource,
      controls: ["DISK-04"],
      summary: `${label}: enrol TPM2 + PIN bound to PCR ${disk.tpm2Pcrs.join("+")}`,
    });
    tpmToken = true;
  }

  // Keep: none with TPM2+PIN in place, one otherwise (the slot the technician's passphrase opens
  // is decided by the handler; the lowest-numbered one is kept here).
  // Without a recovery key (present or added now) one passphrase always stays as well.
  const recoverable = recovery.size > 0 || changes.some((c) => c.kind === "luks-add-recovery-key");
  const keep = disk.unlock === "tpm2+pin" && tpmToken && recoverable ? 0 : 1;
  const sorted = [...passphrases].sort((a, b) => Number(a.id) - Number(b.id));
  for (const slot of sorted.slice(keep))
    changes.push({
      kind: "luks-remove-keyslot",
      device: volume.device,
      keyslot: slot.id,
      resource,
      controls: ["DISK-05"],
      summary: `${label}: remove stray passphrase keyslot ${slot.id}`,
    });
  const tpmSlots = new Set(
    volume.tokens.filter((t) => t.type === "systemd-tpm2").flatMap((t) => t.keyslots),
  );
  const removed = new Set(
    changes
      .filter((c) => c.kind === "luks-remove-keyslot")
      .map((c) => ("keyslot" in c ? c.keyslot : "")),
  );
  const conversions: Change[] = [];
  for (const slot of volume.keyslots.filter((k) => !tpmSlots.has(k.id) && !removed.has(k.id)))
    if (
      slot.kdf.type !== "argon2id" ||
      (slot.kdf.memory !== undefined && slot.kdf.memory < minArgonMemoryKiB)
    )
      conversions.push({
        kind: "luks-convert-keyslot",
        device: volume.device,
        keyslot: slot.id,
        resource,
        controls: ["DISK-03"],
        summary: `${label}: keyslot ${slot.id} from ${slot.kdf.type} to argon2id`,
      });
  // Convert first, then add, enrol, and only last remove: the order that never locks anyone out.
  return [...conversions, ...changes];
}

/**
 * A volume whose header could not be read while cryptsetup's helper devices sit under its
 * opened mapping: an online re-encryption is under way (cryptsetup holds the header's lock)
 * or died inside a step. Planned as a resume, the handler waits for koffer's unit or refuses.
 */
function planBusyOnline(ctx: PlanContext, volume: LuksVolume): Change[] {
  const devices = ctx.facts.disk.blockDevices;
  const helpers = devices.available ? leftoverHelpers(devices.value, volume.device) : [];
  const activeName = activeMapping(ctx, volume.device);
  if (helpers.length === 0 || activeName === null) return [];
  const label = volume.crypttabName ?? volume.device;
  return [
    {
      kind: "luks-reencrypt",
      device: volume.device,
      activeName,
      resume: true,
      from: null,
      to: { ...targetCipher },
      dataBytes: null,
      mibPerSecond: ctx.reencryptMiBPerSecond ?? conservativeReencryptMiBPerSecond,
      estimateSeconds: null,
      confirmation: "explicit",
      resource,
      controls: ["DISK-02"],
      summary: `${label}: online re-encryption under way, header locked (online, mapping ${activeName}) — ${onlineHelpersAdvice(activeName, helpers)}`,
    },
  ];
}

export function planDisk(ctx: PlanContext): Change[] {
  // Unreadable or LUKS1 volumes are reported (DISK-01/02); conversion is a separate operation.
  const volumes = ctx.facts.disk.volumes.filter((v) => v.error === undefined && v.version === 2);
  return [
    ...ctx.facts.disk.volumes
      .filter((v) => v.error !== undefined)
      .flatMap((v) => planBusyOnline(ctx, v)),
    ...volumes.flatMap((v) => planVolume(ctx, v)),
    ...planFirstBoot(
      ctx,
      // An interrupted re-encryption is resumed first; the rest of the volume's work follows.
      volumes.filter((v) => !reencryptInterrupted(v) && enrolsAtFirstBoot(ctx, v)),
    ),
  ];
}
