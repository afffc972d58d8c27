/**
 * Commands of the ssh target without a channel, a `sudo` and a shell each: a few long-lived
 * shells on the laptop (one channel and one `sudo -n` each, for the whole run) run the
 * commands they are sent one after the other and answer each with a framed reply.
 *
 * - Request (one line on the shell's stdin): `ID SECONDS N NAME=VALUE… WORD…` (N environment
 *   words), every word quoted for the POSIX shell with {@link shellQuote} (exactly what the
 *   login shell parses for a command sent the ordinary way); the shell runs it with `set --`
 *   and `timeout`, stdin /dev/null.
 * - Reply: `koffer-exec ID EXIT STDOUT-BYTES STDERR-BYTES\n`, then the bytes of stdout and
 *   of stderr. Both are first written to a private directory (mode 0700) in /run, a tmpfs
 *   on Debian, so binary output and exact sizes need no encoding; the directory is removed
 *   when the shell ends.
 * - Only commands without stdin, working directory or streamed output use this: a secret
 *   (sent on stdin) always goes the ordinary way, on a channel of its own.
 * - The controller enforces the limits: a reply larger than {@link maxReplyBytes} or one that
 *   does not come in time ends that shell (the connection is not trusted after it).
 */
import { IncompleteError } from "../errors.js";
import { settledWithin, type ExecResult, type SpawnedProcess } from "./exec.js";
import { shellQuote } from "./ssh-options.js";

/**
 * The shell's program (POSIX sh: dash on Debian). `$1` names nothing; no value is in argv.
 * It says `koffer-ready` once set up. A request may carry `NAME=VALUE` words (its count is the
 * third word): they are exported in a subshell for that command only, never put in an argv.
 */
export const commandShellScript = [
  "export LC_ALL=C LANG=C",
  "umask 077",
  "d=$(mktemp -d /run/koffer-exec.XXXXXXXX 2>/dev/null || mktemp -d) || exit 125",
  "trap 'rm -rf \"$d\"' EXIT",
  "trap 'exit 129' HUP TERM INT PIPE",
  "echo koffer-ready",
  "while IFS= read -r line; do",
  '  eval "set -- $line"',
  "  id=$1 t=$2 n=$3",
  "  shift 3",
  '  if [ "$n" = 0 ]; then',
  '    timeout -k 2 "$t" "$@" </dev/null >"$d/o" 2>"$d/e"',
  "  else",
  '    (while [ "$n" -gt 0 ]; do export "$1"; shift; n=$((n - 1)); done',
  '      exec timeout -k 2 "$t" "$@") </dev/null >"$d/o" 2>"$d/e"',
  "  fi",
  "  rc=$?",
  // One `stat` for both sizes: every process counts on a busy laptop.
  '  set -- $(stat -c %s "$d/o" "$d/e")',
  '  printf \'koffer-exec %s %s %s %s\\n\' "$id" "$rc" "$1" "$2"',
  '  cat "$d/o" "$d/e"',
  "done",
].join("\n");

/**
 * What the login runs (as `sh -c LOGIN koffer SCRIPT`): it names the login's uid first
 * (`koffer-login UID`), then becomes the command shell — directly for root, otherwise through
 * `sudo -n`, which never prompts. The first shell of a run is thereby also its check of the
 * login and of sudo: no channel of its own for `id` and `sudo -n true`.
 */
export const commandShellLogin = [
  "u=$(id -u) || exit 125",
  'echo "koffer-login $u"',
  '[ "$u" = 0 ] && exec sh -c "$1" koffer',
  'exec sudo -n -- sh -c "$1" koffer',
].join("\n");

/** Largest stdout plus stderr of one command accepted (far above any tool koffer runs). */
export const maxReplyBytes = 64 * 1024 * 1024;

/** How many shells run commands side by side (each costs a channel and a sudo once). */
const defaultPoolSize = 2;

interface Request {
  id: number;
  argv: string[];
  /** `NAME=VALUE` words, exported for this command only. */
  env: string[];
  timeoutMs: number;
  binary: boolean;
  resolve(result: ExecResult): void;
  reject(error: Error): void;
}

/** One shell on the laptop: one command at a time. */
class CommandShell {
  private inbox: Buffer = Buffer.alloc(0);
  private current: Request | null = null;
  private timer: NodeJS.Timeout | null = null;
  dead: Error | null = null;
  /** The login's uid, when the shell was started through {@link commandShellLogin}. */
  login: number | null = null;
  /** Until `koffer-ready`: the login line comes first, then the shell is set up. */
  private greeted = false;
  private greet!: { resolve(): void; reject(error: Error): void };
  /** Resolves once the shell is set up; rejects when it ends before (a sudo that refused). */
  readonly ready = new Promise<void>((resolve, reject) => (this.greet = { resolve, reject }));

  constructor(
    private readonly child: SpawnedProcess,
    private readonly lost: (detail: string) => Error,
    private readonly onIdle: (shell: CommandShell) => void,
    private readonly maxBytes: number,
  ) {
    this.ready.catch(() => undefined);
    child.stdout.on("data", (chunk: Buffer) => this.receive(chunk));
    child.stdin.on("error", () => undefined); // EPIPE: reported by `exited` below
    void child.exited.then(
      (code) => this.fail(this.lost(`the command shell ended (exit ${code})${this.stderr()}`)),
      (error: Error) => this.fail(error),
    );
  }

  get busy(): boolean {
    return this.current !== null;
  }

  /** The last line the shell wrote to stderr. */
  stderrText(): string {
    return this.child.stderr().trim().split("\n").pop() ?? "";
  }

  private stderr(): string {
    const text = this.child.stderr().trim().split("\n").pop() ?? "";
    return text === "" ? "" : `: ${text}`;
  }

  send(request: Request): void {
    this.current = request;
    const seconds = Math.max(1, Math.ceil(request.timeoutMs / 1000));
    const line = [
      String(request.id),
      String(seconds),
      String(request.env.length),
      ...request.env,
      ...request.argv,
    ]
      .map(shellQuote)
      .join(" ");
    // `timeout -k 2` ends the command; the rest covers a shell or a link that hangs.
    this.timer = setTimeout(() => {
      this.current = null;
      request.resolve(timedOutResult(request));
      this.fail(this.lost(`no answer to ${request.argv[0]} within ${seconds + 10} s`));
    }, request.timeoutMs + 10_000);
    this.child.stdin.write(`${line}\n`);
  }

  /** The greeting lines; false while one is still incomplete. */
  private greeting(): boolean {
    while (!this.greeted) {
      const eol = this.inbox.indexOf(0x0a);
      if (eol < 0) {
        if (this.inbox.length > 256)
          this.fail(this.lost("the command shell sent a malformed reply"));
        return false;
      }
      const line = this.inbox.subarray(0, eol).toString("latin1");
      this.inbox = this.inbox.subarray(eol + 1);
      const login = /^koffer-login (\d+)$/.exec(line);
      if (login !== null && this.login === null) this.login = Number(login[1]);
      else if (line === "koffer-ready") {
        this.greeted = true;
        this.greet.resolve();
      } else {
        this.fail(this.lost("the command shell sent a malformed greeting"));
        return false;
      }
    }
    return true;
  }

  private receive(chunk: Buffer): void {
    this.inbox = this.inbox.length === 0 ? chunk : Buffer.concat([this.inbox, chunk]);
    if (!this.greeted && (!this.greeting() || this.dead !== null)) return;
    const r = this.current;
    if (r === null) {
      if (this.inbox.length > 0) this.fail(this.lost("the command shell sent unasked output"));
      return;
    }
    const eol = this.inbox.indexOf(0x0a);
    if (eol < 0) {
      if (this.inbox.length > 256) this.fail(this.lost("the command shell sent a malformed reply"));
      return;
    }
    const head = /^koffer-exec (\d+) (\d+) (\d+) (\d+)$/.exec(
      this.inbox.subarray(0, eol).toString("latin1"),
    );
    if (head === null || Number(head[1]) !== r.id) {
      this.fail(this.lost("the command shell sent a malformed reply"));
      return;
    }
    const [outBytes, errBytes] = [Number(head[3]), Number(head[4])];
    if (outBytes + errBytes > this.maxBytes) {
      this.fail(
        this.lost(`${r.argv[0]} printed more than ${this.maxBytes} bytes; the run stops reading`),
      );
      return;
    }
    if (this.inbox.length < eol + 1 + outBytes + errBytes) return;
    const out = this.inbox.subarray(eol + 1, eol + 1 + outBytes);
    const err = this.inbox.subarray(eol + 1 + outBytes, eol + 1 + outBytes + errBytes);
    this.inbox = this.inbox.subarray(eol + 1 + outBytes + errBytes);
    const exitCode = Number(head[2]);
    if (this.timer !== null) clearTimeout(this.timer);
    this.current = null;
    r.resolve({
      command: r.argv[0] as string,
      args: r.argv.slice(1),
      // 124: `timeout` ended it (as the local exec seam reports a timeout).
      exitCode,
      stdout: r.binary ? "" : out.toString("utf8"),
      ...(r.binary ? { stdoutBuffer: Buffer.from(out) } : {}),
      stderr: err.toString("utf8"),
      timedOut: exitCode === 124,
    });
    if (this.inbox.length > 0) this.fail(this.lost("the command shell sent unasked output"));
    else this.onIdle(this);
  }

  /** The shell is unusable: fail what it was running and end it. */
  fail(error: Error): void {
    if (this.dead !== null) return;
    this.dead = error;
    this.greet.reject(error);
    if (this.timer !== null) clearTimeout(this.timer);
    const r = this.current;
    this.current = null;
    r?.reject(error);
    this.child.kill();
    this.onIdle(this);
  }

  end(): Promise<number> {
    this.child.stdin.end();
    return this.child.exited.catch(() => -1);
  }

  kill(): void {
    this.child.kill();
  }
}

/** The first shell ended before it was ready; what the login and its stderr said. */
export class ShellStartError extends IncompleteError {
  constructor(
    readonly login: number | null,
    readonly stderr: string,
    cause: unknown,
  ) {
    super("E_SSH", `the command shell ended before it was ready: ${stderr}`, { cause });
    this.name = "ShellStartError";
  }
}

function timedOutResult(r: Request): ExecResult {
  return {
    command: r.argv[0] as string,
    args: r.argv.slice(1),
    exitCode: -1,
    stdout: "",
    stderr: "",
    timedOut: true,
  };
}

/**
 * A small pool of command shells, started when first needed. `start` opens one (for ssh:
 * `ssh … [sudo -n --] sh -c SCRIPT` on the shared connection).
 */
export class CommandShells {
  private readonly shells: CommandShell[] = [];
  private readonly queue: Request[] = [];
  private nextId = 1;
  private starting = 0;
  private closed = false;

  /** Shells started so far (a test tells reuse from a shell per command). */
  started = 0;

  constructor(
    private readonly start: () => Promise<SpawnedProcess>,
    private readonly location: string,
    private readonly limits: { poolSize?: number; maxReplyBytes?: number } = {},
  ) {}

  private lost = (detail: string): Error =>
    new IncompleteError("E_SSH_LOST", `the connection to ${this.location} was lost: ${detail}`);

  /** Run `argv` on the far side; resolves like the exec seam (a non-zero exit is data). */
  run(
    argv: string[],
    options: { timeoutMs?: number; binary?: boolean; env?: Record<string, string> } = {},
  ): Promise<ExecResult> {
    if (this.closed) return Promise.reject(this.lost("the target was closed"));
    return new Promise<ExecResult>((resolve, reject) => {
      this.queue.push({
        id: this.nextId++,
        argv,
        env: Object.entries(options.env ?? {}).map(([name, value]) => `${name}=${value}`),
        timeoutMs: options.timeoutMs ?? 120_000,
        binary: options.binary ?? false,
        resolve,
        reject,
      });
      this.dispatch();
    });
  }

  private dispatch(): void {
    for (let i = this.shells.length - 1; i >= 0; i--) {
      if ((this.shells[i] as CommandShell).dead !== null) this.shells.splice(i, 1);
    }
    for (const shell of this.shells) {
      if (this.queue.length === 0) return;
      if (!shell.busy) shell.send(this.queue.shift() as Request);
    }
    if (this.queue.length > this.starting && this.shells.length + this.starting < this.poolSize) {
      this.spawn().catch((error: Error) => {
        // Nothing can run: fail what waits (the next command tries again).
        for (const r of this.queue.splice(0)) r.reject(error);
      });
    }
  }

  private get poolSize(): number {
    return this.limits.poolSize ?? defaultPoolSize;
  }

  private async spawn(): Promise<CommandShell> {
    this.starting++;
    this.started++;
    try {
      const shell = new CommandShell(
        await this.start(),
        this.lost,
        () => this.dispatch(),
        this.limits.maxReplyBytes ?? maxReplyBytes,
      );
      if (this.closed) shell.kill();
      else this.shells.push(shell);
      return shell;
    } finally {
      this.starting--;
      this.dispatch();
    }
  }

  /**
   * Start the pool's shells now rather than at the first command (they start side by side
   * while the run does other things). Resolves with the first shell's login once it is ready;
   * rejects with {@link ShellStartError} when it ends first — for ssh, a login whose
   * `sudo -n` refused (its stderr says why).
   */
  async warm(): Promise<{ uid: number | null }> {
    const first = this.spawn();
    for (let n = this.shells.length + this.starting; n < this.poolSize; n++) {
      this.spawn().catch(() => undefined); // a later command tries again
    }
    const shell = await first;
    try {
      await shell.ready;
    } catch (error) {
      throw new ShellStartError(shell.login, shell.stderrText(), error);
    }
    return { uid: shell.login };
  }

  /** End the shells (their directories are removed by their EXIT trap). */
  async close(): Promise<void> {
    this.closed = true;
    for (const r of this.queue.splice(0)) r.reject(this.lost("the target was closed"));
    await settledWithin(Promise.all(this.shells.map((s) => s.end())), 2_000);
    for (const s of this.shells) s.kill();
  }
}
