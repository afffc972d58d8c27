import type { Command } from "commander";
import { addSshOptions, sshTargetOptions, type SshCliOptions } from "./ssh-options.js";
import { action, type CliContext } from "./context.js";

interface FactsOptions extends SshCliOptions {
  root?: string;
  disk: string[];
  out?: string;
  profile?: string;
  area?: string[];
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function register(program: Command, context: CliContext): void {
  addSshOptions(program.command("facts"))
    .description("gather facts from a target and print or save them as JSON")
    .option("--root <dir>", "an offline root filesystem (golden image, debootstrapped tree)")
    .option("--disk <path>", "a disk image or block device of the target (repeatable)", collect, [])
    .option("--out <file>", "save the snapshot to FILE (written atomically) instead of printing it")
    .option("--profile <file>", "a municipality profile: its devices' services are looked at too")
    .option("--area <area>", "gather only this area (repeatable)", collect, [])
    .action(
      action(context, async (options: FactsOptions) => {
        const { UsageError } = await import("../errors.js");
        const { openTarget } = await import("../targets/index.js");
        const { gatherFacts, factAreas } = await import("../facts/index.js");
        const unknown = (options.area ?? []).filter((a) => !(factAreas as string[]).includes(a));
        if (unknown.length > 0) {
          throw new UsageError(
            `unknown area ${unknown.join(", ")}; areas are ${factAreas.join(", ")}`,
          );
        }
        let profile = null;
        if (options.profile) {
          const { loadProfileOrThrow } = await import("../profiles/loader.js");
          profile = await loadProfileOrThrow(options.profile);
        }
        const target = await openTarget({
          root: options.root,
          disks: options.disk,
          ...sshTargetOptions(options),
        });
        try {
          const facts = await gatherFacts(
            target,
            { profile },
            options.area && options.area.length > 0
              ? { areas: options.area as typeof factAreas }
              : {},
          );
          const json = `${JSON.stringify(facts, null, 2)}\n`;
          if (options.out) {
            const { resolve } = await import("node:path");
            const { writeHostFileAtomic } = await import("../targets/files.js");
            // A snapshot names devices and accounts: readable by its owner only.
            await writeHostFileAtomic(resolve(options.out), json, { mode: 0o600 });
            context.io.stderr.write(`koffer: facts saved to ${options.out}\n`);
          } else {
            context.io.stdout.write(json);
          }
          for (const e of facts.gatherErrors) {
            context.io.stderr.write(`koffer: warning: ${e.area}: ${e.message}\n`);
          }
          return 0;
        } finally {
          await target.close();
        }
      }),
    );
}
