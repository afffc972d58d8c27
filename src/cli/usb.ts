import type { Command } from "commander";
import { action, type CliContext } from "./context.js";
import { countOf } from "../i18n/format.js";

/**
 * Largest rules file `koffer usb rules` reads: 16 MiB, some 150,000 rules — far beyond any
 * allowlist; a larger file is refused (exit 78) rather than held in memory.
 */
export const usbRulesMaxBytes = 16 * 1024 * 1024;

/** `koffer usb …`: USBGuard rules. */
export function register(program: Command, context: CliContext): void {
  const usb = program
    .command("usb")
    .description("USBGuard rules: parse and print them in canonical form");

  usb
    .command("rules")
    .description(
      "parse a USBGuard rules file as usbguard 1.1.2 (Debian 12) does and print every rule in its canonical form, one per line; exit 78 naming every line the daemon would refuse",
    )
    .argument("<FILE>", "rules file (rules.conf or a file of RuleFolder); - reads standard input")
    .addHelpText(
      "after",
      "\nProblems are printed as FILE:LINE:COLUMN: message (at /rules/N), where N counts the\nfile's rule lines (not empty, not comment-only) from 0 and COLUMN counts bytes from 1.",
    )
    .action(action(context, async (file: string) => rulesCommand(context, file)));

  // Sub-commands inherit exit override and output configuration from the program.
  for (const sub of usb.commands) sub.exitOverride().configureOutput(program.configureOutput());
}

async function rulesCommand(context: CliContext, file: string): Promise<number> {
  const { InputError, ExitCode, KofferError } = await import("../errors.js");
  const { readInputFile } = await import("../targets/files.js");
  const { decodeRuleBytes, encodeRuleText, formatRule, parseRulesFile } =
    await import("../facts/usbguard-rules.js");

  let bytes: Uint8Array;
  try {
    bytes =
      file === "-"
        ? await readStream(context.io.stdin, usbRulesMaxBytes)
        : await readInputFile(file, usbRulesMaxBytes);
  } catch (error) {
    if (error instanceof KofferError) throw error;
    throw new InputError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const name = file === "-" ? "<stdin>" : file;
  const parsed = parseRulesFile(decodeRuleBytes(bytes), name);

  // Bytes out as usbguard prints them: condition parameters keep whatever bytes they had.
  const out = parsed.rules.map(({ rule }) => formatRule(rule) + "\n").join("");
  context.io.stdout.write(Buffer.from(encodeRuleText(out), "latin1"));
  if (parsed.errors.length === 0) return ExitCode.ok;

  // /rules/N: the index among rule lines, good and bad, in file order.
  const ruleLines = [...parsed.rules.map((r) => r.line), ...parsed.errors.map((e) => e.line)].sort(
    (a, b) => a - b,
  );
  throw new InputError(
    `${name}: ${countOf(parsed.errors.length, "rule line", "rule lines")} usbguard would refuse`,
    parsed.errors.map((e) => ({
      severity: "error" as const,
      rule: "usbguard/rule-syntax",
      message: e.message,
      path: `/rules/${ruleLines.indexOf(e.line)}`,
      position: { file: name, line: e.line, column: e.column },
    })),
  );
}

async function readStream(stream: NodeJS.ReadableStream, maxBytes: number): Promise<Uint8Array> {
  const { FileRefusedError } = await import("../errors.js");
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    total += bytes.length;
    if (total > maxBytes)
      throw new FileRefusedError(
        "size",
        "<stdin>",
        `expected at most ${maxBytes} bytes, found more`,
      );
    chunks.push(bytes);
  }
  return Buffer.concat(chunks);
}
