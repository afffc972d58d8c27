import { execa } from "execa";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
export const kofferBin = fileURLToPath(new URL("../../bin/koffer.js", import.meta.url));

export interface CliRun {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Run the built CLI (npm test builds first) as a user would. */
export async function koffer(
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; input?: string; timeoutMs?: number } = {},
): Promise<CliRun> {
  const result = await execa(process.execPath, [kofferBin, ...args], {
    reject: false,
    cwd: options.cwd ?? repoRoot,
    // Progress lines depend on how fast this machine is (steps over 2 s): off unless a test
    // asks for them (KOFFER_PROGRESS_AFTER_MS=0 in the progress tests).
    env: { NO_COLOR: "1", KOFFER_PROGRESS_AFTER_MS: "3600000", ...options.env },
    input: options.input,
    stdin: options.input === undefined ? "ignore" : "pipe",
    timeout: options.timeoutMs ?? 120_000,
    stripFinalNewline: false,
  });
  return {
    exitCode: result.exitCode ?? -1,
    stdout: String(result.stdout),
    stderr: String(result.stderr),
  };
}
