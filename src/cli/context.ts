/**
 * What every command gets: where to write, and how to report an exit code.
 * Commands return their exit code; only bin/koffer.js sets process.exitCode.
 */
import type { Command } from "commander";

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
  /** True when stderr is a terminal (spinners, colours). */
  interactive: boolean;
}

export interface CliContext {
  io: CliIo;
  setExitCode(code: number): void;
}

export type CommandRegistration = (program: Command, context: CliContext) => void;

/**
 * Wrap a command's action so that it returns an exit code; heavy modules are imported
 * inside `run`, never at registration, so `koffer --help` stays fast.
 */
export function action<A extends unknown[]>(
  context: CliContext,
  run: (...args: A) => Promise<number>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    context.setExitCode(await run(...args));
  };
}
