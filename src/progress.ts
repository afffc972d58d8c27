/**
 * Progress of long steps as events. The library never prints (STYLE.md §8): it announces a
 * step's start and end to whoever listens, and the CLI shows the slow ones (over 2 s) as a
 * spinner with the elapsed time on a terminal, or as timestamped lines otherwise
 * (src/cli/progress.ts).
 */

/** How a step ended. */
export type StepOutcome = "done" | "failed";

/** A listener for steps: `begin` is called at the start and returns what to call at the end. */
export interface StepEvents {
  begin(label: string): (outcome: StepOutcome) => void;
}

/** Run `fn` as a named step, announced to `events` (when there are any). */
export async function step<T>(
  events: StepEvents | undefined,
  label: string,
  fn: () => Promise<T>,
): Promise<T> {
  if (events === undefined) return fn();
  const end = events.begin(label);
  try {
    const value = await fn();
    end("done");
    return value;
  } catch (error) {
    end("failed");
    throw error;
  }
}
