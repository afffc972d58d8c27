import type { Command } from "commander";
import { action, type CliContext } from "./context.js";

export function register(program: Command, context: CliContext): void {
  const ca = program.command("ca").description("a test CA for demos and tests");
  ca.command("init")
    .description(
      "make a test CA (subject says NICHT PRODUKTIV): test-ca.pem, test-ca.p12 and test-ca.pass (0600)",
    )
    .requiredOption("--out-dir <dir>", "where to write the CA")
    .option("--name <name>", "common name", "KOFFER TEST VPN CA")
    .option("--key <type>", "ecdsa-p256, ecdsa-p384, rsa-3072 or rsa-4096", "ecdsa-p384")
    .action(
      action(context, async (o: { outDir: string; name: string; key: string }) => {
        const { UsageError } = await import("../errors.js");
        if (!["ecdsa-p256", "ecdsa-p384", "rsa-3072", "rsa-4096"].includes(o.key)) {
          throw new UsageError(`--key must be ecdsa-p256, ecdsa-p384, rsa-3072 or rsa-4096`);
        }
        const { createTestCa } = await import("../pki/lifecycle.js");
        const r = await createTestCa({
          outDir: o.outDir,
          name: o.name,
          keyType: o.key as "ecdsa-p256" | "ecdsa-p384" | "rsa-3072" | "rsa-4096",
        });
        context.io.stdout.write(
          `certificate: ${r.certPath}\nPKCS#12:     ${r.p12Path}\npassphrase:  ${r.passphrasePath} (mode 0600)\n`,
        );
        return 0;
      }),
    );
}
