import type { Command } from "commander";
import type { Facts } from "../facts/types.js";
import type { Profile } from "../profiles/types.js";
import { addSshOptions, sshTargetOptions, type SshCliOptions } from "./ssh-options.js";
import { action, type CliContext } from "./context.js";

interface VerifyOptions extends SshCliOptions {
  profile?: string;
  root?: string;
  disk: string[];
  facts?: string;
  format: string;
  out?: string;
  outDir?: string;
  lang: string;
  failOn: string;
  pending: string;
  quiet?: boolean;
  sign?: boolean;
  key?: string;
  cert?: string;
  passphraseFile?: string;
  ca?: string;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

async function readFacts(file: string): Promise<Facts> {
  const { readFactsFile } = await import("../json-input.js");
  return readFactsFile(file);
}

/** The built-in baseline as a profile, for runs without --profile. */
async function baselineProfile(): Promise<Profile> {
  const { baseline, baselineName } = await import("../profiles/baseline.js");
  const { createHash } = await import("node:crypto");
  return {
    apiVersion: "koffer/v1",
    kind: "Profile",
    metadata: { name: baselineName },
    spec: structuredClone(baseline.spec),
    waivers: [],
    source: {
      file: baselineName,
      sha256: createHash("sha256").update(JSON.stringify(baseline)).digest("hex"),
      extends: [],
    },
  };
}

/**
 * Check the --sign options; returns whether to sign. Signing covers the JSON result, so the
 * JSON must be written to a file: with --out-dir it is added to the formats when missing.
 */
function checkSignOptions(
  options: VerifyOptions,
  formats: string[],
  UsageError: typeof import("../errors.js").UsageError,
): boolean {
  const signOnly = (["key", "cert", "passphraseFile", "ca"] as const).filter(
    (k) => options[k] !== undefined,
  );
  if (options.sign !== true) {
    if (signOnly.length > 0)
      throw new UsageError(
        `${signOnly.map((k) => `--${k === "passphraseFile" ? "passphrase-file" : k}`).join(", ")} only with --sign`,
      );
    return false;
  }
  if (options.key === undefined || options.cert === undefined)
    throw new UsageError("--sign needs --key KEY.pem and --cert CERT.pem");
  if (options.outDir !== undefined) {
    if (!formats.includes("json")) formats.unshift("json");
  } else if (options.out === undefined || formats.join(",") !== "json")
    throw new UsageError(
      "--sign signs the JSON result file: use --out-dir DIR, or --format json --out FILE",
    );
  return true;
}

/** Sign the JSON bytes; the state the HTML shows (valid only when checked against --ca). */
async function signResult(
  context: CliContext,
  options: VerifyOptions,
  bytes: Buffer,
): Promise<{
  der: Buffer;
  sha256: string;
  signature: import("../report/render/index.js").SignatureState;
}> {
  const { readFile } = await import("node:fs/promises");
  const { createHash, X509Certificate } = await import("node:crypto");
  const { InputError, KofferError } = await import("../errors.js");
  const { passphraseFor } = await import("./report.js");
  const { signDetached, verifyDetached } = await import("../report/sign.js");
  const read = async (file: string, what: string) =>
    readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
      throw new InputError(`${what} ${file}: ${error.code ?? error.message}`);
    });
  const keyPem = await read(options.key as string, "signing key");
  const certPem = await read(options.cert as string, "signer certificate");
  const passphrase = await passphraseFor(context, keyPem, options.passphraseFile);
  const signingTime = new Date();
  const der = signDetached(bytes, { keyPem, certPem, passphrase, signingTime });
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  if (options.ca !== undefined) {
    const caPem = await read(options.ca, "CA file");
    try {
      const info = verifyDetached(bytes, der, [caPem]);
      return {
        der,
        sha256,
        signature: {
          status: "valid",
          signer: info.signer.subject,
          signerIssuer: info.signer.issuer,
          signingTime: info.signingTime,
        },
      };
    } catch (error) {
      if (error instanceof KofferError)
        return { der, sha256, signature: { status: "invalid", reason: error.message } };
      throw error;
    }
  }
  const certificate = new X509Certificate(certPem);
  const dn = (name: string) => name.split("\n").reverse().join(", ");
  return {
    der,
    sha256,
    signature: {
      status: "not-checked",
      signer: dn(certificate.subject),
      signerIssuer: dn(certificate.issuer),
      signingTime: signingTime.toISOString(),
      reason: "koffer report verify --ca CA.pem",
    },
  };
}

/**
 * `--out-dir` that does not exist yet is created (mode 0700: results name devices and
 * accounts), as `report render` and `provision` do; a path that exists but is no directory,
 * or one that cannot be created, is a clear error instead of a stack trace.
 */
export async function ensureOutDir(dir: string): Promise<void> {
  const { mkdir, stat } = await import("node:fs/promises");
  const { IncompleteError, UsageError } = await import("../errors.js");
  const existing = await stat(dir).catch(() => null);
  if (existing !== null && !existing.isDirectory())
    throw new UsageError(`--out-dir ${dir} exists and is not a directory`);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new IncompleteError("E_OUT_DIR", `cannot create --out-dir ${dir}: ${code}`);
  }
}

/** The profile a verify judges by: --profile, or the built-in baseline. */
async function loadVerifyProfile(context: CliContext, options: VerifyOptions): Promise<Profile> {
  if (options.profile === undefined || options.profile === "koffer:baseline") {
    // A saved snapshot usually belongs to a municipality's laptop: say which yardstick
    // judges it instead of silently using the baseline.
    if (options.profile === undefined && options.facts !== undefined && options.quiet !== true)
      context.io.stderr.write(
        "koffer: no --profile given: judging the facts against the built-in baseline (koffer:baseline)\n",
      );
    return baselineProfile();
  }
  const { loadProfileOrThrow } = await import("../profiles/loader.js");
  return loadProfileOrThrow(options.profile);
}

export function register(program: Command, context: CliContext): void {
  addSshOptions(program.command("verify"))
    .description("gather facts (or read --facts), evaluate the catalogue, render the result")
    .option("--profile <file>", "the municipality profile (default: the built-in koffer:baseline)")
    .option("--root <dir>", "an offline root filesystem (golden image, debootstrapped tree)")
    .option("--disk <path>", "a disk image or block device of the target (repeatable)", collect, [])
    .option(
      "--facts <file>",
      "judge a saved facts snapshot instead of gathering (without --profile: against koffer:baseline, with a note on stderr)",
    )
    .option(
      "--format <formats>",
      "comma-separated: text, json, junit, sarif, md, html, pdf",
      "text",
    )
    .option("--out <file>", "write the (single) format to FILE")
    .option("--out-dir <dir>", "write every format to DIR/result.<ext>")
    .option("--lang <lang>", "de or en", "de")
    .option(
      "--fail-on <severity>",
      "lowest failing severity that makes the run fail: low, medium, high, critical",
      "low",
    )
    .option(
      "--pending <gate>",
      "a control pending at first boot (TPM2+PIN enrolment by the installed unit): fail (exit 1) or ok (exit 0, for image pipelines)",
      "fail",
    )
    .option("--quiet", "print nothing on success; only the exit code and errors")
    .option(
      "--sign",
      "sign the JSON result on the spot (detached CMS, RESULT.json.p7s); needs --key, --cert and a file output",
    )
    .option("--key <pem>", "signer's private key for --sign (PEM; may be encrypted)")
    .option("--cert <pem>", "signer's certificate for --sign (PEM; further certificates = chain)")
    .option(
      "--passphrase-file <file>",
      "key passphrase for --sign from FILE (else KOFFER_SIGN_PASSPHRASE, else a prompt)",
    )
    .option("--ca <pem>", "with --sign: check the new signature's chain to this CA for the report")
    .action(
      action(context, async (options: VerifyOptions) => {
        const { UsageError } = await import("../errors.js");
        const { parseLang } = await import("../i18n/format.js");
        const { isPendingGate, isSeverity, exitCodeFor } = await import("../report/exit-code.js");
        const render = await import("../report/render/index.js");
        const lang = parseLang(options.lang);
        if (lang === null) throw new UsageError(`unknown language ${options.lang}; use de or en`);
        if (!isSeverity(options.failOn))
          throw new UsageError(
            `unknown severity ${options.failOn}; use low, medium, high or critical`,
          );
        const pendingGate = options.pending;
        if (!isPendingGate(pendingGate))
          throw new UsageError(`unknown --pending ${pendingGate}; use fail or ok`);
        const formats = options.format
          .split(",")
          .map((f) => f.trim())
          .filter((f) => f !== "");
        const known = [...render.formats, "pdf"] as string[];
        const unknown = formats.filter((f) => !known.includes(f));
        if (unknown.length > 0 || formats.length === 0)
          throw new UsageError(
            `unknown format ${unknown.join(", ") || "(none)"}; known: ${known.join(", ")}`,
          );
        if (options.out !== undefined && options.outDir !== undefined)
          throw new UsageError("give --out or --out-dir, not both");
        if (options.out !== undefined && formats.length > 1)
          throw new UsageError("--out takes one format; use --out-dir for several");
        if (
          options.out === undefined &&
          options.outDir === undefined &&
          (formats.length > 1 || formats.includes("pdf"))
        )
          throw new UsageError("several formats (or pdf) need --out-dir (or --out for one)");
        const signing = checkSignOptions(options, formats, UsageError);
        if (
          options.facts !== undefined &&
          (options.root !== undefined || options.disk.length > 0 || options.ssh !== undefined)
        )
          throw new UsageError(
            "--facts judges a saved snapshot; do not combine it with --root, --disk or --ssh",
          );

        // A laptop over ssh is reached while the profile loads (connecting is mostly waiting,
        // loading is work): the run's start costs the longer of the two, not their sum.
        const connecting =
          options.facts === undefined && options.ssh !== undefined
            ? import("../targets/index.js").then(({ openTarget }) =>
                openTarget({
                  root: options.root,
                  disks: options.disk,
                  ...sshTargetOptions(options),
                }),
              )
            : undefined;
        connecting?.catch(() => undefined);
        let profile: Profile;
        try {
          profile = await loadVerifyProfile(context, options);
        } catch (error) {
          // The profile's problem is the run's answer; the connection is closed unused.
          await connecting?.then(
            (target) => target.close(),
            () => undefined,
          );
          throw error;
        }
        const startedAt = new Date();
        // Long steps are shown on stderr (a spinner on a terminal); a step always ends, also on
        // failure, so nothing is left spinning.
        const { stepDisplay } = await import("./progress.js");
        const { step } = await import("../progress.js");
        const steps = options.quiet === true ? undefined : await stepDisplay(context.io);
        let facts: Facts;
        if (options.facts !== undefined) facts = await readFacts(options.facts);
        else {
          const { openTarget } = await import("../targets/index.js");
          const { gatherFacts } = await import("../facts/index.js");
          const target = await (connecting ??
            openTarget({
              root: options.root,
              disks: options.disk,
              ...sshTargetOptions(options),
            }));
          try {
            facts = await step(steps, "gathering facts", () =>
              gatherFacts(target, { profile, now: startedAt }),
            );
          } finally {
            await target.close();
          }
        }
        const vpnCa = await (await import("../profiles/vpn-ca.js")).readVpnCa(profile);
        const { evaluate } = await import("../report/evaluate.js");
        const result = evaluate(profile, facts, { now: new Date(), startedAt, lang, vpnCa });

        const style =
          options.out === undefined && options.outDir === undefined
            ? await (await import("./style.js")).terminalStyle(context.io)
            : undefined;
        const { resolve, join } = await import("node:path");
        const { writeHostFileAtomic } = await import("../targets/files.js");
        if (options.outDir !== undefined) await ensureOutDir(options.outDir);
        // The JSON is rendered once: its exact bytes are what is signed and what the HTML names.
        const json = render.render(result, "json", { lang, style });
        let source: import("../report/render/index.js").RenderOptions["source"];
        let signature: { bytes: Buffer; file: string } | null = null;
        if (signing) {
          const jsonFile = options.out ?? join(options.outDir as string, "result.json");
          const bytes = Buffer.from(json, "utf8");
          const state = await step(steps, "signing the result", () =>
            signResult(context, options, bytes),
          );
          source = { sha256: state.sha256, signature: state.signature };
          signature = { bytes: state.der, file: `${jsonFile}.p7s` };
        }
        for (const format of formats) {
          const out: string | Buffer =
            format === "pdf"
              ? await step(steps, "rendering the PDF (chromium)", () =>
                  render.renderReportPdf(result, { lang, source }),
                )
              : format === "json"
                ? json
                : render.render(result, format as (typeof render.formats)[number], {
                    lang,
                    style,
                    source,
                  });
          const ext =
            format === "pdf"
              ? "pdf"
              : ((render.formatExtension as Record<string, string>)[format] ?? format);
          const file =
            options.out ??
            (options.outDir !== undefined ? join(options.outDir, `result.${ext}`) : undefined);
          if (file !== undefined) {
            // A result names devices and accounts: readable by its owner only.
            await writeHostFileAtomic(resolve(file), out, { mode: 0o600 });
            if (options.quiet !== true)
              context.io.stderr.write(`koffer: ${format} written to ${file}\n`);
          } else if (options.quiet !== true) context.io.stdout.write(out);
          if (format === "json" && signature !== null) {
            // Written after the JSON it signs; a signature is public, like the certificate.
            await writeHostFileAtomic(resolve(signature.file), signature.bytes, { mode: 0o644 });
            if (options.quiet !== true)
              context.io.stderr.write(`koffer: signature written to ${signature.file}\n`);
          }
        }
        for (const e of facts.gatherErrors)
          context.io.stderr.write(`koffer: warning: ${e.area}: ${e.message}\n`);
        return exitCodeFor(result, options.failOn, pendingGate);
      }),
    );
}
