/**
 * What the initrds in /boot can do at boot, judged FROM THE HOST: nothing of the target runs.
 * An initrd is read like any target file (regular files only, a size cap), split into its
 * archives (an uncompressed early cpio with CPU microcode, then the compressed main cpio),
 * the compressed part decompressed by the HOST's `zstd`/`xz` or Node's zlib under a budget of
 * decompressed bytes and a time limit, and listed with the streaming cpio lister. Only the
 * listing and a few small files (crypttab) are kept.
 *
 * The capabilities are what unlocking a LUKS2 volume with its systemd-tpm2 token needs
 * inside the initrd: systemd-cryptsetup (which reads `tpm2-device=` from crypttab), the
 * libcryptsetup token plugin `libcryptsetup-token-systemd-tpm2.so`, and the TPM2 software
 * stack it loads (`libtss2-esys`, and `libtss2-tcti-device` to talk to /dev/tpmrm0).
 * Debian 12's cryptsetup-initramfs has none of these: it unlocks with cryptsetup and a
 * passphrase prompt, and says "ignoring unknown option" for `tpm2-device=`.
 */
import { createGunzip } from "node:zlib";
import { spawnPiped } from "../targets/exec.js";
import type { Target } from "../targets/types.js";
import { CpioLister, InitrdFormatError, S_IFLNK, type CpioEntry } from "./parsers/cpio.js";
import { parseCrypttab } from "./disk.js";
import type { InitrdCapabilities, InitrdFacts, InitrdGenerator } from "./types.js";

export { InitrdFormatError } from "./parsers/cpio.js";
export { capabilityFiles, requiredCapabilities } from "./initrd-capabilities.js";

export interface InitrdLimits {
  /** Largest initrd file read (default 512 MiB). */
  maxFileBytes?: number;
  /** Most bytes the compressed part may decompress to (default 2 GiB). */
  maxDecompressedBytes?: number;
  /** Time for decompressing and listing one initrd (default 120 s). */
  timeoutMs?: number;
  maxEntries?: number;
}

const defaults = {
  maxFileBytes: 512 * 1024 * 1024,
  maxDecompressedBytes: 2 * 1024 * 1024 * 1024,
  timeoutMs: 120_000,
  maxEntries: 1_000_000,
};

export type Compression = "none" | "gzip" | "zstd" | "xz" | "lzma" | "bzip2" | "lz4" | "lzo";

/** The compression of data starting at `offset`, by its magic number (as the kernel tells). */
export function compressionAt(data: Buffer, offset: number): Compression | null {
  const has = (...bytes: number[]) => bytes.every((b, i) => data[offset + i] === b);
  if (has(0x1f, 0x8b) || has(0x1f, 0x9e)) return "gzip";
  if (has(0x28, 0xb5, 0x2f, 0xfd)) return "zstd";
  if (has(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)) return "xz";
  if (has(0x5d, 0x00, 0x00)) return "lzma";
  if (has(0x42, 0x5a, 0x68)) return "bzip2";
  if (has(0x02, 0x21, 0x4c, 0x18)) return "lz4";
  if (has(0x89, 0x4c, 0x5a, 0x4f)) return "lzo";
  return null;
}

export interface InitrdListing {
  /** Compression of each part, in order: ["none", "zstd"]. */
  parts: Compression[];
  entries: CpioEntry[];
}

/** Files whose content the capability judgement needs (crypttab of both generators). */
const captured = new Set(["etc/crypttab", "cryptroot/crypttab"]);

/** A running decompressor: input in, decompressed chunks out. */
interface Decompressor {
  input: NodeJS.WritableStream & { on(event: "error", fn: () => void): unknown };
  output: NodeJS.ReadableStream;
  /** Exit code (0 = success), once the output ended. */
  done: Promise<{ code: number; detail: string }>;
  kill(): void;
}

async function hostTool(tool: "zstd" | "xz"): Promise<Decompressor> {
  const child = await spawnPiped(tool, ["-dc", "-q"]);
  return {
    input: child.stdin,
    output: child.stdout,
    done: child.exited.then((code) => ({
      code,
      detail: child.stderr().trim().split("\n").slice(-2).join(" "),
    })),
    kill: () => child.kill(),
  };
}

function zlibGunzip(): Decompressor {
  const stream = createGunzip();
  const done = new Promise<{ code: number; detail: string }>((resolve) => {
    stream.once("error", (error) => resolve({ code: 1, detail: error.message }));
    stream.once("end", () => resolve({ code: 0, detail: "" }));
    // destroy() (the budget or the time limit stopping it) ends it without either event.
    stream.once("close", () => resolve({ code: 1, detail: "stopped" }));
  });
  return { input: stream, output: stream, done, kill: () => stream.destroy() };
}

/**
 * Decompress `input` (host `zstd -dc`/`xz -dc`, or zlib for gzip), streaming the output into
 * `lister`: nothing but the listing is kept, and the output is counted against the budget —
 * a compression bomb is stopped at the budget, not decompressed.
 */
async function decompressInto(
  kind: "zstd" | "xz" | "gzip",
  input: Buffer,
  lister: CpioLister,
  limits: Required<InitrdLimits>,
): Promise<void> {
  const tool = kind === "gzip" ? zlibGunzip() : await hostTool(kind);
  let produced = 0;
  let failure: Error | null = null;
  const stop = (error: Error) => {
    failure ??= error;
    tool.kill();
  };
  const timer = setTimeout(
    () =>
      stop(
        new InitrdFormatError(
          "budget",
          `decompressing the initrd took longer than ${limits.timeoutMs / 1000} s`,
        ),
      ),
    limits.timeoutMs,
  );
  tool.input.on("error", () => undefined); // EPIPE when the tool stops early
  tool.output.on("data", (chunk: Buffer) => {
    if (failure !== null) return;
    produced += chunk.length;
    if (produced > limits.maxDecompressedBytes) {
      stop(
        new InitrdFormatError(
          "budget",
          `the initrd decompresses to more than ${limits.maxDecompressedBytes} bytes (${kind})`,
        ),
      );
      return;
    }
    try {
      lister.push(chunk);
    } catch (error) {
      stop(error as Error);
    }
  });
  tool.input.end(input);
  const { code, detail } = await tool.done.finally(() => clearTimeout(timer));
  if (failure !== null) throw failure;
  // Trailing padding after the last frame makes some tools complain; a listing that ended
  // on an archive boundary is complete all the same.
  if (code !== 0 && !(lister.atBoundary && lister.archives > 0))
    throw new InitrdFormatError("tool", `${kind} decompression failed (exit ${code}): ${detail}`);
}

/**
 * List every entry of an initrd image (the bytes of the file). Throws
 * {@link InitrdFormatError} for anything it cannot list completely.
 */
export async function listInitrd(data: Buffer, limits: InitrdLimits = {}): Promise<InitrdListing> {
  const lim = { ...defaults, ...limits };
  const parts: Compression[] = [];
  const entries: CpioEntry[] = [];
  const options = {
    maxEntries: lim.maxEntries,
    capture: (name: string) => captured.has(name),
  };
  // Uncompressed archives first (the early microcode cpio), until foreign data starts.
  const raw = new CpioLister(options);
  const stopped = raw.push(data, true);
  if (raw.archives > 0 || raw.entries.length > 0) {
    parts.push("none");
    entries.push(...raw.entries);
  }
  if (stopped === -1) {
    raw.finish();
    return { parts, entries };
  }
  if (!raw.atBoundary || stopped % 4 !== 0)
    throw new InitrdFormatError("malformed", `garbage at offset ${stopped} of the initrd`);
  const compression = compressionAt(data, stopped);
  if (compression === null)
    throw new InitrdFormatError(
      "malformed",
      `neither a cpio archive nor a known compression at offset ${stopped} of the initrd`,
    );
  parts.push(compression);
  const rest = data.subarray(stopped);
  const main = new CpioLister({ ...options, maxEntries: lim.maxEntries - entries.length });
  if (compression === "zstd" || compression === "xz" || compression === "gzip")
    await decompressInto(compression, rest, main, lim);
  else
    throw new InitrdFormatError(
      "unsupported",
      `the initrd's main archive is ${compression}-compressed; koffer reads zstd, xz and gzip`,
    );
  entries.push(...main.finish());
  return { parts, entries };
}

/** The first path in `names` matching `pattern`, or null. */
function find(names: readonly string[], pattern: RegExp): string | null {
  return names.find((n) => pattern.test(n)) ?? null;
}

/** Which initrd generator built this listing. */
export function initrdGenerator(names: readonly string[]): InitrdGenerator {
  const set = new Set(names);
  if (names.some((n) => n.startsWith("usr/lib/dracut/") || n === "usr/lib/dracut")) return "dracut";
  if (set.has("scripts/local-top/cryptroot") || set.has("cryptroot/crypttab"))
    return "initramfs-tools+cryptsetup";
  if (set.has("conf/initramfs.conf") || set.has("scripts/functions")) return "initramfs-tools";
  return "unknown";
}

/** What the initrd can do with a systemd-tpm2 token (paths inside the initrd, or null). */
export function initrdCapabilitiesOf(entries: readonly CpioEntry[]): InitrdCapabilities {
  const names = entries.map((e) => e.name);
  return {
    systemdCryptsetup: find(
      names,
      /(^|\/)lib\/systemd\/systemd-cryptsetup$|(^|\/)bin\/systemd-cryptsetup$/,
    ),
    tpm2TokenPlugin: find(names, /(^|\/)cryptsetup\/libcryptsetup-token-systemd-tpm2\.so$/),
    tss2Esys: find(names, /(^|\/)libtss2-esys\.so\.\d+(\.[\d.]+)?$/),
    tss2TctiDevice: find(names, /(^|\/)libtss2-tcti-device\.so\.\d+(\.[\d.]+)?$/),
  };
}

function crypttabOf(entries: readonly CpioEntry[]): InitrdFacts["crypttab"] {
  for (const path of ["etc/crypttab", "cryptroot/crypttab"]) {
    const entry = entries.find((e) => e.name === path && (e.mode & 0o170000) !== S_IFLNK);
    if (entry?.data !== undefined)
      return {
        path: `/${path}`,
        entries: parseCrypttab(entry.data.toString("utf8"), `/${path}`).map((c) => ({
          name: c.name,
          options: c.options,
        })),
      };
  }
  return null;
}

/** Kernel version of /boot/initrd.img-<kver>. */
function kverOf(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1).replace(/^initrd\.img-/, "");
}

/**
 * Inspect one initrd of the target (`/boot/initrd.img-6.1.0-28-amd64`). Never throws for a
 * bad or hostile file: the result carries `error` instead. Exposed for the other parts of
 * provisioning (the laptop VM checks the initrd it boots with it).
 */
export async function initrdCapabilities(
  target: Target,
  path: string,
  limits: InitrdLimits = {},
): Promise<InitrdFacts> {
  const lim = { ...defaults, ...limits };
  const base: InitrdFacts = {
    path,
    kver: kverOf(path),
    default: false,
    generator: "unknown",
    parts: [],
    entries: 0,
    capabilities: {
      systemdCryptsetup: null,
      tpm2TokenPlugin: null,
      tss2Esys: null,
      tss2TctiDevice: null,
    },
    crypttab: null,
    source: path,
  };
  let data: Buffer | null;
  try {
    data = await target.readFile(path, { maxBytes: lim.maxFileBytes });
  } catch (error) {
    return { ...base, error: (error as Error).message };
  }
  if (data === null) return { ...base, error: "not found" };
  try {
    const listing = await listInitrd(data, lim);
    const names = listing.entries.map((e) => e.name);
    return {
      ...base,
      generator: initrdGenerator(names),
      parts: listing.parts,
      entries: listing.entries.length,
      capabilities: initrdCapabilitiesOf(listing.entries),
      crypttab: crypttabOf(listing.entries),
    };
  } catch (error) {
    if (error instanceof InitrdFormatError) return { ...base, error: error.message };
    throw error;
  }
}

/** Compare kernel versions ("6.1.0-28-amd64" < "6.1.0-30-amd64" < "6.12.9-amd64") numerically. */
export function compareKernelVersions(a: string, b: string): number {
  const split = (v: string) => v.split(/[.-]/).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  const pa = split(a);
  const pb = split(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x === y) continue;
    if (typeof x === "number" && typeof y === "number") return x - y;
    return String(x) < String(y) ? -1 : 1;
  }
  return 0;
}

/**
 * The kernel the boot loader starts by default: where Debian's kernel symlinks
 * (/initrd.img, /boot/initrd.img, linux-base's do_symlinks) point, else the newest kernel
 * (GRUB's default entry on Debian is the newest version).
 */
async function defaultKver(target: Target, kvers: string[]): Promise<string | null> {
  for (const link of ["/initrd.img", "/boot/initrd.img", "/vmlinuz", "/boot/vmlinuz"]) {
    const to = await target.readLink?.(link);
    if (to === null || to === undefined) continue;
    const name = to.slice(to.lastIndexOf("/") + 1).replace(/^(initrd\.img|vmlinuz)-/, "");
    if (kvers.includes(name)) return name;
  }
  return [...kvers].sort(compareKernelVersions).at(-1) ?? null;
}

/**
 * Every initrd in /boot (`initrd.img-<kver>`), inspected, with the default kernel's marked.
 * The read of each goes through the target's own caps and the run's read budget.
 */
export async function gatherInitrds(
  target: Target,
  limits: InitrdLimits = {},
): Promise<InitrdFacts[]> {
  const names = ((await target.readDir("/boot")) ?? []).filter((n) =>
    /^initrd\.img-[^/]+$/.test(n),
  );
  const kvers = names.map((n) => n.slice("initrd.img-".length));
  const byDefault = await defaultKver(target, kvers);
  const out: InitrdFacts[] = [];
  for (const kver of [...kvers].sort(compareKernelVersions)) {
    const path = `/boot/initrd.img-${kver}`;
    if ((await target.stat(path))?.type !== "file") continue;
    const facts = await initrdCapabilities(target, path, limits);
    facts.default = kver === byDefault;
    out.push(facts);
  }
  return out;
}
