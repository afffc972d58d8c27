/**
 * The commander program. Registration is cheap (commander and tiny command files);
 * every command imports what it needs when it runs.
 */
import { Command, CommanderError } from "commander";
import { ExitCode, KofferError, InputError, formatProblem } from "../errors.js";
import { version } from "../version.js";
import type { CliContext, CliIo, CommandRegistration } from "./context.js";
import { register as ca } from "./ca.js";
import { register as cert } from "./cert.js";
import { register as controls } from "./controls.js";
import { register as demo } from "./demo.js";
import { register as escrow } from "./escrow.js";
import { register as facts } from "./facts.js";
import { register as init } from "./init.js";
import { register as plan } from "./plan.js";
import { register as provision } from "./provision.js";
import { register as report } from "./report.js";
import { register as rollback } from "./rollback.js";
import { register as schema } from "./schema.js";
import { register as usb } from "./usb.js";
import { register as validate } from "./validate.js";
import { register as verify } from "./verify.js";

/** The explicit registry, in the order `--help` lists them. */
const commands: CommandRegistration[] = [
  init,
  validate,
  schema,
  controls,
  facts,
  verify,
  plan,
  provision,
  rollback,
  report,
  cert,
  ca,
  escrow,
  usb,
  demo,
];

export function defaultIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    interactive: Boolean(process.stderr.isTTY),
  };
}

/** Run the CLI with `argv` (as process.argv) and return the exit code. Never exits the process. */
export async function main(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  let exitCode: number = ExitCode.ok;
  const context: CliContext = { io, setExitCode: (code) => (exitCode = code) };
  const program = new Command("koffer")
    .description(
      "Provision, harden, verify and report on Bürgerkoffer laptops (BSI IT-Grundschutz, TR-02102, DSGVO Art. 32).",
    )
    .version(version(), "-V, --version")
    .showHelpAfterError("(run koffer --help for usage)")
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .exitOverride();
  for (const registration of commands) registration(program, context);
  // Sub-commands inherit exit override and output configuration.
  for (const sub of program.commands) sub.exitOverride().configureOutput(program.configureOutput());

  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    return reportError(error, io);
  }
}

function reportError(error: unknown, io: CliIo): number {
  if (error instanceof CommanderError) {
    if (error.code === "commander.helpDisplayed" || error.code === "commander.version")
      return ExitCode.ok;
    // `koffer help` is a request (0); a bare `koffer` or `koffer report` without a
    // sub-command gets the help on stderr from commander with exit code 1: a usage error.
    if (error.code === "commander.help") return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    return ExitCode.usage;
  }
  if (error instanceof InputError) {
    for (const problem of error.problems) io.stderr.write(formatProblem(problem) + "\n");
    if (error.problems.length === 0) io.stderr.write(`koffer: ${error.message}\n`);
    return error.exitCode;
  }
  if (error instanceof KofferError) {
    io.stderr.write(`koffer: ${error.message}\n`);
    return error.exitCode;
  }
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  io.stderr.write(`koffer: internal error: ${message}\n`);
  return ExitCode.incomplete;
}
