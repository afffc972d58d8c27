import type { Command } from "commander";
import { action, type CliContext } from "./context.js";

const keyTypes = ["ecdsa-p256", "ecdsa-p384", "rsa-3072", "rsa-4096"] as const;
type KeyType = (typeof keyTypes)[number];

async function keyType(value: string): Promise<KeyType> {
  const { UsageError } = await import("../errors.js");
  if (!(keyTypes as readonly string[]).includes(value))
    throw new UsageError(`--key must be ${keyTypes.join(", ")}`);
  return value as KeyType;
}

export function register(program: Command, context: CliContext): void {
  const ca = program.command("ca").description("a test CA for demos and tests");
  ca.command("init")
    .description(
      "make a test CA (subject says TEST – NICHT PRODUKTIV): test-ca.pem, test-ca.p12 and test-ca.pass (0600)",
    )
    .requiredOption("--out-dir <dir>", "where to write the CA")
    .option("--name <name>", "common name", "KOFFER TEST VPN CA")
    .option("--key <type>", "ecdsa-p256, ecdsa-p384, rsa-3072 or rsa-4096", "ecdsa-p384")
    .option("--force", "replace an existing CA in --out-dir (its key is lost)")
    .action(
      action(context, async (o: { outDir: string; name: string; key: string; force?: boolean }) => {
        const { createTestCa } = await import("../pki/lifecycle.js");
        const r = await createTestCa({
          outDir: o.outDir,
          name: o.name,
          keyType: await keyType(o.key),
          force: o.force === true,
        });
        context.io.stdout.write(
          `certificate: ${r.certPath}\nPKCS#12:     ${r.p12Path}\npassphrase:  ${r.passphrasePath} (mode 0600)\n`,
        );
        return 0;
      }),
    );
  ca.command("issue-signer")
    .description(
      "issue a document-signing certificate from the test CA, for koffer report sign: signer.pem (with the CA), signer.key (encrypted), signer.pass (0600)",
    )
    .requiredOption("--ca-dir <dir>", "the folder koffer ca init wrote")
    .requiredOption("--name <name>", 'the signer, e.g. "Erika Mustermann"')
    .requiredOption("--out-dir <dir>", "where to write signer.pem, signer.key and signer.pass")
    .option("--key <type>", "ecdsa-p256, ecdsa-p384, rsa-3072 or rsa-4096", "ecdsa-p384")
    .option("--days <n>", "validity in days (capped by the CA)", "730")
    .option("--force", "replace an existing signer in --out-dir")
    .action(
      action(
        context,
        async (o: {
          caDir: string;
          name: string;
          outDir: string;
          key: string;
          days: string;
          force?: boolean;
        }) => {
          const { UsageError } = await import("../errors.js");
          const days = Number(o.days);
          if (!Number.isInteger(days) || days < 1)
            throw new UsageError(`--days must be a positive whole number, not ${o.days}`);
          const { issueTestSigner } = await import("../pki/lifecycle.js");
          const r = await issueTestSigner({
            caDir: o.caDir,
            outDir: o.outDir,
            name: o.name,
            keyType: await keyType(o.key),
            days,
            force: o.force === true,
          });
          context.io.stdout.write(
            `certificate: ${r.certPath}\nkey:         ${r.keyPath} (encrypted, mode 0600)\npassphrase:  ${r.passphrasePath} (mode 0600)\n` +
              `sign with:   koffer report sign RESULT.json --key ${r.keyPath} --cert ${r.certPath} --passphrase-file ${r.passphrasePath}\n`,
          );
          return 0;
        },
      ),
    );
}
