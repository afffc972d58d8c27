import type { Command } from "commander";
import { UsageError } from "../errors.js";
import { action, type CliContext } from "./context.js";

// Not yet built: registered so `koffer --help` shows the whole command line.
export function register(program: Command, context: CliContext): void {
  program
    .command("plan")
    .description("show the changes a provision would make; writes nothing (not yet available)")
    .allowUnknownOption()
    .allowExcessArguments()
    .action(
      action(context, async () => {
        throw new UsageError("koffer plan is not available in this version");
      }),
    );
}
