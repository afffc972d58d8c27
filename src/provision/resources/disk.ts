/**
 * Disk key hygiene (DISK-03, DISK-04, DISK-05) on the LUKS volumes of the target: passphrase
 * keyslots converted to argon2id, one recovery key escrowed to the profile's certificate,
 * TPM2+PIN enrolled where a TPM is reachable, stray passphrase slots removed. The handlers
 * (cryptsetup, systemd-cryptenroll) belong to the apply side; the plan only says what.
 *
 * Never the last way in: a passphrase slot is removed only when another way to unlock stays
 * (a TPM2 token, enrolled or planned in the same run), and one passphrase slot always stays
 * while the TPM enrolment is left for the first boot on the device.
 */
import { minArgonMemoryKiB } from "../../checks/disk-03.js";
import type { LuksVolume } from "../../facts/types.js";
import type { Change } from "../types.js";
import type { PlanContext } from "./common.js";

const resource = "disk";
const recoveryTokens = new Set(["systemd-recovery", "koffer-recovery"]);
const boundTokens = new Set(["systemd-tpm2", "systemd-fido2", "systemd-pkcs11"]);

function tpmReachable(ctx: PlanContext): boolean {
  const tpm = ctx.facts.boot.tpm;
  return (
    ctx.tpm2Device !== undefined || (tpm.available && tpm.value.present && tpm.value.version === 2)
  );
}

function planVolume(ctx: PlanContext, volume: LuksVolume): Change[] {
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

  let tpmToken = volume.tokens.some((t) => t.type === "systemd-tpm2" && t.tpm2Pin === true);
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

export function planDisk(ctx: PlanContext): Change[] {
  // Unreadable or LUKS1 volumes are reported (DISK-01/02); conversion is a separate operation.
  return ctx.facts.disk.volumes
    .filter((v) => v.error === undefined && v.version === 2)
    .flatMap((v) => planVolume(ctx, v));
}
