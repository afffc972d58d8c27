/**
 * Passphrases for keys: from a file, the environment, or a prompt — never from argv. On a
 * terminal the prompt does not echo what is typed (the passphrase must not end up on the
 * screen or in the scroll-back); piped stdin is read as one line.
 */
import type { CliIo } from "./context.js";

/** Ask on stderr and read one line from a terminal in raw mode, without echo. */
export async function promptHidden(io: CliIo, question: string): Promise<string> {
  const { UsageError } = await import("../errors.js");
  const stdin = io.stdin as NodeJS.ReadStream;
  io.stderr.write(question);
  stdin.setRawMode?.(true);
  stdin.resume();
  let answer = "";
  try {
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        for (const ch of chunk.toString("utf8")) {
          if (ch === "\r" || ch === "\n") {
            stdin.off("data", onData);
            return resolve();
          }
          if (ch === "\u0003") {
            stdin.off("data", onData);
            return reject(new UsageError("cancelled"));
          }
          if (ch === "\u007f") answer = answer.slice(0, -1);
          else answer += ch;
        }
      };
      stdin.on("data", onData);
    });
  } finally {
    stdin.setRawMode?.(false);
    stdin.pause();
    io.stderr.write("\n");
  }
  return answer;
}

/** A passphrase from a file (its first line), `envVar`, or a prompt (stdin). */
export async function readPassphrase(
  io: CliIo,
  file: string | undefined,
  envVar: string,
  what: string,
): Promise<string> {
  const { readFile } = await import("node:fs/promises");
  const { InputError, UsageError } = await import("../errors.js");
  if (file) {
    try {
      return (await readFile(file, "utf8")).split(/\r?\n/)[0]!;
    } catch (error) {
      throw new InputError(
        `${what} passphrase file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
  }
  const fromEnv = io.env[envVar];
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  if ((io.stdin as NodeJS.ReadStream).isTTY) return promptHidden(io, `${what} passphrase: `);
  io.stderr.write(`${what} passphrase: `);
  const { createInterface } = await import("node:readline");
  const rl = createInterface({ input: io.stdin, terminal: false });
  try {
    for await (const line of rl) return line;
  } finally {
    rl.close();
    io.stderr.write("\n");
  }
  throw new UsageError(
    `no ${what} passphrase: use a passphrase file, ${envVar}, or type it at the prompt`,
  );
}
