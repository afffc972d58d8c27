import type { Command } from "commander";
import { UsageError } from "../errors.js";
import { action, type CliContext } from "./context.js";

// Not yet built: registered so `koffer --help` shows the whole command line.
export function register(program: Command, context: CliContext): void {
  program
    .command("validate")
    .description("validate profiles against the schema and BSI TR-02102 rules (not yet available)")
    .allowUnknownOption()
    .allowExcessArguments()
    .action(
      action(context, async () => {
        throw new UsageError("koffer validate is not available in this version");
      }),
    );
}
