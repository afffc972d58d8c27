/**
 * Run the built CLI on a real pseudo-terminal (util-linux `script`, essential on Debian), so
 * the interactive paths meet a TTY as a technician's terminal is one. Each step waits for a
 * prompt text before it types, and the run is killed after a deadline (never left behind).
 */
import { spawn } from "node:child_process";
import { kofferBin } from "./cli.js";

export interface TtyStep {
  /** Text the output must contain (since the previous step) before `send` is typed. */
  waitFor: string | RegExp;
  /** What to type: "\r" is Enter, "\x03" is Ctrl-C. */
  send: string;
}

export interface TtyRun {
  exitCode: number;
  output: string;
}

/** The POSIX shell quoting of one argument for `script -c`. */
const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;

export async function kofferInTty(
  args: string[],
  steps: TtyStep[],
  options: { cwd: string; timeoutMs?: number; env?: Record<string, string> },
): Promise<TtyRun> {
  const command = [process.execPath, kofferBin, ...args].map(quote).join(" ");
  const child = spawn("script", ["-qfec", command, "/dev/null"], {
    cwd: options.cwd,
    env: { ...process.env, NO_COLOR: "1", TERM: "dumb", ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let output = "";
  let seen = 0;
  let waiting: (() => void) | null = null;
  const onData = (chunk: Buffer) => {
    output += chunk.toString("utf8");
    waiting?.();
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  const exited = new Promise<number>((resolve) =>
    child.on("close", (code, signal) => resolve(code ?? (signal ? 128 : -1))),
  );
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 30_000);
  try {
    for (const step of steps) {
      await new Promise<void>((resolve, reject) => {
        const check = () => {
          const rest = output.slice(seen);
          const match =
            typeof step.waitFor === "string"
              ? rest.indexOf(step.waitFor)
              : (rest.match(step.waitFor)?.index ?? -1);
          if (match >= 0) {
            seen += match + 1;
            waiting = null;
            resolve();
          }
        };
        waiting = check;
        child.once("close", () =>
          reject(new Error(`no prompt ${String(step.waitFor)}:\n${output}`)),
        );
        check();
      });
      // The prompt is printed before readline listens for keys; give it a moment.
      await new Promise((r) => setTimeout(r, 150));
      child.stdin.write(step.send);
    }
    return { exitCode: await exited, output };
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null) child.kill("SIGKILL");
  }
}
