/**
 * The packer writes what dm-crypt would: a filesystem image packed into a LUKS2 volume file
 * decrypts back (cryptsetup's own offline `reencrypt --decrypt`, no device-mapper) to the
 * very same bytes, for a 256-bit and a 512-bit XTS key.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { luksSegment, luksVolumeKey, packIntoLuks } from "./luks-pack.js";

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe.each([256, 512])("packIntoLuks (aes-xts-plain64, %i-bit key)", (bits) => {
  it("decrypts with cryptsetup to the packed bytes", async () => {
    const dir = await mkdtemp(join(tmpdir(), "koffer-pack-"));
    dirs.push(dir);
    const plain = join(dir, "plain.img");
    await writeFile(plain, randomBytes(3 << 20));
    const volume = join(dir, "volume.img");
    // Sits at 1 MiB inside a bigger "disk", as the root partition does.
    const disk = join(dir, "disk.img");
    await writeFile(volume, "");
    await truncate(volume, (16 << 20) + (3 << 20));
    const passphrase = "technician-passphrase";
    await execa(
      "cryptsetup",
      [
        "luksFormat",
        "--batch-mode",
        "--type=luks2",
        "--cipher=aes-xts-plain64",
        `--key-size=${bits}`,
        "--pbkdf=pbkdf2",
        "--pbkdf-force-iterations=1000",
        "--key-file=-",
        volume,
      ],
      { input: passphrase },
    );
    await execa("sh", ["-c", `truncate -s 1M "$1" && cat "$2" >> "$1"`, "sh", disk, volume]);
    await truncate(disk, (1 << 20) + (16 << 20) + (3 << 20));
    const segment = await luksSegment(volume);
    await packIntoLuks(plain, disk, 1 << 20, segment, await luksVolumeKey(volume, passphrase));
    // cryptsetup decrypts offline only with a detached header (data offset 0): one with the
    // same volume key (a test file), over the data segment cut out of the disk.
    const vk = join(dir, "vk");
    await writeFile(vk, await luksVolumeKey(volume, passphrase), { mode: 0o600 });
    const header = join(dir, "header.img");
    await writeFile(header, "");
    await truncate(header, 16 << 20);
    await execa(
      "cryptsetup",
      [
        "luksFormat",
        "--batch-mode",
        "--type=luks2",
        "--cipher=aes-xts-plain64",
        `--key-size=${bits}`,
        `--sector-size=${segment.sectorSize}`,
        `--volume-key-file=${vk}`,
        "--pbkdf=pbkdf2",
        "--pbkdf-force-iterations=1000",
        "--key-file=-",
        `--header=${header}`,
        "--offset=0",
        header,
      ],
      { input: passphrase },
    );
    const out = join(dir, "out.img");
    await execa("dd", [
      `if=${disk}`,
      `of=${out}`,
      "bs=1M",
      `skip=${1 + segment.offset / (1 << 20)}`,
      "status=none",
    ]);
    await execa(
      "cryptsetup",
      [
        "reencrypt",
        "--decrypt",
        "--batch-mode",
        "--force-offline-reencrypt",
        "--key-file=-",
        `--header=${header}`,
        out,
      ],
      {
        input: passphrase,
      },
    );
    const decrypted = await readFile(out);
    expect(decrypted.subarray(0, 3 << 20).equals(await readFile(plain))).toBe(true);
  });
});
