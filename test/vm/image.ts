/**
 * The laptop VM's disk, as the Debian installer leaves it (issue 10): GPT with an EFI system
 * partition (shim → GRUB, both signed by Debian, so OVMF's Microsoft keys accept them), an
 * ext4 /boot and a LUKS2 root with the technician's passphrase; crypttab and fstab by UUID.
 *
 * Two cached layers under ~/.cache/koffer, each with a manifest (recipe, sha256) and a lock:
 *
 * - `vm-<versionId>-<recipe>`: the plain Debian root of the release (src/demo/debian-root.ts)
 *   plus the kernel (linux-image-amd64: USB (xhci, usb-storage) and NVMe as modules, TPM
 *   tis/crb built in), shim-signed, grub-efi-amd64-signed, cryptsetup and
 *   cryptsetup-initramfs, installed by apt INSIDE the tree with systemd-nspawn (never the
 *   image's code on the host). The same names exist in Debian 12 and 13.
 * - `vm-disk-<key>.img` (Debian 12) / `vm-disk-<versionId>-<key>.img`: the assembled raw disk
 *   after koffer provisioned it, keyed by the base tree's checksum, the release, the profile,
 *   the koffer build and the build steps. A boot never writes it: every run boots a qcow2
 *   overlay of its own (see qemu.ts).
 *
 * The release is Debian 12 unless KOFFER_VM_RELEASE names another of src/platform/releases.ts
 * (`npm run test:vm:13`); a release other than 12 gets its profile from
 * test/vm/profile/vm-laptop-<versionId>.yaml.
 *
 * The disk is built without mounting anything and without device-mapper (the CI host has
 * neither to spare): partitions are files — the ESP by mkfs.vfat + mtools, /boot and the
 * root by `mkfs.ext4 -d` — and a GPT written by sfdisk on the disk file. The LUKS2 header is
 * made by cryptsetup on the partition file BEFORE koffer provisions (so koffer meets it as
 * the installer left it, with `--disk`); the provisioned tree is then encrypted into the data
 * segment with the volume's own key (luks-pack.ts).
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import {
  chmod,
  chown,
  copyFile,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  rename,
  rm,
  stat,
  truncate,
  writeFile,
} from "node:fs/promises";
import { homedir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import {
  acquireCacheLock,
  debianMirror,
  debianRoot,
  debianRootPath,
} from "../../src/demo/debian-root.js";
import { findRelease, releases, type PlatformId } from "../../src/platform/releases.js";
import { loadProfileOrThrow } from "../../src/profiles/loader.js";
import { runInSandbox } from "../../src/targets/sandbox.js";
import { aptLayerScript, cachedLayer, nspawnRun } from "../rig/laptop-root.js";
import { luksSegment, luksVolumeKey, packIntoLuks } from "./luks-pack.js";
import { writeUplinkConfig } from "./network.js";

const cacheDir = join(homedir(), ".cache", "koffer");

/** The release the VM is built from: KOFFER_VM_RELEASE (e.g. debian-13), default debian-12. */
export function vmRelease(): PlatformId {
  const wanted = process.env.KOFFER_VM_RELEASE;
  if (wanted === undefined || wanted === "") return "debian-12";
  const release = findRelease(wanted);
  if (release === undefined)
    throw new Error(
      `KOFFER_VM_RELEASE=${wanted}: expected one of ${Object.keys(releases).join(", ")}`,
    );
  return release.platform;
}

/** What the installer leaves on the laptop, on top of the plain Debian root (12 and 13 alike). */
export const vmBasePackages: readonly string[] = [
  "linux-image-amd64",
  "shim-signed",
  "grub-efi-amd64-signed",
  "cryptsetup",
  "cryptsetup-initramfs",
  "initramfs-tools",
  // The image builder's boot check and koffer verify read these on the booted VM.
  "kmod",
  "iproute2",
  "procps",
  "zstd",
];

const baseScript = (packages: readonly string[]) =>
  aptLayerScript(
    packages,
    `echo koffer-vm > /etc/hostname
printf '127.0.0.1\\tlocalhost\\n127.0.1.1\\tkoffer-vm\\n::1\\tlocalhost ip6-localhost ip6-loopback\\n' > /etc/hosts
: > /etc/machine-id
`,
  );

function baseRecipe(release: PlatformId) {
  return {
    // The release enters the recipe through its base root's path (debian-12-… / debian-13-…),
    // so the Debian 12 recipe and its cache name are the ones built before releases existed.
    base: debianRootPath({ release }),
    packages: [...vmBasePackages].sort(),
    mirror: debianMirror(),
    script: baseScript(vmBasePackages),
  };
}

export function vmBasePath(release: PlatformId = vmRelease()): string {
  const key = createHash("sha256")
    .update(JSON.stringify(baseRecipe(release)))
    .digest("hex")
    .slice(0, 12);
  return join(cacheDir, `vm-${releases[release].versionId}-${key}`);
}

interface BaseManifest {
  recipe: ReturnType<typeof baseRecipe>;
  builtAt: string;
  buildSeconds: number;
  files: number;
  bytes: number;
  treeSha256: string;
}

/** The release's .deb cache (Debian 12: apt-archives, shared with the rig and the demo). */
const aptArchivesOf = (release: PlatformId) => join(cacheDir, releases[release].aptArchiveCache);

/** Run a build script in `root` with the release's apt archive cache (held under its lock). */
export async function aptInTree(
  root: string,
  script: string,
  release: PlatformId = vmRelease(),
): Promise<void> {
  const aptArchives = aptArchivesOf(release);
  await mkdir(join(aptArchives, "partial"), { recursive: true });
  const releaseArchives = await acquireCacheLock(join(aptArchives, ".koffer-lock"), 30 * 60_000);
  try {
    await nspawnRun(root, script, aptArchives);
  } finally {
    await releaseArchives();
  }
}

/**
 * The installer-state tree, built once (~25 min cold under a busy host) as a cached layer on
 * the plain Debian root (test/rig/laptop-root.ts: lock, manifest, tree checksum re-checked
 * on every use); returns its path.
 */
export async function vmBaseRoot(
  log: (line: string) => void = () => {},
  release: PlatformId = vmRelease(),
): Promise<string> {
  const finalPath = vmBasePath(release);
  if (!existsSync(`${finalPath}.manifest.json`))
    log(`building the VM base root ${finalPath} (kernel, shim, GRUB, cryptsetup)`);
  return cachedLayer({
    finalPath,
    base: () => debianRoot({ release }),
    script: baseScript(vmBasePackages),
    archives: aptArchivesOf(release),
    what: "VM base root",
    recipe: baseRecipe(release),
  });
}

export async function vmBaseManifest(release: PlatformId = vmRelease()): Promise<BaseManifest> {
  return JSON.parse(await readFile(`${vmBasePath(release)}.manifest.json`, "utf8")) as BaseManifest;
}

/** UUIDs and sizes of the disk, fixed before anything is written so crypttab/fstab can name them. */
export interface DiskLayout {
  espUuid: string; // vfat volume id, "ABCD-1234"
  bootUuid: string;
  rootFsUuid: string;
  luksUuid: string;
  espMiB: number;
  bootMiB: number;
  rootMiB: number;
}

export const mib = 1 << 20;

/** Partition offsets (MiB) of the GPT disk: 1 MiB alignment, ESP, /boot, LUKS root. */
export function partitionOffsets(layout: DiskLayout): {
  esp: number;
  boot: number;
  root: number;
  totalMiB: number;
} {
  const esp = 1;
  const boot = esp + layout.espMiB;
  const root = boot + layout.bootMiB;
  return { esp, boot, root, totalMiB: root + layout.rootMiB + 1 };
}

export function newLayout(rootMiB: number): DiskLayout {
  const hex = randomBytes(4).toString("hex").toUpperCase();
  return {
    espUuid: `${hex.slice(0, 4)}-${hex.slice(4)}`,
    bootUuid: randomUUID(),
    rootFsUuid: randomUUID(),
    luksUuid: randomUUID(),
    espMiB: 64,
    bootMiB: 384,
    rootMiB,
  };
}

export interface LuksShape {
  /** XTS key size: 256 is the weak variant (AES-128), 512 the profile's. */
  keyBits: 256 | 512;
}

/**
 * The LUKS2 root partition file as the installer formats it: header only (the data area is
 * sparse until {@link assembleDisk} encrypts the tree into it), one passphrase slot (the
 * technician's). The passphrase goes to cryptsetup on stdin.
 */
export async function formatLuksPartition(
  path: string,
  layout: DiskLayout,
  shape: LuksShape,
  passphrase: string,
): Promise<void> {
  await writeFile(path, "");
  await truncate(path, layout.rootMiB * mib);
  const result = await execa(
    "cryptsetup",
    [
      "luksFormat",
      "--batch-mode",
      "--type=luks2",
      "--cipher=aes-xts-plain64",
      `--key-size=${shape.keyBits}`,
      "--sector-size=512",
      // An installer benchmarks argon2id on the real CPU; under TCG that costs minutes, so
      // the slot is argon2id with a small fixed cost (the slot is wiped at first boot anyway).
      "--pbkdf=argon2id",
      "--pbkdf-memory=65536",
      "--pbkdf-force-iterations=4",
      "--pbkdf-parallel=1",
      `--uuid=${layout.luksUuid}`,
      "--key-file=-",
      path,
    ],
    { input: passphrase, reject: false, env: { LC_ALL: "C" } },
  );
  if (result.exitCode !== 0) throw new Error(`luksFormat ${path} failed: ${result.stderr}`);
}

const writeAt = async (root: string, path: string, content: string, mode = 0o644) => {
  const host = join(root, path);
  await mkdir(dirname(host), { recursive: true });
  await writeFile(host, content);
  await chmod(host, mode);
};

/** How long systemd waits for /boot and the ESP to appear (fstab, see below). */
const deviceTimeout = "x-systemd.device-timeout=900s";

/** The installer's /etc/fstab and /etc/crypttab (by UUID) and the test console login. */
export async function writeInstallerConfig(root: string, layout: DiskLayout): Promise<void> {
  await writeAt(
    root,
    "/etc/fstab",
    `# /etc/fstab: static file system information (written by the installer).\n` +
      // partman-crypto names the opened volume, not the file system inside it.
      `/dev/mapper/cryptroot / ext4 errors=remount-ro 0 1\n` +
      // Harness, not installer: under TCG on a loaded host udev can take minutes to announce
      // the partitions, and systemd 252 gives a device 90 s (DefaultDeviceTimeoutSec; it
      // does not know the kernel option systemd.default_device_timeout_sec=, added in 254,
      // that grub.cfg also carries) — past that, emergency mode (seen at load 16–20).
      `UUID=${layout.bootUuid} /boot ext4 defaults,${deviceTimeout} 0 2\n` +
      `UUID=${layout.espUuid} /boot/efi vfat umask=0077,${deviceTimeout} 0 1\n`,
  );
  await writeAt(root, "/etc/crypttab", `cryptroot UUID=${layout.luksUuid} none luks,discard\n`);
  await mkdir(join(root, "boot", "efi"), { recursive: true });
  // The installer makes the profile's admin with a password (it asks for one); koffer locks
  // root's password and removes any autologin, so the harness logs in as the admin on the
  // serial console and becomes root with `sudo -i` (test material).
  const hash = (
    await execa("openssl", ["passwd", "-6", "-stdin"], { input: rootPassword })
  ).stdout.trim();
  const append = async (file: string, line: string) => {
    const text = await readFile(join(root, "etc", file), "utf8");
    if (!text.split("\n").some((l) => l.startsWith(`${adminUser}:`)))
      await writeFile(join(root, "etc", file), `${text.replace(/\n?$/, "\n")}${line}\n`);
  };
  await append("passwd", `${adminUser}:x:1000:1000:KISA admin:/home/${adminUser}:/bin/bash`);
  await append("group", `${adminUser}:x:1000:`);
  await append("shadow", `${adminUser}:${hash}:20000:0:99999:7:::`);
  if (existsSync(join(root, "etc", "gshadow"))) await append("gshadow", `${adminUser}:!::`);
  await mkdir(join(root, "home", adminUser), { recursive: true, mode: 0o700 });
  await chown(join(root, "home", adminUser), 1000, 1000);
  const shadow = await readFile(join(root, "etc", "shadow"), "utf8");
  await writeFile(join(root, "etc", "shadow"), shadow.replace(/^root:[^:]*:/m, `root:${hash}:`));
}

/** The profile's admin (test/vm/profile/vm-laptop.yaml), the harness's console login. */
export const adminUser = "kisa-admin";

/** The root password of the test image (test material). */
export const rootPassword = "Koffer-VM-root-2026";

/**
 * Until provisioning installs it itself (branch h/firstboot), the builder installs the
 * first-boot TPM2+PIN enrolment exactly as that branch ships it (templates/): the script, the
 * unit (enabled) and its volume list. Skipped when provisioning already installed the unit.
 */
export async function installFirstBootStandIn(root: string, layout: DiskLayout): Promise<boolean> {
  const unit = "/etc/systemd/system/koffer-tpm2-enrol.service";
  if (
    existsSync(join(root, unit)) ||
    existsSync(join(root, "/usr/lib/systemd/system/koffer-tpm2-enrol.service"))
  )
    return false;
  await writeAt(
    root,
    "/usr/lib/koffer/tpm2-enrol",
    await readFile(join(repo, "templates", "tpm2-enrol.sh"), "utf8"),
    0o755,
  );
  await writeAt(
    root,
    unit,
    await readFile(join(repo, "templates", "koffer-tpm2-enrol.service"), "utf8"),
  );
  await writeAt(
    root,
    "/etc/koffer/tpm2-enrol.conf",
    `cryptroot /dev/disk/by-uuid/${layout.luksUuid} 7\n`,
    0o600,
  );
  await mkdir(join(root, "etc/systemd/system/multi-user.target.wants"), { recursive: true });
  await execa("ln", [
    "-sf",
    unit,
    join(root, "etc/systemd/system/multi-user.target.wants/koffer-tpm2-enrol.service"),
  ]);
  return true;
}

/** The newest kernel version of the tree (from /boot/vmlinuz-*). */
export async function kernelVersion(root: string): Promise<string> {
  const names = (await readdir(join(root, "boot"))).filter((n) => n.startsWith("vmlinuz-"));
  const versions = names.map((n) => n.slice("vmlinuz-".length)).sort();
  const newest = versions.at(-1);
  if (newest === undefined) throw new Error(`${root}/boot has no kernel`);
  return newest;
}

/**
 * GRUB's configuration for the offline tree (update-grub needs the real block devices, which
 * an image build does not have): the ESP's EFI/debian/grub.cfg finds /boot by UUID, as
 * grub-install writes it; /boot/grub/grub.cfg boots the newest kernel.
 */
export async function writeGrubConfig(
  root: string,
  layout: DiskLayout,
  cmdline: string,
): Promise<{ espCfg: string }> {
  const kver = await kernelVersion(root);
  await writeAt(
    root,
    "/boot/grub/grub.cfg",
    `set timeout=0\nset default=0\nterminal_output console\n` +
      `menuentry 'Debian GNU/Linux' {\n` +
      `  search --no-floppy --fs-uuid --set=root ${layout.bootUuid}\n` +
      `  linux /vmlinuz-${kver} root=UUID=${layout.rootFsUuid} ro ${cmdline}\n` +
      `  initrd /initrd.img-${kver}\n}\n`,
  );
  const espCfg =
    `search.fs_uuid ${layout.bootUuid} root\n` +
    `set prefix=($root)'/grub'\n` +
    `configfile $prefix/grub.cfg\n`;
  return { espCfg };
}

async function must(cmd: string, args: string[], env: Record<string, string> = {}): Promise<void> {
  const result = await execa(cmd, args, { reject: false, env: { LC_ALL: "C", ...env } });
  if (result.exitCode !== 0)
    throw new Error(`${cmd} ${args.join(" ")} failed (${result.exitCode}): ${result.stderr}`);
}

/** Size (MiB) a tree needs as ext4: used bytes plus room for metadata and what boots write. */
export async function treeMiB(path: string): Promise<number> {
  const { stdout } = await execa("du", ["-s", "--block-size=1M", "-x", path]);
  return Number(stdout.split(/\s/)[0]);
}

/**
 * Assemble the disk file `out` from the provisioned tree and the LUKS partition file: /boot
 * and the ESP from the tree's /boot, the rest (with an empty /boot) as the encrypted root.
 */
export async function assembleDisk(opts: {
  root: string;
  luksFile: string;
  passphrase: string;
  layout: DiskLayout;
  espCfg: string;
  out: string;
  work: string;
}): Promise<void> {
  const { root, layout, work } = opts;
  const off = partitionOffsets(layout);
  // The ESP: shim as the removable-media loader, GRUB and MokManager next to it.
  const esp = join(work, "esp.img");
  await rm(esp, { force: true });
  await must("mkfs.vfat", [
    "-F",
    "32",
    "-i",
    layout.espUuid.replace("-", ""),
    "-n",
    "EFI",
    "-C",
    esp,
    String(layout.espMiB * 1024),
  ]);
  const cfg = join(work, "grub.cfg");
  await writeFile(cfg, opts.espCfg);
  const mt = { MTOOLS_SKIP_CHECK: "1" };
  await must("mmd", ["-i", esp, "::/EFI", "::/EFI/BOOT", "::/EFI/debian"], mt);
  const files: [string, string][] = [
    ["/usr/lib/shim/shimx64.efi.signed", "::/EFI/BOOT/BOOTX64.EFI"],
    ["/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed", "::/EFI/BOOT/grubx64.efi"],
    ["/usr/lib/shim/mmx64.efi.signed", "::/EFI/BOOT/mmx64.efi"],
    ["/usr/lib/shim/shimx64.efi.signed", "::/EFI/debian/shimx64.efi"],
    ["/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed", "::/EFI/debian/grubx64.efi"],
    ["/usr/lib/shim/mmx64.efi.signed", "::/EFI/debian/mmx64.efi"],
  ];
  for (const [from, to] of files) await must("mcopy", ["-i", esp, join(root, from), to], mt);
  await must("mcopy", ["-i", esp, cfg, "::/EFI/debian/grub.cfg"], mt);
  await must("mcopy", ["-i", esp, cfg, "::/EFI/BOOT/grub.cfg"], mt);

  // /boot as its own ext4; the root gets an empty /boot mount point.
  // Next to the tree (same filesystem: a rename, not a copy).
  const bootTree = join(dirname(root), "boot-tree");
  await rm(bootTree, { recursive: true, force: true });
  await rename(join(root, "boot"), bootTree);
  await mkdir(join(root, "boot"), { mode: 0o755 });
  await rm(join(bootTree, "efi"), { recursive: true, force: true });
  const bootImg = join(work, "boot.img");
  await rm(bootImg, { force: true });
  await must("mkfs.ext4", [
    "-q",
    "-F",
    "-L",
    "boot",
    "-U",
    layout.bootUuid,
    "-d",
    bootTree,
    bootImg,
    `${layout.bootMiB}M`,
  ]);
  await mkdir(join(root, "boot", "efi"), { recursive: true });

  const segment = await luksSegment(opts.luksFile);
  const fsBytes = layout.rootMiB * mib - segment.offset;
  const rootImg = join(work, "root.img");
  await rm(rootImg, { force: true });
  await must("mkfs.ext4", [
    "-q",
    "-F",
    "-L",
    "root",
    "-U",
    layout.rootFsUuid,
    // Every block is encrypted (zeros too), so the kernel finds initialised tables.
    "-E",
    "lazy_itable_init=0,lazy_journal_init=0",
    // With -b the size below counts 4 KiB blocks (without it, KiB).
    "-b",
    "4096",
    "-d",
    root,
    rootImg,
    `${Math.floor(fsBytes / 4096)}`,
  ]);
  await rm(join(root, "boot"), { recursive: true, force: true });
  await rename(bootTree, join(root, "boot"));

  // The disk: GPT, then each partition at its offset.
  await rm(opts.out, { force: true });
  await writeFile(opts.out, "");
  await truncate(opts.out, off.totalMiB * mib);
  const table =
    `label: gpt\n` +
    `start=${off.esp}MiB, size=${layout.espMiB}MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="EFI System Partition"\n` +
    `start=${off.boot}MiB, size=${layout.bootMiB}MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="boot"\n` +
    `start=${off.root}MiB, size=${layout.rootMiB}MiB, type=CA7D7CCB-63ED-4C53-861C-1742536059CC, name="cryptroot"\n`;
  const sfdisk = await execa("sfdisk", ["--quiet", "--no-reread", "--no-tell-kernel", opts.out], {
    input: table,
    reject: false,
  });
  if (sfdisk.exitCode !== 0) throw new Error(`sfdisk failed: ${sfdisk.stderr}`);
  const dd = (file: string, atMiB: number, count?: number) =>
    must("dd", [
      `if=${file}`,
      `of=${opts.out}`,
      "bs=1M",
      `seek=${atMiB}`,
      ...(count === undefined ? [] : [`count=${count}`]),
      "conv=notrunc,sparse",
      "status=none",
    ]);
  await dd(esp, off.esp);
  await dd(bootImg, off.boot);
  // The LUKS2 header (both copies and the keyslot area) as provisioning left it …
  await dd(opts.luksFile, off.root, segment.offset / mib);
  // … and the tree encrypted with the volume's own key into the data segment.
  const key = await luksVolumeKey(opts.luksFile, opts.passphrase);
  await packIntoLuks(rootImg, opts.out, off.root * mib, segment, key);
  for (const f of [esp, bootImg, rootImg]) await rm(f, { force: true });
}

/** sha256 of a file (streamed). */
export async function fileSha256(path: string): Promise<string> {
  const { stdout } = await execa("sha256sum", [path]);
  return stdout.split(/\s/)[0] ?? "";
}

/** The technician's passphrase of the test image (test material, like examples/certs/*.pass). */
export const technicianPassphrase = "Techniker-VM-Passphrase-2026";

const repo = resolve(fileURLToPath(new URL("../..", import.meta.url)));
/**
 * The VM's profile: vm-laptop.yaml on Debian 12; on another release vm-laptop-<versionId>.yaml,
 * which extends it and only names its platform (koffer provisions and verifies the release
 * the profile says).
 */
export const vmProfilePath = join(
  repo,
  "test",
  "vm",
  "profile",
  vmRelease() === "debian-12"
    ? "vm-laptop.yaml"
    : `vm-laptop-${releases[vmRelease()].versionId}.yaml`,
);

/** The same profile as installed on the laptop (in /opt/koffer, for `koffer verify` there). */
export const vmProfileOnLaptop = `/opt/koffer/profile/${basename(vmProfilePath)}`;

/**
 * Until provisioning sets up the TPM2-capable initrd itself (issue 10 item 2, branch
 * h/initrd), the builder does what it will do: dracut with systemd-cryptsetup and tpm2-tss,
 * `tpm2-device=auto` on the crypttab line, the initrd regenerated in the tree's sandbox.
 * Skipped when provisioning already left dracut in place.
 */
export const initrdStandIn = `
if ! dpkg-query -W -f='\${Status}' dracut 2>/dev/null | grep -q 'ok installed'; then
  mkdir -p /etc/dracut.conf.d
  printf '%s\\n' 'add_dracutmodules+=" systemd crypt tpm2-tss "' 'hostonly="no"' 'compress="zstd"' \\
    'install_items+=" /etc/crypttab /usr/lib/x86_64-linux-gnu/cryptsetup/libcryptsetup-token-systemd-tpm2.so "' \\
    > /etc/dracut.conf.d/50-koffer-tpm2.conf
  grep -q 'tpm2-device=' /etc/crypttab || sed -i -E '/^cryptroot /s/[[:space:]]+([^[:space:]]+)$/ \\1,tpm2-device=auto/' /etc/crypttab
  printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  # The package's kernel hook builds the initrd with the drop-in above.
  apt-get install -y -q --no-install-recommends \\
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \\
    dracut tpm2-tools libtss2-tcti-device0 libtss2-rc0
  rm -f /usr/sbin/policy-rc.d
fi
`;

/** What the installer's "SSH server" task installs (sshd and its SFTP server; sudo is there). */
export const sshServerTask = `
printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d
chmod 755 /usr/sbin/policy-rc.d
apt-get install -y -q --no-install-recommends \\
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \\
  openssh-server openssh-sftp-server
rm -f /usr/sbin/policy-rc.d
`;

/**
 * HARNESS ONLY: the kill-switch proof's probe (ping) on the laptop, installed after
 * provisioning like a technician's tool; koffer's verdicts are taken with it present.
 */
export const probeTools = `
printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d
chmod 755 /usr/sbin/policy-rc.d
apt-get install -y -q --no-install-recommends iputils-ping
rm -f /usr/sbin/policy-rc.d
`;

/** koffer as installed on the laptop for `koffer verify` there: node + the build + its modules. */
async function installKoffer(root: string): Promise<void> {
  const dest = join(root, "opt", "koffer");
  await mkdir(join(dest, "bin"), { recursive: true });
  const node = (await execa("sh", ["-c", "command -v node"])).stdout.trim();
  await must("cp", ["-L", node, join(dest, "bin", "node")]);
  for (const entry of ["bin/koffer.js", "dist", "schema", "templates", "package.json"])
    await must("cp", ["-a", "-L", join(repo, entry), join(dest, entry)]);
  await must("cp", ["-a", "-L", join(repo, "node_modules"), join(dest, "node_modules")]);
  await must("cp", ["-a", dirname(vmProfilePath), join(dest, "profile")]);
  await writeAt(
    root,
    "/usr/local/bin/koffer",
    `#!/bin/sh\nexec /opt/koffer/bin/node /opt/koffer/bin/koffer.js "$@"\n`,
    0o755,
  );
}

/** sha256 over the content of every file below `dirs` (sorted): the cache key of a build. */
async function contentHash(dirs: string[]): Promise<string> {
  const { stdout } = await execa(
    "sh",
    ["-c", 'find "$@" -type f -print0 | sort -z | xargs -0 sha256sum', "sh", ...dirs],
    { cwd: repo, maxBuffer: 1 << 28 },
  );
  return createHash("sha256").update(stdout).digest("hex");
}

export interface VmDisk {
  image: string;
  /** The recovery key's escrow envelope (CMS to the profile's escrow certificate). */
  escrow: string;
  manifest: DiskManifest;
}

export interface DiskManifest {
  key: string;
  layout: DiskLayout;
  keyBits: number;
  builtAt: string;
  buildSeconds: number;
  provisionSeconds: number;
  provisionExitCode: number;
  /** Stand-ins the builder used because provisioning did not (yet) do it. */
  standIns: string[];
  kernel: string;
  imageSha256: string;
  bytes: number;
}

/**
 * The provisioned laptop disk (cached: ~/.cache/koffer/vm-disk-<key>.img with
 * `.manifest.json`). Steps: copy of the base tree → LUKS2 root partition file with the weak
 * shape (aes-xts-plain64, 256-bit key, technician slot only) → installer fstab/crypttab →
 * `koffer provision --root --disk --profile --yes` → initrd stand-in → GRUB config →
 * koffer in /opt/koffer → disk assembled.
 */
export async function vmDisk(log: (line: string) => void = () => {}): Promise<VmDisk> {
  // KOFFER_VM_DISK=<image>: boot that built disk as it is (debugging a boot without a rebuild).
  const pinned = process.env.KOFFER_VM_DISK;
  if (pinned !== undefined && pinned !== "") {
    const manifest = JSON.parse(await readFile(`${pinned}.manifest.json`, "utf8")) as DiskManifest;
    return { image: pinned, escrow: `${pinned}.escrow.cms`, manifest };
  }
  const platform = vmRelease();
  const base = await vmBaseRoot(log, platform);
  const baseManifest = await vmBaseManifest(platform);
  const key = createHash("sha256")
    .update(
      JSON.stringify({
        base: baseManifest.treeSha256,
        code: await contentHash([
          "src",
          "bin",
          "templates",
          "package.json",
          "test/vm/image.ts",
          "test/vm/luks-pack.ts",
          "test/vm/network.ts",
          "test/vm/profile",
        ]),
        initrdStandIn,
        // Debian 12's key material is what it was before releases (its disks stay cached).
        ...(platform === "debian-12" ? {} : { release: platform }),
      }),
    )
    .digest("hex")
    .slice(0, 12);
  const image = join(
    cacheDir,
    platform === "debian-12"
      ? `vm-disk-${key}.img`
      : `vm-disk-${releases[platform].versionId}-${key}.img`,
  );
  const manifestPath = `${image}.manifest.json`;
  const cached = async (): Promise<VmDisk | null> => {
    if (!existsSync(manifestPath)) return null;
    const manifest = JSON.parse(await readFile(manifestPath, "utf8")) as DiskManifest;
    const info = await stat(image).catch(() => null);
    if (info === null || info.size !== manifest.bytes)
      throw new Error(`${image} does not match its manifest; remove both to rebuild`);
    return { image, escrow: `${image}.escrow.cms`, manifest };
  };
  const hit = await cached();
  if (hit) return hit;
  const release = await acquireCacheLock(`${image}.lock`, 90 * 60_000);
  const work = await mkdtemp(join("/var/tmp", "kof-vmbuild-"));
  const { copyRoot } = await import("../rig/laptop-root.js");
  let tree: { path: string; cleanup(): Promise<void> } | null = null;
  try {
    const again = await cached();
    if (again) return again;
    const started = Date.now();
    tree = await copyRoot(base, "tmpfs");
    const root = tree.path;
    // The root partition's size is fixed at assembly, when the provisioned tree is complete
    // (the LUKS2 data segment runs to the end of the device: growing the file is enough).
    const layout = newLayout(64);
    const luksFile = join(work, "root.luks");
    await formatLuksPartition(luksFile, layout, { keyBits: 256 }, technicianPassphrase);
    await writeInstallerConfig(root, layout);
    const gatewayName = (await loadProfileOrThrow(vmProfilePath)).spec.vpn.gateway;
    if (gatewayName === undefined) throw new Error(`${vmProfilePath} names no VPN gateway`);
    await writeUplinkConfig(root, gatewayName);
    // The installer's "SSH server" task: the laptop is administered over ssh through the
    // tunnel (the profile's network.ssh; issue 12). Its host keys are made here, by the package.
    await aptInTree(root, sshServerTask, platform);

    log("koffer provision --root --disk (installs and configures in the image sandbox)");
    const provisionStarted = Date.now();
    const secrets = await mkdtemp(join(work, "secrets-"));
    await chmod(secrets, 0o700);
    const passFile = join(secrets, "passphrase");
    await writeFile(passFile, technicianPassphrase, { mode: 0o600 });
    const provision = await execa(
      process.execPath,
      [
        join(repo, "bin", "koffer.js"),
        "provision",
        "--root",
        root,
        "--disk",
        luksFile,
        "--profile",
        vmProfilePath,
        "--yes",
        // The weak 256-bit key is re-encrypted to 512 bits (issue 10 item 4): offline, minutes.
        "--confirm-reencrypt",
        "--passphrase-file",
        passFile,
        "--ca-p12",
        join(repo, "examples", "certs", "test-vpn-ca.p12"),
        "--ca-passphrase-file",
        join(repo, "examples", "certs", "test-vpn-ca.pass"),
        "--out-dir",
        join(work, "reports"),
        "--lang",
        "en",
      ],
      {
        reject: false,
        all: true,
        env: { KOFFER_TEST_PBKDF: "fast", LC_ALL: "C" },
        timeout: 60 * 60_000,
      },
    );
    await rm(secrets, { recursive: true, force: true });
    await mkdir(artifactsDirPath(), { recursive: true });
    await writeFile(join(artifactsDirPath(), "vm-provision.log"), String(provision.all));
    const provisionSeconds = Math.round((Date.now() - provisionStarted) / 1000);
    log(`provision exit ${provision.exitCode} after ${provisionSeconds} s`);
    if (provision.exitCode !== 0 && provision.exitCode !== 1)
      throw new Error(
        `koffer provision failed (${provision.exitCode}):\n${String(provision.all).slice(-4000)}`,
      );

    // The escrow envelope provisioning left in the tree (encrypted to the escrow certificate).
    await copyFile(
      join(root, "var", "lib", "koffer", "escrow", `${layout.luksUuid}.cms`),
      `${image}.escrow.cms`,
    );
    const firstBootStandIn = await installFirstBootStandIn(root, layout);
    log("initrd (dracut + systemd-cryptsetup + tpm2-tss) in the image sandbox");
    const initrdByProvision = existsSync(join(root, "etc/dracut.conf.d/50-koffer-tpm2.conf"));
    await aptInTree(root, initrdStandIn + probeTools, platform);
    await installKoffer(root);
    // Under TCG on a busy host udev needs minutes for the ESP (measured: the default 90 s
    // device timeout sent the first boot to emergency mode), hence the longer device timeout;
    // and mounting it can take longer than the default 90 s start timeout too (measured at a
    // load of ~20 on 2 cores: /boot/efi's mount killed after 90 s, boot 2 in emergency mode).
    // What update-grub would put on the kernel command line (provisioning adds to it through
    // /etc/default/grub.d), read by the image's own shell in its sandbox, never on the host.
    const grubDefaults = await runInSandbox(
      root,
      "/bin/sh",
      [
        "-c",
        'GRUB_CMDLINE_LINUX=; for f in /etc/default/grub /etc/default/grub.d/*.cfg; do [ -f "$f" ] && . "$f"; done; echo "$GRUB_CMDLINE_LINUX"',
      ],
      { env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" } },
    );
    if (grubDefaults.exitCode !== 0)
      throw new Error(`reading the GRUB defaults failed: ${grubDefaults.stderr}`);
    const { espCfg } = await writeGrubConfig(
      root,
      layout,
      `${grubDefaults.stdout.trim()} console=ttyS0,115200 systemd.show_status=1 systemd.default_device_timeout_sec=900 systemd.default_timeout_start_sec=900`.trim(),
    );
    // apt's downloads are not part of the installed system.
    await execa("sh", [
      "-c",
      'rm -f "$1"/var/cache/apt/archives/*.deb "$1"/var/cache/apt/*.bin',
      "sh",
      root,
    ]);
    layout.rootMiB = Math.ceil((await treeMiB(root)) * 1.3 + 512);
    await truncate(luksFile, layout.rootMiB * mib);
    log(`assembling the disk (no mount, no device-mapper): root ${layout.rootMiB} MiB`);
    const temp = `${image}.tmp-${process.pid}`;
    await assembleDisk({
      root,
      luksFile,
      passphrase: technicianPassphrase,
      layout,
      espCfg,
      out: temp,
      work,
    });
    const info = await stat(temp);
    const manifest: DiskManifest = {
      key,
      layout,
      keyBits: 256,
      builtAt: new Date().toISOString(),
      buildSeconds: Math.round((Date.now() - started) / 1000),
      provisionSeconds,
      provisionExitCode: provision.exitCode ?? -1,
      standIns: [
        ...(firstBootStandIn ? ["first-boot unit"] : []),
        ...(initrdByProvision ? [] : ["initrd"]),
      ],
      kernel: await kernelVersion(root),
      imageSha256: await fileSha256(temp),
      bytes: info.size,
    };
    await rename(temp, image);
    await writeFile(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
    return { image, escrow: `${image}.escrow.cms`, manifest };
  } finally {
    await tree?.cleanup();
    await rm(work, { recursive: true, force: true });
    await release();
  }
}

const artifactsDirPath = () => join(repo, "test-artifacts");
