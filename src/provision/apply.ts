/**
 * The apply engine: executes planned changes through a Target, one at a time, so that a
 * provision killed at any moment leaves every managed file either old or new — never
 * half-written — and the next run converges.
 *
 * Order of every file change: back up the old bytes (copy + manifest, fsynced) → write the
 * new file atomically (temp, fsync, rename) → journal "done". A crash between any two steps
 * is harmless: the manifest already knows the old bytes, and planning again yields what is
 * still missing.
 */
import { createHash } from "node:crypto";
import { constants } from "node:fs";
import { open } from "node:fs/promises";
import { IncompleteError } from "../errors.js";
import { accountExpired } from "../facts/parsers/passwd.js";
import { runInSandbox } from "../targets/sandbox.js";
import type { Target } from "../targets/types.js";
import { BACKUP_DIR, JOURNAL_DIR, MAX_BACKUP_BYTES, acquireLock, newRunId } from "./state.js";
import type { BackupRecord, Change, JournalEntry, WriteFileChange } from "./types.js";

export type ChangeOutcome = "applied" | "unchanged" | "failed";

export interface ApplyProgress {
  onStart?(change: Change, index: number, total: number): void;
  onDone?(change: Change, outcome: ChangeOutcome, message?: string): void;
}

/** Operations that need more than files and units (LUKS keyslots, TPM, certificates) are provided by their area. */
export type ChangeHandler = (
  change: Change,
  target: Target,
  run: RunContext,
) => Promise<ChangeOutcome>;

export interface ApplyOptions {
  runId?: string;
  now?: Date;
  progress?: ApplyProgress;
  handlers?: Partial<Record<Change["kind"], ChangeHandler>>;
  /** Stop at the first failed change (default) or go on with the rest. */
  keepGoing?: boolean;
}

export interface ApplyReport {
  runId: string;
  applied: number;
  unchanged: number;
  failed: { change: Change; message: string }[];
}

/**
 * What a handler gets: the run id and a way to back up a file before it changes it
 * (`maxBytes` up to MAX_BACKUP_BYTES for a file larger than the default read budget).
 */
export interface RunContext {
  runId: string;
  backup(path: string, limits?: { maxBytes?: number }): Promise<void>;
}

export async function applyChanges(
  target: Target,
  changes: Change[],
  options: ApplyOptions = {},
): Promise<ApplyReport> {
  const runId = options.runId ?? newRunId(options.now);
  const lock = await acquireLock(target, runId);
  try {
    const backups = new BackupStore(target, runId);
    const journal = new Journal(target, runId);
    const context: RunContext = { runId, backup: (path, limits) => backups.save(path, limits) };
    const report: ApplyReport = { runId, applied: 0, unchanged: 0, failed: [] };
    for (const [index, change] of changes.entries()) {
      options.progress?.onStart?.(change, index, changes.length);
      await journal.record("started", change);
      let outcome: ChangeOutcome;
      let message: string | undefined;
      try {
        const handler = options.handlers?.[change.kind] ?? builtinHandlers[change.kind];
        if (handler === undefined) {
          throw new IncompleteError("E_NO_HANDLER", `no way to apply a ${change.kind} change here`);
        }
        outcome = await handler(change, target, context);
      } catch (error) {
        outcome = "failed";
        message = error instanceof Error ? error.message : String(error);
      }
      await journal.record(
        outcome === "failed" ? "failed" : outcome === "applied" ? "done" : "skipped",
        change,
        message,
      );
      options.progress?.onDone?.(change, outcome, message);
      if (outcome === "applied") report.applied++;
      else if (outcome === "unchanged") report.unchanged++;
      else {
        report.failed.push({ change, message: message ?? "failed" });
        if (!options.keepGoing) break;
      }
    }
    return report;
  } finally {
    await lock.release();
  }
}

// ─── backups ─────────────────────────────────────────────────────────────────

export function manifestPath(runId: string): string {
  return `${BACKUP_DIR}/${runId}/manifest.json`;
}

class BackupStore {
  private readonly records = new Map<string, BackupRecord>();
  constructor(
    private readonly target: Target,
    private readonly runId: string,
  ) {}

  /** Keep the bytes, mode and owner of `path` as they were before this run first touched it. */
  async save(path: string, limits: { maxBytes?: number } = {}): Promise<void> {
    if (this.records.has(path)) return;
    const dir = `${BACKUP_DIR}/${this.runId}`;
    await this.target.mkdirp(`${dir}/files`, 0o700);
    const link = await this.target.lstat?.(path);
    const stat = await this.target.stat(path);
    let record: BackupRecord;
    if (link?.type === "symlink" && this.target.readLink !== undefined) {
      // A link stays a link: the bytes it points at are not the link's to restore.
      const to = await this.target.readLink(path);
      record = to === null ? { path, existed: false } : { path, existed: true, symlink: to };
    } else if (stat === null) {
      record = { path, existed: false };
    } else {
      const maxBytes = Math.min(limits.maxBytes ?? 0, MAX_BACKUP_BYTES) || undefined;
      const bytes = (await this.target.readFile(path, { maxBytes })) ?? Buffer.alloc(0);
      const copy = `files/${String(this.records.size).padStart(4, "0")}`;
      // Backups can hold secrets (shadow, keys): root-only, whatever the original mode.
      await this.target.writeFileAtomic(`${dir}/${copy}`, bytes, { mode: 0o600 });
      record = {
        path,
        existed: true,
        mode: stat.mode,
        uid: stat.uid,
        gid: stat.gid,
        sha256: sha256(bytes),
        copy,
        ...(maxBytes === undefined ? {} : { size: bytes.length }),
      };
    }
    this.records.set(path, record);
    await this.target.writeFileAtomic(
      manifestPath(this.runId),
      JSON.stringify({ runId: this.runId, files: [...this.records.values()] }, null, 2) + "\n",
      { mode: 0o600 },
    );
  }
}

// ─── journal ─────────────────────────────────────────────────────────────────

export function journalPath(runId: string): string {
  return `${JOURNAL_DIR}/${runId}.jsonl`;
}

class Journal {
  private seq = 0;
  private hostFile: string | null = null;
  private readonly lines: string[] = [];
  constructor(
    private readonly target: Target,
    private readonly runId: string,
  ) {}

  async record(state: JournalEntry["state"], change: Change, message?: string): Promise<void> {
    const { content, ...rest } = change as Change & { content?: string };
    const entry: JournalEntry = {
      seq: this.seq++,
      at: new Date().toISOString(),
      state,
      change:
        content === undefined ? rest : { ...rest, contentSha256: sha256(Buffer.from(content)) },
      ...(message === undefined ? {} : { message }),
    };
    const line = JSON.stringify(entry) + "\n";
    if (this.seq === 1) {
      await this.target.mkdirp(JOURNAL_DIR, 0o700);
      // Resolved inside the target once: symlinks in an image never lead the journal out.
      this.hostFile = (await this.target.resolve?.(journalPath(this.runId), false)) ?? null;
    }
    if (this.hostFile !== null) {
      // Append and fsync: one line per step. A crash can tear only the last line, which
      // readers skip (it never parses as JSON).
      const handle = await open(
        this.hostFile,
        constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW,
        0o600,
      );
      try {
        await handle.write(line);
        await handle.sync();
      } finally {
        await handle.close();
      }
      return;
    }
    if (this.target.appendFile !== undefined) {
      await this.target.appendFile(journalPath(this.runId), line, 0o600);
      return;
    }
    this.lines.push(line);
    await this.target.writeFileAtomic(journalPath(this.runId), this.lines.join(""), {
      mode: 0o600,
    });
  }
}

/** Read a run's journal; a torn last line (a crash mid-append) is skipped. */
export function parseJournal(text: string): JournalEntry[] {
  const entries: JournalEntry[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      entries.push(JSON.parse(line) as JournalEntry);
    } catch {
      // only the last line can be torn
    }
  }
  return entries;
}

// ─── built-in handlers ───────────────────────────────────────────────────────

function sha256(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export function contentOf(change: WriteFileChange): Buffer {
  return Buffer.from(change.content, change.encoding === "base64" ? "base64" : "utf8");
}

async function writeFile(change: Change, target: Target, run: RunContext): Promise<ChangeOutcome> {
  if (change.kind !== "write-file") throw new Error("unreachable");
  const wanted = contentOf(change);
  const [current, stat] = await Promise.all([
    target.readFile(change.path),
    target.stat(change.path),
  ]);
  if (
    current !== null &&
    stat !== null &&
    current.equals(wanted) &&
    stat.mode === change.mode &&
    stat.uid === change.uid &&
    stat.gid === change.gid
  ) {
    return "unchanged";
  }
  await run.backup(change.path);
  await target.mkdirp(parentOf(change.path), 0o755);
  await target.writeFileAtomic(change.path, wanted, {
    mode: change.mode,
    uid: change.uid,
    gid: change.gid,
  });
  const putBack = async () => {
    if (current === null || stat === null) await target.remove(change.path);
    else await target.writeFileAtomic(change.path, current, stat);
  };
  if (change.check !== undefined) await checkAndReload(target, change.path, change.check, putBack);
  await activate(target, change.path, change.activate, putBack);
  return "applied";
}

/**
 * On a running machine, the change's `activate` command puts the written file into effect at
 * once; when it fails, the previous file is put back and the change fails.
 */
async function activate(
  target: Target,
  path: string,
  command: string[] | undefined,
  putBack: () => Promise<void>,
): Promise<void> {
  if (command === undefined || !target.live) return;
  const [program, ...args] = command as [string, ...string[]];
  const done = await target.exec(program, args, { timeoutMs: 60_000 });
  if (done.exitCode === 0) return;
  await putBack();
  throw new IncompleteError(
    "E_ACTIVATE",
    `${command.join(" ")} could not put ${path} into effect (${whyFailed(done)}); the previous file is back in place`,
  );
}

/** What a failed command said, for a message: its last 3 lines of stderr (else stdout, else the exit code). */
function whyFailed(r: { exitCode: number | null; stdout: string; stderr: string }): string {
  return (r.stderr.trim() || r.stdout.trim() || `exit ${r.exitCode}`)
    .split("\n")
    .slice(-3)
    .join("; ");
}

/** PATH of a configuration test in an image's sandbox. */
const sandboxPath = "/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * The configuration test of a written file, then the reload of its service on a running
 * machine. sshd keeps every existing connection across a reload or restart (each session is
 * its own process), so the run that wrote the file goes on; only new connections see it.
 */
async function checkAndReload(
  target: Target,
  path: string,
  check: NonNullable<WriteFileChange["check"]>,
  putBack: () => Promise<void>,
): Promise<void> {
  const root = target.kind === "root" ? target.hostPath("/") : null;
  const [command, ...args] = (root !== null ? (check.image ?? check.command) : check.command) as [
    string,
    ...string[],
  ];
  const tested =
    root !== null
      ? await runInSandbox(root, command, args, { env: { PATH: sandboxPath }, timeoutMs: 60_000 })
      : await target.exec(command, args, { timeoutMs: 60_000 });
  if (tested.exitCode !== 0) {
    await putBack();
    throw new IncompleteError(
      "E_CONFIG_TEST",
      `${check.command.join(" ")} refused ${path} (${whyFailed(tested)}); the previous file is back in place`,
    );
  }
  if (!target.live || check.reload === undefined) return;
  const unit = check.reload;
  const systemctl = (...a: string[]) =>
    target.exec("systemctl", a, { env: { SYSTEMCTL_SKIP_SYSV: "1" }, timeoutMs: 60_000 });
  if ((await systemctl("is-active", "--quiet", unit)).exitCode !== 0) return;
  const reloaded = await systemctl("try-reload-or-restart", unit);
  // A reload that leaves the service dead (an address it cannot bind) locks out every new
  // connection: put the old file back and bring the service back with it.
  const up = async () => {
    for (let i = 0; i < 10; i++) {
      if ((await systemctl("is-active", "--quiet", unit)).exitCode === 0) return true;
      await new Promise((r) => setTimeout(r, 300));
    }
    return false;
  };
  if (reloaded.exitCode === 0 && (await up())) return;
  await putBack();
  await systemctl("reset-failed", unit);
  await systemctl("restart", unit);
  throw new IncompleteError(
    "E_RELOAD",
    `${unit} did not come back with the new ${path} (${reloaded.stderr.trim().split("\n").pop() || "not active"}); the previous file is back and ${unit} restarted`,
  );
}

async function removeFile(change: Change, target: Target, run: RunContext): Promise<ChangeOutcome> {
  if (change.kind !== "remove-file") throw new Error("unreachable");
  if ((await target.stat(change.path)) === null) return "unchanged";
  await run.backup(change.path);
  await target.remove(change.path);
  return "applied";
}

async function unit(change: Change, target: Target): Promise<ChangeOutcome> {
  if (
    change.kind !== "enable-unit" &&
    change.kind !== "disable-unit" &&
    change.kind !== "mask-unit" &&
    change.kind !== "unmask-unit"
  ) {
    throw new Error("unreachable");
  }
  const verb = change.kind.replace(/-unit$/, "");
  const args =
    target.kind === "root"
      ? [`--root=${target.hostPath("/")}`, verb, change.unit]
      : verb === "enable" || verb === "disable"
        ? [verb, "--now", change.unit]
        : [verb, change.unit];
  const result = await target.exec("systemctl", args, { env: { SYSTEMCTL_SKIP_SYSV: "1" } });
  if (result.exitCode !== 0) {
    throw new IncompleteError(
      "E_SYSTEMCTL",
      `systemctl ${verb} ${change.unit} failed: ${result.stderr.trim()}`,
    );
  }
  return "applied";
}

/** Rewrite one `/etc/group`-style line's member list (and gshadow's), keeping everything else. */
async function groupMembers(
  change: Change,
  target: Target,
  run: RunContext,
): Promise<ChangeOutcome> {
  if (change.kind !== "set-group-members") throw new Error("unreachable");
  let changed = false;
  for (const [path, memberField] of [
    ["/etc/group", 3],
    ["/etc/gshadow", 3],
  ] as const) {
    const text = await target.readText(path);
    const stat = await target.stat(path);
    if (text === null || stat === null) continue;
    const lines = text.split("\n").map((line) => {
      const fields = line.split(":");
      if (fields[0] !== change.group || fields.length <= memberField) return line;
      fields[memberField] = change.members.join(",");
      return fields.join(":");
    });
    const next = lines.join("\n");
    if (next === text) continue;
    await run.backup(path);
    await target.writeFileAtomic(path, next, { mode: stat.mode, uid: stat.uid, gid: stat.gid });
    changed = true;
  }
  return changed ? "applied" : "unchanged";
}

/** Lock an account the way `passwd -l` does: prefix the hash with "!". */
async function lockAccount(
  change: Change,
  target: Target,
  run: RunContext,
): Promise<ChangeOutcome> {
  if (change.kind !== "lock-account") throw new Error("unreachable");
  const path = "/etc/shadow";
  const text = await target.readText(path);
  const stat = await target.stat(path);
  if (text === null || stat === null)
    throw new IncompleteError("E_NO_SHADOW", `${path} not found on ${target.location}`);
  const next = text
    .split("\n")
    .map((line) => {
      const fields = line.split(":");
      if (fields[0] !== change.user || fields.length < 2) return line;
      const hash = fields[1] ?? "";
      if (!hash.startsWith("!") && !hash.startsWith("*")) fields[1] = `!${hash}`;
      const day = /^\d+$/.test(fields[7] ?? "") ? Number(fields[7]) : undefined;
      if (change.expire === true && !accountExpired(day, new Date())) {
        while (fields.length < 9) fields.push("");
        fields[7] = "1"; // 1970-01-02: expired on any clock (usermod -e 1)
      }
      return fields.join(":");
    })
    .join("\n");
  if (next === text) return "unchanged";
  await run.backup(path);
  await target.writeFileAtomic(path, next, { mode: stat.mode, uid: stat.uid, gid: stat.gid });
  return "applied";
}

/** A line as compared with a key: sysctl's "/" separators and case do not matter. */
const normal = (text: string) => text.toLowerCase().replace(/\//g, ".");

/**
 * Comment out the lines a disable-lines change names, keeping the file's mode and owner. A
 * line that no longer sets its key means the file changed since the facts: nothing is
 * written. A line inside a block (`{ … }`) cannot be commented alone without breaking it.
 */
async function disableLines(
  change: Change,
  target: Target,
  run: RunContext,
): Promise<ChangeOutcome> {
  if (change.kind !== "disable-lines") throw new Error("unreachable");
  const text = await target.readText(change.path);
  const stat = await target.stat(change.path);
  if (text === null || stat === null) return "unchanged"; // gone: it overrides nothing
  const lines = text.split("\n");
  let changed = false;
  for (const { line, key } of change.lines) {
    const current = lines[line - 1];
    if (current === undefined || current.trimStart().startsWith(change.comment)) continue;
    if (!normal(current).includes(normal(key)))
      throw new IncompleteError(
        "E_LINE_MOVED",
        `${change.path}:${line} no longer sets ${key} (found "${current.trim()}"); plan again`,
      );
    if (/[{}]/.test(current))
      throw new IncompleteError(
        "E_LINE_IN_BLOCK",
        `${change.path}:${line} sets ${key} inside a block ("${current.trim()}"); it cannot be commented out alone`,
      );
    lines[line - 1] = `${change.comment} koffer (${change.controls.join(", ")}): ${current}`;
    changed = true;
  }
  if (!changed) return "unchanged";
  await run.backup(change.path);
  const keep = { mode: stat.mode, uid: stat.uid, gid: stat.gid };
  await target.writeFileAtomic(change.path, lines.join("\n"), keep);
  await activate(target, change.path, change.activate, () =>
    target.writeFileAtomic(change.path, text, keep),
  );
  return "applied";
}

const builtinHandlers: Partial<Record<Change["kind"], ChangeHandler>> = {
  "disable-lines": disableLines,
  "write-file": writeFile,
  "remove-file": removeFile,
  "enable-unit": unit,
  "disable-unit": unit,
  "mask-unit": unit,
  "unmask-unit": unit,
  "set-group-members": groupMembers,
  "lock-account": lockAccount,
};

function parentOf(path: string): string {
  const index = path.lastIndexOf("/");
  return index <= 0 ? "/" : path.slice(0, index);
}
