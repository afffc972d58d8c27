/**
 * File reads of the ssh target in ONE round trip each, many at a time, and no process per
 * read: a long-lived GNU `tar` on the laptop (Debian's, essential) on a channel of the shared
 * connection reads the names it is sent on its stdin (`-T -`, NUL-separated) and streams each
 * file back as an archive entry. Over SFTP a read is three round trips in a row (stat, open,
 * read) and a batch command starts a dozen processes, which on a busy laptop costs more than
 * the reads themselves.
 *
 * - `tar -h --hard-dereference --no-recursion`: a name is followed as stat(2) follows it (the
 *   laptop's own root is the target's root); a directory is a header without content, and a
 *   FIFO, device or socket is never opened (tar archives their header only, or skips a
 *   socket). Only a regular-file entry is ever used as a file's bytes.
 * - After each name the directory `/` is sent as a separator: its header (always a directory,
 *   never content) ends that name's entries, so a name tar answered with nothing (absent,
 *   a socket) is told apart. tar writes a 512-byte block only once it starts the next one,
 *   so every wave of names ends with one more `/`.
 * - The caps are enforced on the controller, from the entry's header, before its content is
 *   taken: a file over the per-file cap is refused and the channel is ended at once (tar
 *   would go on sending it); the run's budget is charged by the caller.
 * - procfs and sysfs say size 0 or 4096 whatever the content (tar reads st_size bytes): names
 *   below /proc and /sys, and any entry of size 0, are answered "not read here" and the
 *   caller reads them over SFTP to EOF. So is every name when the channel is gone.
 */
import type { SpawnedProcess } from "./exec.js";

/** What tar said about one name; `undefined` from {@link TarReader.read}: read it otherwise. */
export type TarAnswer =
  | { kind: "file"; bytes: Buffer }
  | { kind: "directory" }
  /** A FIFO, character or block device: never opened. */
  | { kind: "special"; what: string }
  /** Larger than the cap: refused (its content was not taken). */
  | { kind: "too-large"; size: number };

/** The laptop's command: tar as a streaming reader of the names on its stdin. */
export const tarReaderArgv = [
  "tar",
  "-c",
  "-f",
  "-",
  "-b",
  "1",
  "-P",
  "--format=gnu",
  "--numeric-owner",
  "--null",
  "--no-recursion",
  "--dereference",
  "--hard-dereference",
  "-T",
  "-",
];

/** Names tar reads here: absolute, no `.`/`..`/empty component, not procfs or sysfs. */
function readableHere(path: string): boolean {
  return (
    /^(\/[^/\0\n]+)+$/.test(path) &&
    !/\/\.\.?(\/|$)/.test(path) &&
    !/^\/(proc|sys)(\/|$)/.test(path)
  );
}

const specialKinds: Record<string, string> = {
  "3": "a character device",
  "4": "a block device",
  "6": "a FIFO",
};

interface Sent {
  /** null: a wave's closing separator. */
  path: string | null;
  maxBytes: number;
  resolve(answer: TarAnswer | undefined): void;
  entries: TarAnswer[];
}

/**
 * The reader. `start` opens the channel (ssh … [sudo -n --] tar …) when first needed; once
 * it has failed or was ended, every read answers `undefined` (the caller reads over SFTP).
 */
export class TarReader {
  private child: SpawnedProcess | null = null;
  private starting: Promise<SpawnedProcess | null> | null = null;
  private dead = false;
  private inbox: Buffer = Buffer.alloc(0);
  /** Chunks of an entry still coming, joined once `need` bytes are there (not per chunk). */
  private chunks: Buffer[] = [];
  /** Bytes in `inbox` and `chunks` together. */
  private chunkBytes = 0;
  private need = 0;
  private readonly sent: Sent[] = [];
  private outbox: Buffer[] = [];
  /** A GNU long name ('L' entry): the name of the entry that follows it. */
  private longName: string | null = null;
  /** Waves of names sent (a test counts round trips with it). */
  waves = 0;

  constructor(private readonly start: () => Promise<SpawnedProcess>) {}

  read(path: string, maxBytes: number): Promise<TarAnswer | undefined> {
    if (this.dead || !readableHere(path)) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.sent.push({ path, maxBytes, resolve, entries: [] });
      this.outbox.push(Buffer.from(`${path}\0/\0`, "utf8"));
      if (this.outbox.length === 1) setImmediate(() => void this.flush());
    });
  }

  /** Open the channel now (it takes a sudo and a process start on the laptop). */
  warm(): void {
    void this.channel();
  }

  private async flush(): Promise<void> {
    const child = await this.channel();
    const names = this.outbox;
    this.outbox = [];
    if (child === null || this.dead) return this.end();
    this.sent.push({ path: null, maxBytes: 0, resolve: () => undefined, entries: [] });
    this.waves++;
    child.stdin.write(Buffer.concat([...names, Buffer.from("/\0")]));
  }

  private channel(): Promise<SpawnedProcess | null> {
    this.starting ??= this.start().then(
      (child) => {
        this.child = child;
        if (this.dead) {
          // Closed while the channel was starting.
          child.stdin.end();
          child.kill();
          return null;
        }
        child.stdin.on("error", () => this.end());
        child.stdout.on("data", (chunk: Buffer) => this.receive(chunk));
        void child.exited.then(
          () => this.end(),
          () => this.end(),
        );
        return child;
      },
      () => {
        this.end();
        return null;
      },
    );
    return this.starting;
  }

  private receive(chunk: Buffer): void {
    if (this.dead) return;
    this.chunks.push(chunk);
    this.chunkBytes += chunk.length;
    if (this.chunkBytes < this.need) return;
    this.inbox = Buffer.concat([this.inbox, ...this.chunks]);
    this.chunks = [];
    this.chunkBytes = this.inbox.length;
    this.need = 0;
    while (this.inbox.length >= 512 && !this.dead) {
      const head = this.sent[0];
      if (head === undefined) return this.end(); // output nobody asked for
      const header = this.inbox.subarray(0, 512);
      const size = tarNumber(header.subarray(124, 136));
      const type = String.fromCharCode(header[156] as number);
      if (size === null || !/^ustar {2}\0$/.test(header.subarray(257, 265).toString("latin1")))
        return this.end();
      const name = this.longName ?? cString(header.subarray(0, 100));
      if (type === "5" && name === "/" && this.longName === null) {
        // A separator: the entries since the last one answer the name before it.
        this.inbox = this.inbox.subarray(512);
        this.chunkBytes = this.inbox.length;
        this.sent.shift();
        if (head.path !== null) head.resolve(answerOf(head.entries));
        continue;
      }
      // tar names a directory with a trailing slash.
      if (head.path === null || (type !== "L" && name !== head.path && name !== `${head.path}/`))
        return this.end();
      if (type === "0" || type === "\0") {
        if (size > head.maxBytes) {
          // Refused before its content is taken; tar would go on sending it: end the channel.
          this.sent.shift();
          head.resolve({ kind: "too-large", size });
          return this.end();
        }
      } else if (size > 64 * 1024) return this.end(); // a long name, never megabytes
      const total = 512 + Math.ceil(size / 512) * 512;
      if (this.inbox.length < total) {
        this.need = total;
        return;
      }
      const data = this.inbox.subarray(512, 512 + size);
      this.inbox = this.inbox.subarray(total);
      this.chunkBytes = this.inbox.length;
      if (type === "L") {
        this.longName = cString(data);
        continue;
      }
      this.longName = null;
      if (type === "0" || type === "\0")
        head.entries.push({ kind: "file", bytes: Buffer.from(data) });
      else if (type === "5") head.entries.push({ kind: "directory" });
      else head.entries.push({ kind: "special", what: specialKinds[type] ?? "not a regular file" });
    }
  }

  /** No more reads here: what waits is read otherwise; the channel ends. */
  end(): void {
    if (this.dead) return;
    this.dead = true;
    for (const s of this.sent.splice(0)) s.resolve(undefined);
    this.outbox = [];
    this.child?.stdin.end();
    this.child?.kill();
  }

  /** Close the channel (the end of the run). */
  async close(): Promise<void> {
    this.end();
    await this.starting;
    await this.child?.exited.catch(() => -1);
  }
}

/** Exactly one entry answers a name; none (absent, a socket) or an empty file: not here. */
function answerOf(entries: TarAnswer[]): TarAnswer | undefined {
  if (entries.length !== 1) return undefined;
  const only = entries[0] as TarAnswer;
  return only.kind === "file" && only.bytes.length === 0 ? undefined : only;
}

function cString(field: Buffer): string {
  const nul = field.indexOf(0);
  return field.subarray(0, nul < 0 ? field.length : nul).toString("utf8");
}

/** A tar number field (octal, NUL or space terminated); null for base-256 or garbage. */
function tarNumber(field: Buffer): number | null {
  const text = cString(field).trim();
  return /^[0-7]+$/.test(text) ? parseInt(text, 8) : null;
}
