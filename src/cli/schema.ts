import type { Command } from "commander";
import { ExitCode } from "../errors.js";
import { action, type CliContext } from "./context.js";

export function register(program: Command, context: CliContext): void {
  program
    .command("schema")
    .description("print the profile JSON Schema (for editors)")
    .action(
      action(context, async () => {
        const { readFile } = await import("node:fs/promises");
        const { profileSchemaUrl } = await import("../profiles/schema.js");
        context.io.stdout.write(await readFile(profileSchemaUrl, "utf8"));
        return ExitCode.ok;
      }),
    );
}
