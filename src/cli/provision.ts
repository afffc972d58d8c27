import { join, resolve } from "node:path";
import type { Command } from "commander";
import type { ReencryptProgress } from "../provision/handlers/context.js";
import type { Change, ReencryptChange } from "../provision/types.js";
import { addSshOptions, sshTargetOptions, type SshCliOptions } from "./ssh-options.js";
import { action, type CliContext, type CliIo } from "./context.js";
import { countOf } from "../i18n/format.js";

// Everything heavy (execa, ora, node-forge via pki) is imported inside the action.

interface ProvisionCliOptions extends SshCliOptions {
  profile?: string;
  root?: string;
  disk: string[];
  yes?: boolean;
  passphraseFile?: string;
  caP12?: string;
  caPassphraseFile?: string;
  tpm2Device?: string;
  tpm2PinFile?: string;
  confirmReencrypt?: boolean;
  recoveryKeyFile?: string;
  outDir?: string;
  lang: string;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** A secret from a file, the environment, or (on a terminal only) a prompt — never argv. */
async function secret(
  io: CliIo,
  file: string | undefined,
  envVar: string,
  what: string,
  flag: string,
): Promise<string> {
  const { UsageError } = await import("../errors.js");
  if (file === undefined && !io.env[envVar] && !(io.stdin as NodeJS.ReadStream).isTTY)
    throw new UsageError(`no ${what}: give ${flag} FILE or set ${envVar} (no terminal to ask on)`);
  const { readPassphrase } = await import("./cert.js");
  return readPassphrase(io, file, envVar, what);
}

/** "3 changes" — the plan as a technician reads it. */
function planText(changes: Change[]): string {
  if (changes.length === 0) return "Plan: nothing to change.\n";
  const lines = [`Plan: ${countOf(changes.length, "change", "changes")}`];
  for (const change of changes) {
    const controls = change.controls.length > 0 ? `  [${change.controls.join(", ")}]` : "";
    lines.push(`  ${change.resource.padEnd(11)} ${change.summary}${controls}`);
  }
  return lines.join("\n") + "\n";
}

/** A question only an explicit "yes" (or "ja") answers: no default, no "y". */
async function askExactly(io: CliIo, question: string): Promise<boolean> {
  const { createInterface } = await import("node:readline/promises");
  const rl = createInterface({ input: io.stdin, output: io.stderr, terminal: true });
  try {
    return /^(yes|ja)$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

const mib = (bytes: number) => `${Math.round(bytes / 1024 ** 2)} MiB`;

/** "80 MiB, ≈ 4 s at 25 MiB/s" — what the plan estimated. */
async function reencryptSize(change: ReencryptChange): Promise<string> {
  if (change.dataBytes === null || change.estimateSeconds === null) return "size unknown";
  const { formatDuration } = await import("../provision/resources/disk.js");
  return `${mib(change.dataBytes)}, ${formatDuration(change.estimateSeconds)} at ${change.mibPerSecond} MiB/s`;
}

/** "re-encrypting disk.img: 40% (32/80 MiB), 31 MiB/s, 2 s left" */
export function formatReencryptProgress(p: ReencryptProgress): string {
  const percent = p.totalBytes > 0 ? Math.floor((100 * p.doneBytes) / p.totalBytes) : 0;
  const rate = p.bytesPerSecond > 0 ? `, ${(p.bytesPerSecond / 1024 ** 2).toFixed(0)} MiB/s` : "";
  const eta = p.doneBytes < p.totalBytes && p.etaSeconds > 0 ? `, ${p.etaSeconds} s left` : "";
  return `re-encrypting ${p.device}: ${percent}% (${mib(p.doneBytes)}/${mib(p.totalBytes)})${rate}${eta}`;
}

async function ask(io: CliIo, question: string): Promise<boolean> {
  const { createInterface } = await import("node:readline/promises");
  const rl = createInterface({ input: io.stdin, output: io.stderr, terminal: true });
  try {
    return /^(y|yes|j|ja)$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

export function register(program: Command, context: CliContext): void {
  addSshOptions(program.command("provision"))
    .description("plan, confirm (or --yes), apply, verify and write the report")
    .requiredOption("--profile <file>", "the municipality profile")
    .option("--root <dir>", "an offline root filesystem (golden image, debootstrapped tree)")
    .option("--disk <path>", "a disk image or block device of the target (repeatable)", collect, [])
    .option("--yes", "apply without asking (CI); without a terminal --yes is required")
    .option(
      "--passphrase-file <file>",
      "current disk passphrase (else KOFFER_DISK_PASSPHRASE, else prompt)",
    )
    .option("--ca-p12 <file>", "issue the device certificate on the spot with this CA (PKCS#12)")
    .option(
      "--ca-passphrase-file <file>",
      "passphrase of --ca-p12 (else KOFFER_CA_PASSPHRASE, else prompt)",
    )
    .option(
      "--tpm2-device <spec>",
      "TPM for enrolment: auto, a device path, or a TCTI like swtpm:host=127.0.0.1,port=2321",
    )
    .option("--tpm2-pin-file <file>", "TPM2 PIN to set (else KOFFER_TPM2_PIN, else prompt)")
    .option(
      "--confirm-reencrypt",
      "apply planned re-encryptions of weak volume keys (they rewrite every data sector and take long; --yes alone skips them)",
    )
    .option(
      "--recovery-key-file <file>",
      "the volume's recovery key (else KOFFER_RECOVERY_KEY): its keyslot is re-wrapped when re-encrypting",
    )
    .option("--out-dir <dir>", "also write the reports (and escrow envelopes) here")
    .option("--lang <lang>", "report language: de or en", "de")
    .action(
      action(context, async (options: ProvisionCliOptions) => {
        const io = context.io;
        const { UsageError, InputError } = await import("../errors.js");
        const { parseLang } = await import("../i18n/format.js");
        const lang = parseLang(options.lang);
        if (lang === null) throw new UsageError(`unknown language ${options.lang}; use de or en`);
        const tty = Boolean((io.stdin as NodeJS.ReadStream).isTTY) && io.interactive;
        if (options.yes !== true && !tty)
          throw new UsageError(
            "no terminal to confirm the plan on: review it with `koffer plan`, then run provision with --yes",
          );
        if (options.caPassphraseFile !== undefined && options.caP12 === undefined)
          throw new UsageError("--ca-passphrase-file needs --ca-p12");

        // Secrets first, so a missing one stops the run before anything is touched.
        // Over ssh the laptop's own LUKS volumes are changed: the passphrase is read when given
        // (file or environment) and streamed to cryptsetup's stdin there, never in a command line.
        const passphrase =
          options.disk.length > 0 ||
          (options.ssh !== undefined &&
            (options.passphraseFile !== undefined || io.env.KOFFER_DISK_PASSPHRASE !== undefined))
            ? await secret(
                io,
                options.passphraseFile,
                "KOFFER_DISK_PASSPHRASE",
                "disk passphrase",
                "--passphrase-file",
              )
            : undefined;
        const tpm2Pin =
          options.tpm2Device !== undefined
            ? await secret(
                io,
                options.tpm2PinFile,
                "KOFFER_TPM2_PIN",
                "TPM2 PIN",
                "--tpm2-pin-file",
              )
            : undefined;
        // Only read when given: without it a re-encryption stops at a recovery slot it cannot re-wrap.
        const recoveryKey =
          options.recoveryKeyFile !== undefined || io.env.KOFFER_RECOVERY_KEY !== undefined
            ? await secret(
                io,
                options.recoveryKeyFile,
                "KOFFER_RECOVERY_KEY",
                "recovery key",
                "--recovery-key-file",
              )
            : undefined;
        let ca: { certPem: string; key: import("node:crypto").KeyObject } | undefined;
        if (options.caP12 !== undefined) {
          const { readFile } = await import("node:fs/promises");
          const { readPkcs12 } = await import("../pki/pkcs12.js");
          const pass = await secret(
            io,
            options.caPassphraseFile,
            "KOFFER_CA_PASSPHRASE",
            "CA passphrase",
            "--ca-passphrase-file",
          );
          try {
            const p12 = readPkcs12(await readFile(options.caP12), pass);
            if (p12.certificates[0] === undefined)
              throw new Error("no certificate in the PKCS#12 file");
            ca = { certPem: p12.certificates[0], key: p12.key };
          } catch (error) {
            throw new InputError(`${options.caP12}: ${(error as Error).message}`);
          }
        }

        const { provision } = await import("../provision/provision.js");
        const { pbkdfCostFromEnv } = await import("../provision/handlers/index.js");
        const progress = await progressReporter(io);
        const outcome = await provision({
          profileFile: options.profile!,
          ...(options.root === undefined ? {} : { root: options.root }),
          disks: options.disk,
          ...(options.ssh === undefined ? {} : { ssh: { ...sshTargetOptions(options) } }),
          lang,
          ...(options.outDir === undefined ? {} : { outDir: options.outDir }),
          handlers: {
            pbkdfCost: pbkdfCostFromEnv(io.env),
            ...(passphrase === undefined ? {} : { passphrase }),
            ...(tpm2Pin === undefined ? {} : { tpm2Pin }),
            ...(options.tpm2Device === undefined ? {} : { tpm2Device: options.tpm2Device }),
            ...(ca === undefined ? {} : { ca }),
            ...(io.env.KOFFER_APT_ARCHIVES ? { aptArchives: io.env.KOFFER_APT_ARCHIVES } : {}),
            log: (line) => progress.log(line),
            ...(recoveryKey === undefined ? {} : { recoveryKey }),
            // --yes is not enough: the flag, or a typed "yes" per volume at a terminal.
            confirmReencrypt:
              options.confirmReencrypt === true ||
              (tty
                ? (change: ReencryptChange) =>
                    progress.pause(async () =>
                      askExactly(
                        io,
                        `Re-encrypt ${change.device} to ${change.to.cipher} ${change.to.keyBits}-bit (${await reencryptSize(change)})? Every data sector is rewritten; an interruption is resumed by the next provision. Type "yes" to start: `,
                      ),
                    )
                : false),
            onReencryptProgress: (p) => progress.reencrypt(p),
            trapInterrupt: (onInterrupt) => {
              process.on("SIGINT", onInterrupt);
              process.on("SIGTERM", onInterrupt);
              return () => {
                process.off("SIGINT", onInterrupt);
                process.off("SIGTERM", onInterrupt);
              };
            },
          },
          onPlan: (changes) => io.stdout.write(planText(changes)),
          ...(options.yes === true
            ? {}
            : {
                confirm: (changes: Change[]) =>
                  ask(
                    io,
                    `Apply ${changes.length === 1 ? "this change" : `these ${changes.length} changes`}? [y/N] `,
                  ),
              }),
          progress: progress.apply,
          steps: progress.steps,
        }).finally(() => progress.stop());

        const out: string[] = [];
        if (outcome.declined) out.push("Nothing applied (not confirmed).");
        if (outcome.applied !== null) {
          const a = outcome.applied;
          out.push(
            `Run ${outcome.runId}: ${a.applied} applied, ${a.unchanged} already right, ${a.failed.length} failed` +
              (a.applied > 0
                ? ` (undo files with: ${undoCommand(outcome.runId, options.root)})`
                : ""),
          );
          for (const f of a.failed) out.push(`  failed: ${f.change.summary}: ${f.message}`);
        }
        for (const note of outcome.notes) out.push(`  later: ${note.message}`);
        const s = outcome.result.summary;
        out.push(
          `Verify: ${s.compliant ? "compliant" : "NOT compliant"} — ${s.pass} pass, ${s.fail} fail, ${s.error} error, ${s.waived} waived, ${s.skip} skip, ${s.notApplicable} not applicable` +
            (s.pending > 0 ? `, ${s.pending} pending at first boot` : ""),
        );
        if (!s.compliant) {
          const failing = outcome.result.controls
            .filter((c) => c.status === "fail" || c.status === "error")
            .map((c) => c.id);
          if (failing.length > 0) out.push(`  failing: ${failing.join(", ")}`);
          const pending = outcome.result.controls.filter((c) => c.status === "pending");
          for (const c of pending) out.push(`  pending: ${c.id}: ${c.message}`);
        }
        // Paths on an offline root are printed as the host sees them, so they can be opened.
        for (const path of outcome.reports.target)
          out.push(`Report: ${hostPath(path, options.root)}`);
        for (const path of outcome.reports.local) out.push(`Report: ${path}`);
        io.stdout.write(out.join("\n") + "\n");
        return outcome.exitCode;
      }),
    );
}

/** A path on the target as the host sees it: below `--root` when there is one. */
export function hostPath(targetPath: string, root: string | undefined): string {
  return root === undefined ? targetPath : join(resolve(root), targetPath);
}

/** A shell word: quoted only when it needs to be, so the hint can be pasted as printed. */
const shellWord = (word: string) =>
  /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;

/** The rollback command for a run, with `--root` when the run had one (works as printed). */
export function undoCommand(runId: string, root: string | undefined): string {
  return root === undefined
    ? `koffer rollback ${runId}`
    : `koffer rollback --root ${shellWord(resolve(root))} ${runId}`;
}

/**
 * One line per resource with its counts; every step over 2 s (gathering facts, one change
 * such as apt in the sandbox, the reports) as a spinner with elapsed time on a terminal, or
 * as timestamped lines otherwise (src/cli/progress.ts).
 */
async function progressReporter(io: CliIo) {
  const { stepDisplay } = await import("./progress.js");
  const steps = await stepDisplay(io);
  let current: string | null = null;
  let counts = { applied: 0, unchanged: 0, failed: 0 };
  let endChange: ((outcome: "done" | "failed") => void) | null = null;
  const finish = () => {
    if (current === null) return;
    steps.log(
      `${current}: ${counts.applied} applied, ${counts.unchanged} unchanged${counts.failed ? `, ${counts.failed} failed` : ""}`,
    );
    current = null;
  };
  return {
    steps,
    log: (line: string) => steps.log(line),
    stop() {
      finish();
      steps.close();
    },
    reencrypt(p: ReencryptProgress) {
      // Without a terminal a line every 10 s (cryptsetup reports every second) and the last.
      steps.detail(formatReencryptProgress(p), { final: p.doneBytes >= p.totalBytes });
    },
    pause: <T>(question: () => Promise<T>) => steps.pause(question),
    apply: {
      onStart(change: Change) {
        if (change.resource !== current) {
          finish();
          current = change.resource;
          counts = { applied: 0, unchanged: 0, failed: 0 };
        }
        endChange = steps.begin(`${change.resource}: ${change.summary}`);
      },
      onDone(_change: Change, outcome: "applied" | "unchanged" | "failed") {
        counts[outcome]++;
        endChange?.(outcome === "failed" ? "failed" : "done");
        endChange = null;
      },
    },
  };
}
