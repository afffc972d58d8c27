/**
 * A small SFTP version 3 client (draft-ietf-secsh-filexfer-02, the version OpenSSH's
 * sftp-server speaks) over any pair of streams: the stdin/stdout of `ssh -s … sftp`, or of
 * `ssh … sudo -n /usr/lib/openssh/sftp-server` when the login is not root. Requests are
 * pipelined by id, so the gatherers' parallel reads share one channel and one round trip.
 *
 * Only what the ssh target needs: stat, lstat, readlink, readdir, read a regular file, and
 * the atomic write (create exclusive, write, fsetstat, fsync@openssh.com,
 * posix-rename@openssh.com, fsync of the directory).
 */
import type { Readable, Writable } from "node:stream";

const FXP = {
  INIT: 1,
  VERSION: 2,
  OPEN: 3,
  CLOSE: 4,
  READ: 5,
  WRITE: 6,
  LSTAT: 7,
  FSTAT: 8,
  FSETSTAT: 10,
  OPENDIR: 11,
  READDIR: 12,
  REMOVE: 13,
  MKDIR: 14,
  RMDIR: 15,
  STAT: 17,
  READLINK: 19,
  STATUS: 101,
  HANDLE: 102,
  DATA: 103,
  NAME: 104,
  ATTRS: 105,
  EXTENDED: 200,
  EXTENDED_REPLY: 201,
} as const;

export const openFlags = {
  read: 0x01,
  write: 0x02,
  append: 0x04,
  create: 0x08,
  truncate: 0x10,
  exclusive: 0x20,
} as const;

const ATTR = { SIZE: 0x1, UIDGID: 0x2, PERMISSIONS: 0x4, ACMODTIME: 0x8, EXTENDED: 0x80000000 };

/** SSH_FX_* status codes. */
export const status = {
  ok: 0,
  eof: 1,
  noSuchFile: 2,
  permissionDenied: 3,
  failure: 4,
  badMessage: 5,
  opUnsupported: 8,
} as const;

export interface SftpAttrs {
  size?: number;
  uid?: number;
  gid?: number;
  /** Full st_mode, file type bits included. */
  mode?: number;
  mtime?: number;
}

/** An SFTP status other than OK, with the path it concerned. */
export class SftpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly path?: string,
  ) {
    super(path === undefined ? message : `${path}: ${message}`);
    this.name = "SftpError";
  }
}

interface Reply {
  type: number;
  body: Reader;
}

/** A cursor over an SFTP payload. */
class Reader {
  private offset = 0;
  constructor(private readonly buffer: Buffer) {}
  u32(): number {
    const v = this.buffer.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }
  u64(): number {
    const v = this.buffer.readBigUInt64BE(this.offset);
    this.offset += 8;
    return Number(v);
  }
  bytes(): Buffer {
    const length = this.u32();
    const v = this.buffer.subarray(this.offset, this.offset + length);
    this.offset += length;
    return v;
  }
  string(): string {
    return this.bytes().toString("utf8");
  }
  attrs(): SftpAttrs {
    const flags = this.u32();
    const a: SftpAttrs = {};
    if (flags & ATTR.SIZE) a.size = this.u64();
    if (flags & ATTR.UIDGID) {
      a.uid = this.u32();
      a.gid = this.u32();
    }
    if (flags & ATTR.PERMISSIONS) a.mode = this.u32();
    if (flags & ATTR.ACMODTIME) {
      this.u32();
      a.mtime = this.u32();
    }
    if (flags & ATTR.EXTENDED) {
      for (let n = this.u32(); n > 0; n--) {
        this.bytes();
        this.bytes();
      }
    }
    return a;
  }
}

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
}
function u64(v: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(v));
  return b;
}
function str(v: string | Buffer): Buffer {
  const b = typeof v === "string" ? Buffer.from(v, "utf8") : v;
  return Buffer.concat([u32(b.length), b]);
}
function attrsOf(a: { mode?: number; uid?: number; gid?: number }): Buffer {
  let flags = 0;
  const parts: Buffer[] = [];
  if (a.uid !== undefined || a.gid !== undefined) {
    flags |= ATTR.UIDGID;
    // -1 as unsigned means "unchanged" to chown(2), which sftp-server calls.
    parts.push(u32(a.uid ?? 0xffffffff), u32(a.gid ?? 0xffffffff));
  }
  if (a.mode !== undefined) {
    flags |= ATTR.PERMISSIONS;
    parts.push(u32(a.mode));
  }
  return Buffer.concat([u32(flags), ...parts]);
}

/** Largest READ OpenSSH's sftp-server answers in full (its limits@openssh.com read-length). */
const readChunk = 255 * 1024;
/** WRITE payload per request: well below the server's 256 KiB packet limit. */
const writeChunk = 64 * 1024;

export class SftpClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(r: Reply): void; reject(e: Error): void }>();
  private inbox: Buffer = Buffer.alloc(0);
  private outbox: Buffer[] = [];
  private closedWith: Error | null = null;
  private versionWaiter: ((r: Reply) => void) | null = null;
  extensions = new Map<string, string>();

  private constructor(
    private readonly out: Writable,
    input: Readable,
  ) {
    input.on("data", (chunk: Buffer) => this.receive(chunk));
    input.on("end", () => this.fail(new SftpError(7, "the SFTP channel was closed")));
    input.on("error", (e: Error) => this.fail(e));
    out.on("error", (e: Error) => this.fail(e));
  }

  /** Start a session: INIT, wait for VERSION (3). `closed` rejects early if the channel dies first. */
  static async start(out: Writable, input: Readable, closed: Promise<Error>): Promise<SftpClient> {
    const client = new SftpClient(out, input);
    const version = new Promise<Reply>((resolve) => (client.versionWaiter = resolve));
    out.write(Buffer.concat([u32(5), Buffer.from([FXP.INIT]), u32(3)]));
    const reply = await Promise.race([
      version,
      closed.then((e) => {
        throw e;
      }),
    ]);
    const v = reply.body.u32();
    if (v !== 3) throw new SftpError(status.badMessage, `SFTP version ${v}, expected 3`);
    try {
      for (;;) client.extensions.set(reply.body.string(), reply.body.string());
    } catch {
      // end of the extension list
    }
    return client;
  }

  /** Fail every pending and future request (the channel died). */
  fail(error: Error): void {
    if (this.closedWith !== null) return;
    this.closedWith = error;
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }

  private receive(chunk: Buffer): void {
    this.inbox = this.inbox.length === 0 ? chunk : Buffer.concat([this.inbox, chunk]);
    while (this.inbox.length >= 4) {
      const length = this.inbox.readUInt32BE(0);
      if (this.inbox.length < 4 + length) break;
      const packet = this.inbox.subarray(4, 4 + length);
      this.inbox = this.inbox.subarray(4 + length);
      const type = packet[0] as number;
      if (type === FXP.VERSION) {
        this.versionWaiter?.({ type, body: new Reader(packet.subarray(1)) });
        this.versionWaiter = null;
        continue;
      }
      const id = packet.readUInt32BE(1);
      const waiter = this.pending.get(id);
      if (waiter === undefined) continue;
      this.pending.delete(id);
      waiter.resolve({ type, body: new Reader(packet.subarray(5)) });
    }
  }

  private request(type: number, ...parts: Buffer[]): Promise<Reply> {
    if (this.closedWith !== null) return Promise.reject(this.closedWith);
    const id = this.nextId++;
    const payload = Buffer.concat([Buffer.from([type]), u32(id), ...parts]);
    return new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.send(Buffer.concat([u32(payload.length), payload]));
    });
  }

  /**
   * Requests made in the same turn of the event loop (the gatherers' parallel reads) leave in
   * one write: one wake-up of ssh and one SSH packet instead of one per request.
   */
  private send(packet: Buffer): void {
    this.outbox.push(packet);
    if (this.outbox.length > 1) return;
    setImmediate(() => {
      const packets = this.outbox;
      this.outbox = [];
      this.out.write(packets.length === 1 ? (packets[0] as Buffer) : Buffer.concat(packets));
    });
  }

  /** Expect a STATUS OK (or throw the status as an SftpError). */
  private async ok(reply: Promise<Reply>, path?: string): Promise<void> {
    const r = await reply;
    if (r.type !== FXP.STATUS) throw new SftpError(status.badMessage, `unexpected reply ${r.type}`);
    const code = r.body.u32();
    if (code !== status.ok) throw new SftpError(code, r.body.string(), path);
  }

  private async expect(reply: Promise<Reply>, type: number, path?: string): Promise<Reader> {
    const r = await reply;
    if (r.type === FXP.STATUS) {
      const code = r.body.u32();
      throw new SftpError(code, r.body.string(), path);
    }
    if (r.type !== type) throw new SftpError(status.badMessage, `unexpected reply ${r.type}`);
    return r.body;
  }

  async stat(path: string, follow = true): Promise<SftpAttrs> {
    const body = await this.expect(
      this.request(follow ? FXP.STAT : FXP.LSTAT, str(path)),
      FXP.ATTRS,
      path,
    );
    return body.attrs();
  }

  async fstat(handle: Buffer): Promise<SftpAttrs> {
    return (await this.expect(this.request(FXP.FSTAT, str(handle)), FXP.ATTRS)).attrs();
  }

  async readlink(path: string): Promise<string> {
    const body = await this.expect(this.request(FXP.READLINK, str(path)), FXP.NAME, path);
    body.u32();
    return body.string();
  }

  async open(
    path: string,
    flags: number,
    attrs: { mode?: number; uid?: number; gid?: number } = {},
  ): Promise<Buffer> {
    const body = await this.expect(
      this.request(FXP.OPEN, str(path), u32(flags), attrsOf(attrs)),
      FXP.HANDLE,
      path,
    );
    return Buffer.from(body.bytes());
  }

  close(handle: Buffer): Promise<void> {
    return this.ok(this.request(FXP.CLOSE, str(handle)));
  }

  /** Read from `offset`; null at end of file. */
  async read(handle: Buffer, offset: number, length = readChunk): Promise<Buffer | null> {
    const r = await this.request(FXP.READ, str(handle), u64(offset), u32(length));
    if (r.type === FXP.STATUS) {
      const code = r.body.u32();
      if (code === status.eof) return null;
      throw new SftpError(code, r.body.string());
    }
    if (r.type !== FXP.DATA) throw new SftpError(status.badMessage, `unexpected reply ${r.type}`);
    return Buffer.from(r.body.bytes());
  }

  /**
   * Read a whole open file until EOF, or stop once more than `maxBytes` came. `sizeHint`
   * (the size stat reported) lets every READ it promises go out at once, together with one
   * at exactly `sizeHint` that should find EOF: one round trip for a file instead of one per
   * chunk, which is what counts on a slow link. procfs says 0, and a file may have grown or
   * shrunk: whatever the hint missed is read chunk by chunk from where the data stopped.
   */
  async readAll(handle: Buffer, sizeHint = 0, maxBytes = Number.MAX_SAFE_INTEGER): Promise<Buffer> {
    const parts: Buffer[] = [];
    let offset = 0;
    const take = (data: Buffer) => {
      parts.push(data);
      offset += data.length;
    };
    if (sizeHint > 0) {
      const size = Math.min(sizeHint, maxBytes + 1);
      const count = Math.min(Math.ceil(size / readChunk), 64);
      const ranges = Array.from({ length: count }, (_, i) => ({
        at: i * readChunk,
        length: Math.min(readChunk, size - i * readChunk),
      }));
      const [replies, probe] = await Promise.all([
        Promise.all(ranges.map((r) => this.read(handle, r.at, r.length))),
        // Only when every byte up to the hint is asked for does EOF there end the file.
        count * readChunk >= size ? this.read(handle, size, 1) : Promise.resolve(undefined),
      ]);
      let complete = true;
      for (const [i, data] of replies.entries()) {
        if (data === null) return Buffer.concat(parts);
        take(data);
        // A short read need not be the end: go on one by one from where it stopped.
        if (data.length !== (ranges[i] as { length: number }).length) {
          complete = false;
          break;
        }
      }
      if (complete && probe === null && offset === sizeHint) return Buffer.concat(parts);
    }
    while (offset <= maxBytes) {
      const data = await this.read(handle, offset);
      if (data === null) break;
      take(data);
    }
    return Buffer.concat(parts);
  }

  /** Write all of `data`, pipelined. */
  async write(handle: Buffer, data: Buffer, offset = 0): Promise<void> {
    const writes: Promise<void>[] = [];
    for (let at = 0; at < data.length; at += writeChunk) {
      writes.push(
        this.ok(
          this.request(
            FXP.WRITE,
            str(handle),
            u64(offset + at),
            str(data.subarray(at, at + writeChunk)),
          ),
        ),
      );
    }
    await Promise.all(writes);
  }

  fsetstat(handle: Buffer, attrs: { mode?: number; uid?: number; gid?: number }): Promise<void> {
    return this.ok(this.request(FXP.FSETSTAT, str(handle), attrsOf(attrs)));
  }

  /**
   * The names in a directory. Two READDIRs go out together: a directory whose names fit in
   * one reply (nearly all) is listed in one round trip after OPENDIR, the second answering
   * EOF; the handle is closed without waiting (the server answers in order).
   */
  async readdir(path: string): Promise<string[]> {
    const handle = Buffer.from(
      (await this.expect(this.request(FXP.OPENDIR, str(path)), FXP.HANDLE, path)).bytes(),
    );
    const names: string[] = [];
    const next = () => {
      const reply = this.request(FXP.READDIR, str(handle));
      reply.catch(() => undefined); // the one sent ahead may be left unawaited
      return reply;
    };
    try {
      let ahead = next();
      for (;;) {
        const current = ahead;
        ahead = next();
        const r = await current;
        if (r.type === FXP.STATUS) {
          const code = r.body.u32();
          if (code === status.eof) break;
          throw new SftpError(code, r.body.string(), path);
        }
        for (let n = r.body.u32(); n > 0; n--) {
          names.push(r.body.string());
          r.body.string(); // longname
          r.body.attrs();
        }
      }
    } finally {
      void this.close(handle).catch(() => undefined);
    }
    return names.filter((n) => n !== "." && n !== "..");
  }

  remove(path: string): Promise<void> {
    return this.ok(this.request(FXP.REMOVE, str(path)), path);
  }

  rmdir(path: string): Promise<void> {
    return this.ok(this.request(FXP.RMDIR, str(path)), path);
  }

  mkdir(path: string, mode: number): Promise<void> {
    return this.ok(this.request(FXP.MKDIR, str(path), attrsOf({ mode })), path);
  }

  private extended(name: string, ...parts: Buffer[]): Promise<Reply> {
    if (!this.extensions.has(name)) {
      return Promise.reject(
        new SftpError(status.opUnsupported, `the SFTP server lacks the ${name} extension`),
      );
    }
    return this.request(FXP.EXTENDED, str(name), ...parts);
  }

  /** rename(2): replaces `to` atomically (plain SFTP RENAME refuses an existing target). */
  posixRename(from: string, to: string): Promise<void> {
    return this.ok(this.extended("posix-rename@openssh.com", str(from), str(to)), to);
  }

  fsync(handle: Buffer): Promise<void> {
    return this.ok(this.extended("fsync@openssh.com", str(handle)));
  }
}
