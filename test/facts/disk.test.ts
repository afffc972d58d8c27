import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, rm, writeFile, open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openTarget } from "../../src/targets/index.js";
import {
  dataBytes,
  gatherDisk,
  parseCrypttab,
  parseFstab,
  parseLuksDumpText,
  parseLsblk,
  parseSwapon,
} from "../../src/facts/disk.js";
import { makeLuksImage } from "../helpers/luks.js";
import { buildRoot } from "../helpers/root-tree.js";

const ctx = { profile: null, now: new Date("2026-01-01T00:00:00Z") };
let base: string;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), "koffer-disk-"));
});
afterAll(async () => rm(base, { recursive: true, force: true }));

describe("crypttab and fstab", () => {
  it("parses crypttab fields, none/- key files, options and sources", () => {
    const entries = parseCrypttab(
      "# comment\nsda3_crypt UUID=abc none luks,discard,tpm2-device=auto\n\nswap /dev/sda2 /dev/urandom swap,cipher=aes-xts-plain64\nx\\040y /dev/sdb -\n",
    );
    expect(entries).toEqual([
      {
        name: "sda3_crypt",
        device: "UUID=abc",
        keyFile: null,
        options: ["luks", "discard", "tpm2-device=auto"],
        source: "/etc/crypttab:2",
      },
      {
        name: "swap",
        device: "/dev/sda2",
        keyFile: "/dev/urandom",
        options: ["swap", "cipher=aes-xts-plain64"],
        source: "/etc/crypttab:4",
      },
      { name: "x y", device: "/dev/sdb", keyFile: null, options: [], source: "/etc/crypttab:5" },
    ]);
  });

  it("parses fstab with octal escapes", () => {
    expect(
      parseFstab(
        "/dev/mapper/root / ext4 errors=remount-ro 0 1\ntmpfs /tmp tmpfs nosuid,nodev 0 0\n/dev/sdc1 /media/my\\040disk vfat\n",
      ),
    ).toEqual([
      {
        spec: "/dev/mapper/root",
        file: "/",
        vfstype: "ext4",
        options: ["errors=remount-ro"],
        source: "/etc/fstab:1",
      },
      {
        spec: "tmpfs",
        file: "/tmp",
        vfstype: "tmpfs",
        options: ["nosuid", "nodev"],
        source: "/etc/fstab:2",
      },
      {
        spec: "/dev/sdc1",
        file: "/media/my disk",
        vfstype: "vfat",
        options: ["defaults"],
        source: "/etc/fstab:3",
      },
    ]);
  });
});

describe("live-source parsers", () => {
  it("parses lsblk JSON with nested children and null mountpoints", () => {
    const json = JSON.stringify({
      blockdevices: [
        {
          name: "nvme0n1",
          path: "/dev/nvme0n1",
          type: "disk",
          fstype: null,
          mountpoints: [null],
          uuid: null,
          children: [
            {
              name: "nvme0n1p3",
              path: "/dev/nvme0n1p3",
              type: "part",
              fstype: "crypto_LUKS",
              mountpoints: [null],
              uuid: "u1",
              children: [
                {
                  name: "root",
                  path: "/dev/mapper/root",
                  type: "crypt",
                  fstype: "ext4",
                  mountpoints: ["/"],
                  uuid: "u2",
                },
              ],
            },
          ],
        },
      ],
    });
    const [disk] = parseLsblk(json);
    expect(disk?.mountpoints).toEqual([]);
    expect(disk?.children[0]?.fstype).toBe("crypto_LUKS");
    expect(disk?.children[0]?.children[0]).toMatchObject({ type: "crypt", mountpoints: ["/"] });
  });

  it("parses swapon raw output", () => {
    expect(parseSwapon("/dev/zram0 partition\n/dev/dm-1 partition\n")).toEqual([
      { name: "/dev/zram0", type: "partition" },
      { name: "/dev/dm-1", type: "partition" },
    ]);
  });
});

describe("LUKS volumes through real cryptsetup", () => {
  it("describes a hardened LUKS2 volume: argon2id, 512-bit XTS, TPM2+PIN token on PCR 7, recovery token", async () => {
    const image = await makeLuksImage({
      extraKeyslots: [
        { token: { type: "systemd-tpm2", pin: true, pcrs: [7] } },
        { token: { type: "systemd-recovery" } },
      ],
    });
    const root = await buildRoot({
      files: {
        "/etc/crypttab": `root_crypt UUID=${image.uuid.toUpperCase()} none luks,tpm2-device=auto\n`,
      },
    });
    const target = await openTarget({ root, disks: [image.path] });
    const facts = await gatherDisk(target, ctx);
    expect(facts.volumes).toHaveLength(1);
    const v = facts.volumes[0]!;
    expect(v.error).toBeUndefined();
    expect(v).toMatchObject({
      version: 2,
      uuid: image.uuid,
      crypttabName: "root_crypt",
      requirements: [],
    });
    expect(v.keyslots.map((k) => [k.id, k.kdf.type, k.keyBytes])).toEqual([
      ["0", "argon2id", 64],
      ["1", "argon2id", 64],
      ["2", "argon2id", 64],
    ]);
    expect(v.keyslots[0]?.kdf.memory).toBe(32768);
    expect(v.segments).toEqual([
      {
        id: "0",
        type: "crypt",
        encryption: "aes-xts-plain64",
        sectorSize: expect.any(Number),
        offset: 16 * 1024 * 1024,
        size: "dynamic",
      },
    ]);
    // A 20 MiB image with the data from 16 MiB: what a re-encryption would rewrite.
    expect(v.dataBytes).toBe(4 * 1024 * 1024);
    expect(v.tokens).toEqual([
      { id: "0", type: "systemd-tpm2", keyslots: ["1"], tpm2Pin: true, tpm2Pcrs: [7] },
      { id: "1", type: "systemd-recovery", keyslots: ["2"] },
    ]);
    expect(facts.blockDevices).toMatchObject({ available: false });
  });

  it("describes weak variants: pbkdf2 keyslot, 256-bit key, TPM2 without PIN on PCRs 0+7", async () => {
    const image = await makeLuksImage({
      keyBits: 256,
      pbkdf: "pbkdf2",
      extraKeyslots: [{ token: { type: "systemd-tpm2", pin: false, pcrs: [0, 7] } }],
    });
    const target = await openTarget({ root: await buildRoot({}), disks: [image.path] });
    const v = (await gatherDisk(target, ctx)).volumes[0]!;
    expect(v.keyslots[0]).toMatchObject({ keyBytes: 32, kdf: { type: "pbkdf2", hash: "sha256" } });
    expect(v.keyslots[0]?.kdf.iterations).toBeGreaterThanOrEqual(1000);
    expect(v.tokens[0]).toMatchObject({ tpm2Pin: false, tpm2Pcrs: [0, 7] });
    expect(v.crypttabName).toBeNull();
  });

  it("describes a LUKS1 volume from the text dump", async () => {
    const image = await makeLuksImage({ version: 1, keyBits: 256, cipher: "aes-cbc-essiv:sha256" });
    const target = await openTarget({ root: await buildRoot({}), disks: [image.path] });
    const v = (await gatherDisk(target, ctx)).volumes[0]!;
    expect(v).toMatchObject({ version: 1, uuid: image.uuid });
    expect(v.error).toBeUndefined();
    expect(v.segments[0]).toMatchObject({ encryption: "aes-cbc-essiv:sha256", keyBytes: 32 });
    expect(v.keyslots).toEqual([
      {
        id: "0",
        type: "luks1",
        keyBytes: 32,
        kdf: { type: "pbkdf2", hash: "sha256", iterations: expect.any(Number) },
      },
    ]);
  });

  it("reports a damaged header as an error, and a plain disk as unencrypted without error", async () => {
    const damaged = join(base, "damaged.img");
    await makeLuksImage({ copyTo: damaged });
    // Keep the magic, destroy the rest of the binary header and both JSON areas.
    const handle = await open(damaged, "r+");
    await handle.write(Buffer.alloc(4096 - 6, 0x41), 0, 4096 - 6, 6);
    await handle.write(Buffer.alloc(16384 * 2, 0x41), 0, 16384 * 2, 4096);
    await handle.close();
    const plain = join(base, "plain.img");
    await writeFile(plain, Buffer.alloc(1024 * 1024));
    const target = await openTarget({ root: await buildRoot({}), disks: [damaged, plain] });
    const [d, p] = (await gatherDisk(target, ctx)).volumes;
    expect(d?.error).toMatch(/damaged|cannot read/);
    expect(d?.version).toBeNull();
    expect(p).toMatchObject({ version: null, keyslots: [] });
    expect(p?.error).toBeUndefined();
  });

  it("parses LUKS1 text without enabled slots and unknown versions", () => {
    expect(parseLuksDumpText("Version:\t3\nUUID:\tx\n")).toEqual({ version: 3, uuid: "x" });
  });
});

describe("the rest of the disk area", () => {
  it("reads sleep.conf with drop-ins, initramfs key files, escrow records and zram", async () => {
    const uuid = "0b5c0c1e-0000-4000-8000-000000000001";
    const root = await buildRoot({
      files: {
        "/etc/systemd/sleep.conf": "[Sleep]\n#AllowHibernation=yes\nAllowSuspend=yes\n",
        "/etc/systemd/sleep.conf.d/10-koffer.conf":
          "[Sleep]\nAllowHibernation=no\nAllowHybridSleep=no\n",
        "/usr/lib/systemd/sleep.conf.d/05-vendor.conf": "[Sleep]\nAllowHibernation=yes\n",
        "/etc/cryptsetup-initramfs/conf-hook": 'CRYPTSETUP=y\nKEYFILE_PATTERN="/etc/keys/*.key"\n',
        "/etc/keys/root.key": { content: "k", mode: 0o600 },
        "/etc/keys/readme.txt": "x",
        [`/var/lib/koffer/escrow/${uuid}.json`]: JSON.stringify({
          volumeUuid: uuid,
          keyslot: "2",
          escrowCertificateSha256: "ab",
          createdAt: "2026-01-01T00:00:00Z",
        }),
        "/var/lib/koffer/escrow/broken.json": "{",
        "/etc/systemd/zram-generator.conf": "[zram0]\n",
      },
    });
    const facts = await gatherDisk(await openTarget({ root }), ctx);
    expect(facts.sleepConf.AllowHibernation).toEqual({
      value: "no",
      source: "/etc/systemd/sleep.conf.d/10-koffer.conf:2",
    });
    expect(facts.sleepConf.AllowSuspend?.value).toBe("yes");
    expect(facts.initramfsKeyFiles).toEqual(["/etc/keys/root.key"]);
    expect(facts.escrowRecords).toEqual([
      {
        volumeUuid: uuid,
        keyslot: "2",
        escrowCertificateSha256: "ab",
        createdAt: "2026-01-01T00:00:00Z",
        source: `/var/lib/koffer/escrow/${uuid}.json`,
      },
    ]);
    expect(facts.zramSwap).toBe(true);
  });

  it("has no zram, no key files and no sleep settings on an empty root", async () => {
    const facts = await gatherDisk(await openTarget({ root: await buildRoot({}) }), ctx);
    expect(facts).toMatchObject({
      zramSwap: false,
      initramfsKeyFiles: [],
      sleepConf: {},
      volumes: [],
    });
  });
});

describe("dataBytes", () => {
  const crypt = (offset: number, size: number | "dynamic") => ({
    id: "0",
    type: "crypt",
    encryption: "aes-xts-plain64",
    offset,
    size,
  });
  it("is the span of the crypt segments, to the end of the device for a dynamic one", () => {
    expect(dataBytes([crypt(16, "dynamic")], 100)).toBe(84);
    expect(dataBytes([crypt(16, "dynamic")], undefined)).toBeUndefined();
    expect(dataBytes([crypt(16, 50)], undefined)).toBe(50);
    // Mid re-encryption: new (fixed), old (dynamic) and backup segments overlap — the span counts.
    expect(dataBytes([crypt(16, 32), crypt(48, "dynamic"), crypt(16, "dynamic")], 100)).toBe(84);
    expect(dataBytes([], 100)).toBeUndefined();
  });
});
