import type { Command } from "commander";
import { ExitCode, UsageError } from "../errors.js";
import { action, type CliContext } from "./context.js";

export function register(program: Command, context: CliContext): void {
  program
    .command("validate")
    .description("validate profiles against the schema and BSI TR-02102 rules")
    .argument("<profile...>", "profile files (YAML)")
    .option("--format <format>", "text or json", "text")
    .option("--now <date>", "judge waiver expiry at this time (ISO 8601) instead of now")
    .action(
      action(context, async (files: string[], options: { format: string; now?: string }) => {
        if (options.format !== "text" && options.format !== "json") {
          throw new UsageError(`Expected --format text or json, found "${options.format}"`);
        }
        const now = options.now === undefined ? undefined : new Date(options.now);
        if (now !== undefined && Number.isNaN(now.getTime())) {
          throw new UsageError(`Expected --now as an ISO 8601 date, found "${options.now}"`);
        }
        const { validateProfiles, renderJson, renderText } =
          await import("../profiles/validate.js");
        const reports = await validateProfiles(files, { now });
        if (options.format === "json") {
          context.io.stdout.write(renderJson(reports));
        } else {
          const { stdout, stderr } = renderText(reports);
          context.io.stderr.write(stderr);
          context.io.stdout.write(stdout);
        }
        return reports.every((r) => r.valid) ? ExitCode.ok : ExitCode.config;
      }),
    );
}
