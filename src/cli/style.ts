/**
 * Colours for the text renderer: only when the text goes to a terminal and NO_COLOR is
 * unset. chalk stays here, in the CLI; renderers get a plain `style` function.
 */
import type { RenderOptions } from "../report/render/index.js";
import type { CliIo } from "./context.js";

/** A style for text written to stdout, or undefined (plain text) when stdout is no terminal. */
export async function terminalStyle(io: CliIo): Promise<RenderOptions["style"]> {
  const tty = Boolean((io.stdout as NodeJS.WriteStream).isTTY);
  if (!tty || io.env.NO_COLOR) return undefined;
  const { default: chalk } = await import("chalk");
  const colours = {
    pass: chalk.green,
    fail: chalk.red,
    error: chalk.red.bold,
    waived: chalk.yellow,
    "not-applicable": chalk.gray,
    skip: chalk.gray,
    pending: chalk.yellow.bold,
    bold: chalk.bold,
    dim: chalk.dim,
  } as const;
  return (role, s) => colours[role](s);
}
