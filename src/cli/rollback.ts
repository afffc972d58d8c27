import type { Command } from "commander";
import { addSshOptions, sshTargetOptions, type SshCliOptions } from "./ssh-options.js";
import { action, type CliContext } from "./context.js";

interface RollbackCliOptions extends SshCliOptions {
  root?: string;
}

export function register(program: Command, context: CliContext): void {
  addSshOptions(program.command("rollback"))
    .description("restore, byte for byte, the files a provision run replaced or created")
    .argument("<run-id>", "the run id koffer provision printed (e.g. 20261120T213700Z-1a2b3c)")
    .option("--root <dir>", "an offline root filesystem (default: this machine)")
    .action(
      action(context, async (runId: string, options: RollbackCliOptions) => {
        const { openTarget } = await import("../targets/index.js");
        const { rollback } = await import("../provision/rollback.js");
        const target = await openTarget({
          ...(options.root === undefined ? {} : { root: options.root }),
          ...sshTargetOptions(options),
        });
        try {
          const report = await rollback(target, runId);
          const lines = [
            ...report.restored.map((p) => `restored ${p}`),
            ...report.removed.map((p) => `removed  ${p}`),
            `Rollback of ${runId}: ${report.restored.length} restored, ${report.removed.length} removed. Packages, keyslots and certificates are not rolled back.`,
          ];
          context.io.stdout.write(lines.join("\n") + "\n");
          return 0;
        } finally {
          await target.close();
        }
      }),
    );
}
