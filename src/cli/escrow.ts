import type { Command } from "commander";
import { action, type CliContext } from "./context.js";
import { readPassphrase } from "./cert.js";

export function register(program: Command, context: CliContext): void {
  const escrow = program
    .command("escrow")
    .description("escrowed LUKS recovery keys (CMS EnvelopedData)");
  escrow
    .command("open")
    .description("decrypt an escrow record and print the recovery key on stdout (and nowhere else)")
    .argument("<file>", "escrow record (PEM CMS)")
    .requiredOption("--key-p12 <file>", "escrow key and certificate as PKCS#12")
    .option("--passphrase-file <file>", "passphrase (else KOFFER_ESCROW_PASSPHRASE, else prompt)")
    .action(
      action(context, async (file: string, o: { keyP12: string; passphraseFile?: string }) => {
        const { readFile } = await import("node:fs/promises");
        const { InputError, VerificationError } = await import("../errors.js");
        const pass = await readPassphrase(
          context.io,
          o.passphraseFile,
          "KOFFER_ESCROW_PASSPHRASE",
          "escrow key",
        );
        const { readPkcs12 } = await import("../pki/pkcs12.js");
        let key;
        try {
          key = readPkcs12(await readFile(o.keyP12), pass).key;
        } catch (err) {
          throw new InputError(`${o.keyP12}: ${(err as Error).message}`);
        }
        const { openEscrow } = await import("../pki/escrow.js");
        let secret: Buffer;
        try {
          secret = openEscrow(await readFile(file, "utf8"), key);
        } catch (err) {
          throw new VerificationError("E_ESCROW", `${file}: ${(err as Error).message}`);
        }
        context.io.stdout.write(secret.toString("utf8") + "\n");
        secret.fill(0);
        return 0;
      }),
    );
}
