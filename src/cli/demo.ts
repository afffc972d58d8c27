import type { Command } from "commander";
import { UsageError } from "../errors.js";
import { codenames, findRelease } from "../platform/releases.js";
import { action, type CliContext } from "./context.js";

interface DemoCliOptions {
  workDir?: string;
  release: string;
  clean?: boolean;
}

export function register(program: Command, context: CliContext): void {
  program
    .command("demo")
    .description(
      "build a throwaway laptop (Debian root + weak LUKS2 image), verify, provision, verify again (needs root and the Debian mirror)",
    )
    .option("--work-dir <dir>", "where the laptop, disk image and reports go")
    .option(`--release <${codenames.join("|")}>`, "the Debian release of the laptop", "bookworm")
    .option("--clean", "remove the laptops earlier demos left under ~/.cache/koffer/demo, and exit")
    .action(
      action(context, async (options: DemoCliOptions) => {
        const io = context.io;
        if (options.clean) {
          const { cleanDemoCache, displayPath, formatSize } = await import("../demo/cache.js");
          const removed = await cleanDemoCache();
          io.stdout.write(
            `gelöscht / removed: ${displayPath(removed.dir)} (${formatSize(removed.bytes)})\n`,
          );
          return 0;
        }
        const release = findRelease(options.release);
        if (release === undefined)
          throw new UsageError(`unknown release ${options.release}; use ${codenames.join(" or ")}`);
        const { runDemo } = await import("../demo/demo.js");
        const { demoCacheLine, diskUsage, displayPath, formatSize } =
          await import("../demo/cache.js");
        const { stepDisplay } = await import("./progress.js");
        const steps = await stepDisplay(io);
        const say = (line: string) => steps.log(`demo: ${line}`);
        let endChange: ((outcome: "done" | "failed") => void) | null = null;
        const outcome = await runDemo({
          ...(options.workDir === undefined ? {} : { workDir: options.workDir }),
          log: say,
          env: io.env,
          release: release.platform,
          steps,
          progress: {
            // Each change is a step: apt in the sandbox takes minutes and is shown.
            onStart: (change) => (endChange = steps.begin(change.summary)),
            onDone: (change, result, message) => {
              endChange?.(result === "failed" ? "failed" : "done");
              endChange = null;
              if (result !== "unchanged")
                say(`  ${result}: ${change.summary}${message ? ` — ${message}` : ""}`);
            },
          },
        }).finally(() => steps.close());
        const b = outcome.before.summary;
        const p = outcome.provision;
        const a = p.result.summary;
        const failing = (r: typeof p.result) =>
          r.controls
            .filter((c) => c.status === "fail" || c.status === "error")
            .map((c) => c.id)
            .join(", ");
        const lines = [
          `Laptop: ${outcome.release.name}, ${outcome.root} with disk ${outcome.disk}`,
          `1. verify before:  exit ${outcome.beforeExitCode} — ${b.compliant ? "compliant" : "NOT compliant"}: ${b.pass} pass, ${b.fail} fail (${failing(outcome.before)})`,
          `2. provision:      run ${p.runId}: ${p.applied?.applied ?? 0} changes applied, ${p.applied?.failed.length ?? 0} failed`,
          ...p.notes.map((n) => `                    ${n.message}`),
          `3. verify after:   exit ${p.exitCode} — ${a.compliant ? "compliant" : "NOT compliant"}: ${a.pass} pass, ${a.fail} fail${a.compliant ? "" : ` (${failing(p.result)})`}, ${a.skip} skip (live-only), ${a.waived} waived`,
          `Report (HTML): ${outcome.htmlReport}`,
          `Undo the files: koffer rollback ${p.runId} --root ${outcome.root}`,
          options.workDir === undefined
            ? await demoCacheLine()
            : `Work dir: ${displayPath(outcome.workDir)} (${formatSize((await diskUsage(outcome.workDir)) ?? 0)})`,
        ];
        io.stdout.write(lines.join("\n") + "\n");
        return p.exitCode;
      }),
    );
}
