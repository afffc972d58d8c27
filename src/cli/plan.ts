import type { Command } from "commander";
import type { Facts } from "../facts/types.js";
import { addSshOptions, sshTargetOptions, type SshCliOptions } from "./ssh-options.js";
import { action, type CliContext } from "./context.js";

interface PlanCliOptions extends SshCliOptions {
  profile?: string;
  root?: string;
  disk: string[];
  facts?: string;
  format: string;
  caP12?: string;
  tpm2Device?: string;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

async function readFacts(file: string): Promise<Facts> {
  const { readFactsFile } = await import("../json-input.js");
  return readFactsFile(file);
}

export function register(program: Command, context: CliContext): void {
  addSshOptions(program.command("plan"))
    .description("show the changes a provision would make; writes nothing")
    .requiredOption("--profile <file>", "the municipality profile")
    .option("--root <dir>", "an offline root filesystem (golden image, debootstrapped tree)")
    .option("--disk <path>", "a disk image or block device of the target (repeatable)", collect, [])
    .option("--facts <file>", "plan against a saved facts snapshot instead of gathering")
    .option("--format <format>", "text (a readable diff) or json", "text")
    .option("--ca-p12 <file>", "plan issuing the device certificate with this CA (not read here)")
    .option("--tpm2-device <device>", "plan TPM2+PIN enrolment with this TPM")
    .action(
      action(context, async (options: PlanCliOptions) => {
        const { UsageError } = await import("../errors.js");
        if (options.format !== "text" && options.format !== "json")
          throw new UsageError(`unknown format ${options.format}; use text or json`);
        if (
          options.facts !== undefined &&
          (options.root !== undefined || options.disk.length > 0 || options.ssh !== undefined)
        )
          throw new UsageError(
            "--facts plans on a saved snapshot; do not combine it with --root, --disk or --ssh",
          );
        const { loadProfile, loadProfileOrThrow } = await import("../profiles/loader.js");
        const loaded = await loadProfile(options.profile as string);
        const profile = loaded.profile ?? (await loadProfileOrThrow(options.profile as string));
        // The profile's warnings belong in the plan: e.g. that the platform cannot do the
        // post-quantum key exchange the profile requires, so the tunnel will not come up.
        const { formatProblem } = await import("../errors.js");
        for (const problem of loaded.problems.filter((p) => p.severity === "warning"))
          context.io.stderr.write(`${formatProblem(problem)} [${problem.rule}]\n`);
        const vpnCa = await (await import("../profiles/vpn-ca.js")).readVpnCa(profile);
        const { planProvision } = await import("../provision/plan.js");
        const { renderPlanText } = await import("../provision/plan-text.js");
        const now = new Date();
        const plan = (facts: Facts) =>
          planProvision(profile, facts, {
            now,
            vpnCa,
            canIssue: options.caP12 !== undefined,
            tpm2Device: options.tpm2Device,
          });

        if (options.facts !== undefined) {
          const changes = plan(await readFacts(options.facts));
          context.io.stdout.write(
            options.format === "json"
              ? `${JSON.stringify({ changes }, null, 2)}\n`
              : renderPlanText(changes, () => undefined),
          );
          return 0;
        }
        const { openTarget } = await import("../targets/index.js");
        const { gatherFacts } = await import("../facts/index.js");
        const target = await openTarget({
          root: options.root,
          disks: options.disk,
          ...sshTargetOptions(options),
        });
        try {
          const facts = await gatherFacts(target, { profile, now });
          const changes = plan(facts);
          if (options.format === "json") {
            context.io.stdout.write(`${JSON.stringify({ changes }, null, 2)}\n`);
          } else {
            // The diff needs the present bytes, read now, before the target closes.
            const current = new Map<string, string | null>();
            for (const change of changes)
              if (change.kind === "write-file")
                current.set(change.path, (await target.readText(change.path)) ?? null);
            context.io.stdout.write(renderPlanText(changes, (path) => current.get(path)));
          }
          for (const e of facts.gatherErrors)
            context.io.stderr.write(`koffer: warning: ${e.area}: ${e.message}\n`);
          return 0;
        } finally {
          await target.close();
        }
      }),
    );
}
