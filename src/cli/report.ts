/**
 * `koffer report render|sign|verify|merge`: re-render a saved result, sign and verify it as
 * evidence, merge many results into a fleet overview. Heavy modules load inside the actions.
 */
import type { Command } from "commander";
import { InputError, KofferError, UsageError } from "../errors.js";
import type { RenderOptions, SignatureState } from "../report/render/index.js";
import type { Lang } from "../report/types.js";
import { action, type CliContext } from "./context.js";
import { countOf } from "../i18n/format.js";

function parseLang(value: string | undefined): Lang | undefined {
  if (value === undefined) return undefined;
  if (value !== "de" && value !== "en")
    throw new UsageError(`--lang must be de or en, not ${value}`);
  return value;
}

/** Every file `report` reads is untrusted input: read within the JSON input budget. */
async function readInput(file: string, what: string): Promise<Buffer> {
  const [{ readInputFile }, { jsonBudget }] = await Promise.all([
    import("../targets/files.js"),
    import("../json-input.js"),
  ]);
  try {
    return await readInputFile(file, jsonBudget.maxBytes);
  } catch (error) {
    if (error instanceof KofferError) throw new InputError(`${what} ${error.message}`);
    throw new InputError(
      `${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}

/** Passphrase from --passphrase-file, KOFFER_SIGN_PASSPHRASE, or a prompt — never from argv. */
export async function passphraseFor(
  context: CliContext,
  keyPem: string,
  file: string | undefined,
): Promise<string | undefined> {
  if (file !== undefined) {
    const text = (await readInput(file, "passphrase file")).toString("utf8");
    return text.replace(/\r?\n$/, "");
  }
  const env = context.io.env.KOFFER_SIGN_PASSPHRASE;
  if (env !== undefined && env !== "") return env;
  if (!keyPem.includes("ENCRYPTED")) return undefined;
  const stdin = context.io.stdin as NodeJS.ReadStream;
  if (!stdin.isTTY)
    throw new UsageError(
      "the signing key is encrypted: give --passphrase-file FILE or set KOFFER_SIGN_PASSPHRASE (no terminal to prompt on)",
    );
  const { promptHidden } = await import("./passphrase.js");
  return promptHidden(context.io, "Passphrase for the signing key: ");
}

const allFormats = ["text", "json", "junit", "sarif", "md", "html", "pdf"] as const;

export function register(program: Command, context: CliContext): void {
  const report = program.command("report").description("render, sign, verify and merge results");

  report
    .command("render")
    .description("re-render a saved result: text, json, junit, sarif, md, html, pdf")
    .argument("<result>", "result JSON written by koffer verify")
    .option("-f, --format <list>", `comma-separated formats: ${allFormats.join(",")}`, "text")
    .option("-o, --out <file>", "write the (single) format to FILE")
    .option("-d, --out-dir <dir>", "write every format to DIR as <result-name>.<ext>")
    .option("--lang <lang>", "de or en (reports default to German)")
    .option("--signature <sig>", "detached signature of the result, shown in the HTML report")
    .option("--ca <pem>", "trusted CA for --signature")
    .action(
      action(
        context,
        async (
          file: string,
          opts: {
            format: string;
            out?: string;
            outDir?: string;
            lang?: string;
            signature?: string;
            ca?: string;
          },
        ) => {
          const lang = parseLang(opts.lang);
          const formats = opts.format
            .split(",")
            .map((f) => f.trim())
            .filter(Boolean);
          for (const f of formats)
            if (!(allFormats as readonly string[]).includes(f))
              throw new UsageError(`unknown format ${f}; known: ${allFormats.join(", ")}`);
          if (opts.out && opts.outDir) throw new UsageError("give --out or --out-dir, not both");
          if (formats.length > 1 && !opts.outDir)
            throw new UsageError("several formats need --out-dir DIR");
          if (opts.signature && !opts.ca) throw new UsageError("--signature needs --ca CA.pem");

          const { createHash } = await import("node:crypto");
          const bytes = await readInput(file, "result");
          const { parseResult } = await import("../json-input.js");
          const result = await parseResult(file, bytes);
          const source: RenderOptions["source"] = {
            sha256: createHash("sha256").update(bytes).digest("hex"),
          };
          if (opts.signature && opts.ca)
            source.signature = await signatureState(bytes, opts.signature, opts.ca);

          const render = await import("../report/render/index.js");
          const { basename, join } = await import("node:path");
          const { writeFileAtomic } = await import("../pki/lifecycle.js");
          const stem = basename(file).replace(/\.json$/, "");
          const style =
            formats.includes("text") && !opts.out && !opts.outDir
              ? await (await import("./style.js")).terminalStyle(context.io)
              : undefined;
          for (const format of formats) {
            let out: string | Buffer;
            if (format === "pdf") {
              const { stepDisplay } = await import("./progress.js");
              const { step } = await import("../progress.js");
              out = await step(await stepDisplay(context.io), "rendering the PDF (chromium)", () =>
                render.renderReportPdf(result, { lang, source }),
              );
            } else
              out = render.render(result, format as (typeof render.formats)[number], {
                lang,
                source,
                style,
              });
            const ext =
              format === "pdf"
                ? "pdf"
                : render.formatExtension[format as (typeof render.formats)[number]];
            if (opts.outDir) {
              const path = join(opts.outDir, `${stem}.${ext}`);
              await writeFileAtomic(path, out, 0o644);
              context.io.stderr.write(`wrote ${path}\n`);
            } else if (opts.out) {
              await writeFileAtomic(opts.out, out, 0o644);
              context.io.stderr.write(`wrote ${opts.out}\n`);
            } else context.io.stdout.write(out);
          }
          return 0;
        },
      ),
    );

  report
    .command("sign")
    .description("write a detached CMS/PKCS#7 signature over the exact bytes of a result")
    .argument("<result>", "result JSON")
    .requiredOption("--key <pem>", "signer's private key (PEM; RSA or ECDSA; may be encrypted)")
    .requiredOption(
      "--cert <pem>",
      "signer's certificate (PEM; further certificates are included as chain)",
    )
    .option("--out <sig>", "signature file (default RESULT.p7s next to the result)")
    .option(
      "--passphrase-file <file>",
      "read the key passphrase from FILE (else KOFFER_SIGN_PASSPHRASE, else a prompt)",
    )
    .action(
      action(
        context,
        async (
          file: string,
          opts: { key: string; cert: string; out?: string; passphraseFile?: string },
        ) => {
          const bytes = await readInput(file, "result");
          const keyPem = (await readInput(opts.key, "key")).toString("utf8");
          const certPem = (await readInput(opts.cert, "certificate")).toString("utf8");
          const passphrase = await passphraseFor(context, keyPem, opts.passphraseFile);
          const { signDetached } = await import("../report/sign.js");
          const { writeFileAtomic } = await import("../pki/lifecycle.js");
          const signature = signDetached(bytes, { keyPem, certPem, passphrase });
          const out = opts.out ?? `${file}.p7s`;
          await writeFileAtomic(out, signature, 0o644);
          context.io.stdout.write(`signed ${file} → ${out}\n`);
          return 0;
        },
      ),
    );

  report
    .command("verify")
    .description(
      "verify a result's detached signature: bytes, signature, signer chain to the CA valid now; the signing time must lie between the result's start and now",
    )
    .argument("<result>", "result JSON")
    .option("--signature <sig>", "detached signature (default RESULT.p7s)")
    .requiredOption("--ca <pem>", "trusted CA certificate(s), PEM")
    .action(
      action(context, async (file: string, opts: { signature?: string; ca: string }) => {
        const bytes = await readInput(file, "result");
        const signature = await readInput(opts.signature ?? `${file}.p7s`, "signature");
        const ca = (await readInput(opts.ca, "CA file")).toString("utf8");
        const { verifyDetached } = await import("../report/sign.js");
        const { resultStartedAt } = await import("../json-input.js");
        const info = verifyDetached(bytes, signature, [ca], {
          notBefore: resultStartedAt(bytes),
        });
        context.io.stdout.write(
          [
            `OK: ${file} is signed and unchanged`,
            `  signer:       ${info.signer.subject}`,
            `  issuer:       ${info.signer.issuer}`,
            `  signing time: ${info.signingTime}`,
            `  sha256:       ${info.contentSha256}`,
            "",
          ].join("\n"),
        );
        return 0;
      }),
    );

  report
    .command("merge")
    .description("merge many results into a fleet overview (HTML + JSON) per municipality")
    .argument("<inputs...>", "result files, directories (searched for *.json) or glob patterns")
    .requiredOption("-d, --out-dir <dir>", "write fleet.json and fleet.html to DIR")
    .option("--lang <lang>", "de or en", "de")
    .option("--waiver-days <n>", "list waivers expiring within N days", "30")
    .option("--at <time>", "the overview's clock (ISO 8601), default now")
    .action(
      action(
        context,
        async (
          inputs: string[],
          opts: { outDir: string; lang: string; waiverDays: string; at?: string },
        ) => {
          const lang = parseLang(opts.lang) ?? "de";
          const now = opts.at ? new Date(opts.at) : new Date();
          if (Number.isNaN(now.getTime())) throw new UsageError(`--at: not a time: ${opts.at}`);
          const waiverDays = Number(opts.waiverDays);
          if (!Number.isInteger(waiverDays) || waiverDays < 0)
            throw new UsageError("--waiver-days must be a whole number");
          const { expandInputs, mergeResults } = await import("../report/merge.js");
          const { renderFleetHtml } = await import("../report/render/fleet.js");
          const { writeFileAtomic } = await import("../pki/lifecycle.js");
          const { join } = await import("node:path");
          const overview = await mergeResults(expandInputs(inputs), { now, waiverDays });
          for (const s of overview.skipped)
            context.io.stderr.write(`koffer: skipped ${s.file}: ${s.reason}\n`);
          if (overview.results === 0) throw new InputError("no koffer result found in the inputs");
          await writeFileAtomic(
            join(opts.outDir, "fleet.json"),
            JSON.stringify(overview, null, 2) + "\n",
            0o644,
          );
          await writeFileAtomic(
            join(opts.outDir, "fleet.html"),
            renderFleetHtml(overview, lang),
            0o644,
          );
          context.io.stdout.write(
            `merged ${countOf(overview.results, "result", "results")} of ${countOf(overview.devices, "device", "devices")} in ${countOf(overview.municipalities.length, "municipality", "municipalities")} → ${join(opts.outDir, "fleet.html")}, fleet.json\n`,
          );
          return 0;
        },
      ),
    );
}

async function signatureState(
  bytes: Buffer,
  sigFile: string,
  caFile: string,
): Promise<SignatureState> {
  const { verifyDetached } = await import("../report/sign.js");
  const { KofferError } = await import("../errors.js");
  try {
    const { resultStartedAt } = await import("../json-input.js");
    const info = verifyDetached(
      bytes,
      await readInput(sigFile, "signature"),
      [(await readInput(caFile, "CA file")).toString("utf8")],
      { notBefore: resultStartedAt(bytes) },
    );
    return {
      status: "valid",
      signer: info.signer.subject,
      signerIssuer: info.signer.issuer,
      signingTime: info.signingTime,
    };
  } catch (error) {
    if (error instanceof KofferError) return { status: "invalid", reason: error.message };
    throw error;
  }
}
