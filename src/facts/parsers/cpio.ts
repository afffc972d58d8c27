/**
 * A streaming lister for the cpio archives an initrd is made of (the "newc" format, magic
 * 070701, and its checksummed variant 070702 — the only formats Linux unpacks, see
 * Documentation/driver-api/early-userspace/buffer-format.rst). Pure: bytes in, names out.
 *
 * It never extracts anything and never trusts a size: names are capped, entries are
 * counted against a limit, file data is skipped (or captured up to a small cap for the few
 * files asked for), and what does not parse is an {@link InitrdFormatError}, never a crash.
 * Names are normalised the way the kernel's unpacker lands them in rootfs: relative to `/`,
 * `..` stops at the root (so `../../etc/crypttab` is `etc/crypttab`).
 */

/** Why an initrd could not be listed. */
export type InitrdFormatProblem = "malformed" | "truncated" | "budget" | "unsupported" | "tool";

export class InitrdFormatError extends Error {
  constructor(
    readonly problem: InitrdFormatProblem,
    message: string,
  ) {
    super(message);
    this.name = "InitrdFormatError";
  }
}

export interface CpioEntry {
  /** Normalised path inside the initrd, without a leading slash ("usr/lib/systemd/…"). */
  name: string;
  /** File type bits (S_IFMT) and permissions, as in stat(2). */
  mode: number;
  size: number;
  /** Link target (symbolic links) or content (captured files), up to the capture cap. */
  data?: Buffer;
}

export interface CpioLimits {
  /** Most entries over all archives (default 1,000,000). */
  maxEntries?: number;
  /** Longest name including its NUL (default 4096, PATH_MAX). */
  maxNameBytes?: number;
  /** Capture the content of regular files with these names (normalised), up to `maxCapture`. */
  capture?: (name: string) => boolean;
  /** Largest content captured per file (default 64 KiB); larger files are listed, not captured. */
  maxCapture?: number;
}

const headerBytes = 110;
const S_IFMT = 0o170000;
export const S_IFLNK = 0o120000;
export const S_IFREG = 0o100000;

/** The kernel's view of a cpio name: below `/`, `.` and `..` resolved, `..` clamped at the root. */
export function normaliseCpioName(raw: string): string {
  const parts: string[] = [];
  for (const part of raw.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return parts.join("/") || ".";
}

type State = "between" | "header" | "name" | "pad" | "data";

/**
 * Feed chunks with {@link push}; {@link finish} checks the stream ended on an archive
 * boundary. Several archives may follow each other, separated by NUL padding, as in an
 * initrd (early microcode archive, then the main one).
 */
export class CpioLister {
  readonly entries: CpioEntry[] = [];
  /** Archives completed (TRAILER!!! seen). */
  archives = 0;
  /** Bytes consumed so far (offset into the stream). */
  offset = 0;
  private state: State = "between";
  private buf: Buffer[] = [];
  private bufLen = 0;
  private need = 0;
  /** Where a "pad" state goes once the padding is consumed. */
  private afterPad: State = "header";
  private current: { name: string; mode: number; size: number; keep: boolean } | null = null;
  private kept: Buffer[] = [];
  private readonly maxEntries: number;
  private readonly maxNameBytes: number;
  private readonly maxCapture: number;

  constructor(private readonly limits: CpioLimits = {}) {
    this.maxEntries = limits.maxEntries ?? 1_000_000;
    this.maxNameBytes = limits.maxNameBytes ?? 4096;
    this.maxCapture = limits.maxCapture ?? 64 * 1024;
  }

  /** Between archives: the next byte may start another archive (or foreign data). */
  get atBoundary(): boolean {
    return this.state === "between";
  }

  /**
   * Consume `chunk`. With `stopAtForeign`, data between archives that is no cpio header
   * (a compressed archive) ends the listing and its index in `chunk` is returned; without,
   * it is an error. Returns -1 when the whole chunk was consumed.
   */
  push(chunk: Buffer, stopAtForeign = false): number {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === "between") {
        const byte = chunk[i] as number;
        if (byte === 0) {
          i++;
          this.offset++;
          continue;
        }
        if (byte === 0x30 /* '0' */ && this.offset % 4 === 0) {
          this.state = "header";
          this.need = headerBytes;
          continue;
        }
        if (stopAtForeign) return i;
        throw new InitrdFormatError(
          "malformed",
          `no cpio header at offset ${this.offset} (byte 0x${byte.toString(16).padStart(2, "0")})`,
        );
      }
      const take = Math.min(this.need, chunk.length - i);
      const piece = chunk.subarray(i, i + take);
      i += take;
      this.offset += take;
      this.need -= take;
      if (this.state === "data") {
        if (this.current?.keep) this.kept.push(Buffer.from(piece));
      } else if (this.state === "header" || this.state === "name") {
        this.buf.push(Buffer.from(piece));
        this.bufLen += take;
      }
      if (this.need === 0) this.advance();
    }
    return -1;
  }

  private takeBuf(): Buffer {
    const out = Buffer.concat(this.buf, this.bufLen);
    this.buf = [];
    this.bufLen = 0;
    return out;
  }

  private advance(): void {
    switch (this.state) {
      case "header": {
        const header = this.takeBuf();
        const magic = header.toString("latin1", 0, 6);
        if (magic !== "070701" && magic !== "070702")
          throw new InitrdFormatError(
            magic.startsWith("0707") ? "unsupported" : "malformed",
            `cpio header at offset ${this.offset - headerBytes} has magic ${JSON.stringify(magic)}, expected 070701 (newc)`,
          );
        const field = (n: number): number => {
          const text = header.toString("latin1", 6 + n * 8, 14 + n * 8);
          if (!/^[0-9a-fA-F]{8}$/.test(text))
            throw new InitrdFormatError(
              "malformed",
              `cpio header at offset ${this.offset - headerBytes}: field ${n} is not hexadecimal`,
            );
          return Number.parseInt(text, 16);
        };
        for (let n = 0; n < 13; n++) field(n);
        const mode = field(1);
        const size = field(6);
        const nameSize = field(11);
        if (nameSize < 1 || nameSize > this.maxNameBytes)
          throw new InitrdFormatError(
            "malformed",
            `cpio entry at offset ${this.offset - headerBytes}: name of ${nameSize} bytes (limit ${this.maxNameBytes})`,
          );
        this.current = { name: "", mode, size, keep: false };
        this.state = "name";
        this.need = nameSize;
        return;
      }
      case "name": {
        const raw = this.takeBuf();
        const current = this.current as NonNullable<typeof this.current>;
        const end = raw.indexOf(0);
        const rawName = raw.toString("utf8", 0, end === -1 ? raw.length : end);
        if (rawName === "TRAILER!!!") {
          this.archives++;
          this.current = null;
          this.padTo("between");
          return;
        }
        if (this.entries.length >= this.maxEntries)
          throw new InitrdFormatError(
            "budget",
            `more than ${this.maxEntries} entries in the initrd`,
          );
        current.name = normaliseCpioName(rawName);
        const type = current.mode & S_IFMT;
        current.keep =
          current.size <= this.maxCapture &&
          (type === S_IFLNK ||
            (type === S_IFREG && (this.limits.capture?.(current.name) ?? false)));
        this.padTo("data");
        return;
      }
      case "data": {
        const current = this.current as NonNullable<typeof this.current>;
        const entry: CpioEntry = { name: current.name, mode: current.mode, size: current.size };
        if (current.keep) entry.data = Buffer.concat(this.kept);
        this.kept = [];
        this.entries.push(entry);
        this.current = null;
        this.padTo("header");
        return;
      }
      case "pad":
        this.enter(this.afterPad);
        return;
      default:
        return;
    }
  }

  /** Skip to the next 4-byte boundary, then continue in `next`. */
  private padTo(next: State): void {
    const bytes = pad(this.offset);
    if (bytes === 0) return this.enter(next);
    this.state = "pad";
    this.afterPad = next;
    this.need = bytes;
  }

  private enter(next: State): void {
    this.state = next;
    if (next === "header") this.need = headerBytes;
    else if (next === "data") {
      this.need = (this.current as NonNullable<typeof this.current>).size;
      if (this.need === 0) this.advance();
    } else this.need = 0;
  }

  /** The stream ended: it must end between archives, after at least one archive. */
  finish(): CpioEntry[] {
    if (this.state !== "between")
      throw new InitrdFormatError(
        "truncated",
        `the cpio archive ends in the middle of ${this.current ? `entry ${this.current.name || "(name)"}` : "a header"} at offset ${this.offset}`,
      );
    if (this.archives === 0)
      throw new InitrdFormatError("truncated", "no complete cpio archive (no TRAILER!!!)");
    return this.entries;
  }
}

function pad(offset: number): number {
  return (4 - (offset % 4)) % 4;
}
