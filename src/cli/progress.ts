/**
 * Showing long steps (src/progress.ts events). A step that ends within `thresholdMs` (2 s)
 * shows nothing, so quick runs stay quiet. A slower one shows, on stderr:
 * - on a terminal: an ora spinner with the step and its elapsed seconds, kept as a ✔/✖ line
 *   with the time taken when it ends;
 * - otherwise (CI logs, pipes): a timestamped line when it has run 2 s, another every 30 s
 *   while it runs, and one with the time taken when it ends.
 */
import type { StepEvents, StepOutcome } from "../progress.js";
import type { CliIo } from "./context.js";

export interface StepDisplay extends StepEvents {
  /** A plain message, printed without disturbing the spinner. */
  log(line: string): void;
  /**
   * A detail of the running step (re-encryption progress): the spinner's text on a terminal;
   * elsewhere a plain line, at most every `everyMs` unless `final`.
   */
  detail(text: string, options?: { everyMs?: number; final?: boolean }): void;
  /** Stop the spinner while a question is asked, then go on. */
  pause<T>(question: () => Promise<T>): Promise<T>;
  /** Stop timers and the spinner (the run ended or failed). */
  close(): void;
}

interface Active {
  label: string;
  started: number;
  shown: boolean;
  detail?: string;
  timer?: NodeJS.Timeout;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
const clockTime = (at: number) => new Date(at).toISOString().slice(11, 19);

export async function stepDisplay(
  io: CliIo,
  options: { thresholdMs?: number; repeatMs?: number } = {},
): Promise<StepDisplay> {
  // KOFFER_PROGRESS_AFTER_MS lowers the 2 s (0 shows every step; the tests use it).
  const fromEnv = Number(io.env.KOFFER_PROGRESS_AFTER_MS);
  const threshold =
    options.thresholdMs ??
    (io.env.KOFFER_PROGRESS_AFTER_MS !== undefined && Number.isFinite(fromEnv) ? fromEnv : 2000);
  const repeat = options.repeatMs ?? 30_000;
  const ora = io.interactive ? (await import("ora")).default : null;
  // A terminal that reports 0 columns (a serial console, `script` without a size) made ora
  // clear an infinite number of lines and hang: assume 80 columns there.
  const stream = io.stderr as NodeJS.WriteStream;
  if (ora !== null && !(stream.columns > 0)) stream.columns = 80;
  const spinner = ora === null ? null : ora({ stream, isEnabled: true, discardStdin: false });
  const active: Active[] = [];
  let ticker: NodeJS.Timeout | undefined;
  const line = (text: string) => io.stderr.write(`koffer: [${clockTime(Date.now())}] ${text}\n`);

  /** The innermost step over the threshold is the one the spinner shows. */
  const shownStep = () => [...active].reverse().find((a) => a.shown);
  const render = () => {
    if (spinner === null) return;
    const s = shownStep();
    if (s === undefined) {
      if (spinner.isSpinning) spinner.stop();
      if (ticker !== undefined) clearInterval(ticker);
      ticker = undefined;
      return;
    }
    const detail = s.detail === undefined ? "" : `: ${s.detail}`;
    spinner.text = `${s.label}${detail} (${seconds(Date.now() - s.started)})`;
    if (!spinner.isSpinning) spinner.start();
    ticker ??= setInterval(render, 1000);
    ticker.unref();
  };

  let lastDetail = 0;
  return {
    detail(text: string, options: { everyMs?: number; final?: boolean } = {}) {
      const step = active.at(-1);
      if (spinner !== null && step !== undefined) {
        step.detail = text;
        if (step.shown) render();
        return;
      }
      const now = Date.now();
      if (options.final !== true && now - lastDetail < (options.everyMs ?? 10_000)) return;
      lastDetail = now;
      io.stderr.write(`koffer: ${text}\n`);
    },
    async pause<T>(question: () => Promise<T>): Promise<T> {
      const spinning = spinner?.isSpinning === true;
      if (spinning) spinner!.stop();
      try {
        return await question();
      } finally {
        if (spinning) render();
      }
    },
    begin(label: string) {
      const a: Active = { label, started: Date.now(), shown: false };
      active.push(a);
      a.timer = setTimeout(() => {
        a.shown = true;
        if (spinner !== null) return render();
        line(`${label} …`);
        a.timer = setInterval(() => line(`${label} … ${seconds(Date.now() - a.started)}`), repeat);
        a.timer.unref();
      }, threshold);
      a.timer.unref();
      return (outcome: StepOutcome) => {
        clearTimeout(a.timer);
        clearInterval(a.timer);
        const index = active.indexOf(a);
        if (index !== -1) active.splice(index, 1);
        if (!a.shown) return;
        const took = seconds(Date.now() - a.started);
        const text = `${label}: ${outcome === "done" ? "done" : "failed"} in ${took}`;
        if (spinner !== null) {
          spinner.stopAndPersist({ symbol: outcome === "done" ? "✔" : "✖", text });
          render();
        } else line(text);
      };
    },
    log(text: string) {
      if (spinner?.isSpinning) {
        spinner.clear();
        io.stderr.write(`koffer: ${text}\n`);
        spinner.render();
      } else io.stderr.write(`koffer: ${text}\n`);
    },
    close() {
      for (const a of active) {
        clearTimeout(a.timer);
        clearInterval(a.timer);
      }
      active.length = 0;
      if (ticker !== undefined) clearInterval(ticker);
      if (spinner?.isSpinning) spinner.stop();
    },
  };
}
