/**
 * Writes a plain filesystem image into the data segment of an existing LUKS2 volume file,
 * encrypted with that volume's own key, with no device-mapper and no mount: what the
 * kernel's dm-crypt would write for `aes-xts-plain64` (each sector one XTS data unit,
 * tweak = the little-endian sector number counted in 512-byte units unless the segment has
 * the `iv_large_sectors` flag).
 *
 * The VM image builder needs it because koffer provisions the root tree AND the LUKS header
 * (recovery slot, tokens, re-encryption) before the disk is assembled: the header stays
 * exactly as provisioning left it, and the tree provisioned next to it becomes its content.
 * The volume key is read with `cryptsetup luksDump --dump-volume-key` (the passphrase on
 * stdin) and kept in memory only.
 */
import { createCipheriv } from "node:crypto";
import { open } from "node:fs/promises";
import { execa } from "execa";

export interface LuksSegment {
  /** Byte offset of the encrypted data in the volume file. */
  offset: number;
  cipher: string;
  sectorSize: number;
  ivLargeSectors: boolean;
}

/** The first crypt segment of a LUKS2 volume (from its JSON metadata). */
export async function luksSegment(volume: string): Promise<LuksSegment> {
  const { stdout } = await execa("cryptsetup", ["luksDump", "--dump-json-metadata", volume], {
    env: { LC_ALL: "C" },
  });
  const meta = JSON.parse(stdout) as {
    segments: Record<
      string,
      { type: string; offset: string; encryption: string; sector_size: number; flags?: string[] }
    >;
  };
  const segment = Object.values(meta.segments).find((s) => s.type === "crypt");
  if (segment === undefined) throw new Error(`${volume}: no crypt segment in the LUKS2 metadata`);
  return {
    offset: Number(segment.offset),
    cipher: segment.encryption,
    sectorSize: segment.sector_size,
    ivLargeSectors: (segment.flags ?? []).includes("iv_large_sectors"),
  };
}

/** The volume key (in memory), unlocked with `passphrase` given on stdin. */
export async function luksVolumeKey(volume: string, passphrase: string): Promise<Buffer> {
  const { stdout } = await execa(
    "cryptsetup",
    ["luksDump", "--dump-volume-key", "--batch-mode", "--key-file=-", volume],
    { input: passphrase, env: { LC_ALL: "C" } },
  );
  const start = stdout.search(/^(MK|Volume key) dump:/m);
  if (start < 0) throw new Error(`${volume}: cryptsetup printed no volume key`);
  const hex = stdout
    .slice(start)
    .replace(/^(MK|Volume key) dump:/m, "")
    .replace(/[^0-9a-fA-F\s]/g, "")
    .split("\n")
    .filter((line) => /^\s*([0-9a-f]{2}\s+)*[0-9a-f]{2}\s*$/i.test(line))
    .join("")
    .replace(/\s+/g, "");
  return Buffer.from(hex, "hex");
}

/**
 * Encrypt `plainImage` into `target` at `targetOffset + segment.offset` (the volume may sit
 * inside a whole-disk file: `targetOffset` is where the volume starts there).
 */
export async function packIntoLuks(
  plainImage: string,
  target: string,
  targetOffset: number,
  segment: LuksSegment,
  key: Buffer,
): Promise<void> {
  if (segment.cipher !== "aes-xts-plain64")
    throw new Error(`only aes-xts-plain64 can be packed, the volume uses ${segment.cipher}`);
  const algorithm = key.length === 32 ? "aes-128-xts" : key.length === 64 ? "aes-256-xts" : null;
  if (algorithm === null) throw new Error(`unexpected XTS key length ${key.length}`);
  const unit = segment.ivLargeSectors ? segment.sectorSize : 512;
  const input = await open(plainImage, "r");
  const output = await open(target, "r+");
  try {
    const chunk = Buffer.alloc(8 << 20);
    const iv = Buffer.alloc(16);
    let position = 0;
    for (;;) {
      const { bytesRead } = await input.read(chunk, 0, chunk.length, position);
      if (bytesRead === 0) break;
      if (bytesRead % segment.sectorSize !== 0)
        throw new Error(`${plainImage} is not a multiple of ${segment.sectorSize} bytes`);
      const out = Buffer.alloc(bytesRead);
      for (let at = 0; at < bytesRead; at += segment.sectorSize) {
        iv.fill(0);
        iv.writeBigUInt64LE(BigInt((position + at) / unit));
        const cipher = createCipheriv(algorithm, key, iv);
        cipher.update(chunk.subarray(at, at + segment.sectorSize)).copy(out, at);
        cipher.final();
      }
      await output.write(out, 0, bytesRead, targetOffset + segment.offset + position);
      position += bytesRead;
    }
  } finally {
    key.fill(0);
    await input.close();
    await output.close();
  }
}
