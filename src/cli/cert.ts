import type { Command } from "commander";
import { action, type CliContext, type CliIo } from "./context.js";
import { readPassphrase } from "./passphrase.js";

// Passphrases come from a file, the environment or a prompt that does not echo — never argv.
export { readPassphrase };

// pki modules are imported inside the actions so `koffer --help` stays fast.

interface CaOptions {
  caP12?: string;
  caPassphraseFile?: string;
  caCert?: string;
  caKey?: string;
}

async function loadCa(
  io: CliIo,
  o: CaOptions,
): Promise<{ caCertPem: string; caKey: import("node:crypto").KeyObject }> {
  const { readFile } = await import("node:fs/promises");
  const { UsageError, InputError } = await import("../errors.js");
  if (o.caP12) {
    const { readPkcs12 } = await import("../pki/pkcs12.js");
    const pass = await readPassphrase(io, o.caPassphraseFile, "KOFFER_CA_PASSPHRASE", "CA");
    try {
      const p12 = readPkcs12(await readFile(o.caP12), pass);
      if (!p12.certificates[0]) throw new Error("no certificate in the PKCS#12 file");
      return { caCertPem: p12.certificates[0], caKey: p12.key };
    } catch (err) {
      throw new InputError(`${o.caP12}: ${(err as Error).message}`);
    }
  }
  if (o.caCert && o.caKey) {
    const { createPrivateKey } = await import("node:crypto");
    const keyPem = await readFile(o.caKey, "utf8");
    const encrypted = /ENCRYPTED/.test(keyPem);
    const passphrase = encrypted
      ? await readPassphrase(io, o.caPassphraseFile, "KOFFER_CA_PASSPHRASE", "CA key")
      : undefined;
    try {
      const caKey = createPrivateKey(
        passphrase === undefined ? { key: keyPem } : { key: keyPem, passphrase },
      );
      return { caCertPem: await readFile(o.caCert, "utf8"), caKey };
    } catch {
      throw new InputError(
        `${o.caKey}: cannot read the CA private key (wrong passphrase or format)`,
      );
    }
  }
  throw new UsageError("give the CA as --ca-p12 FILE, or --ca-cert PEM with --ca-key PEM");
}

async function loadVpnSpec(profile: string | undefined) {
  if (!profile) return null;
  const { loadProfileOrThrow } = await import("../profiles/loader.js");
  return (await loadProfileOrThrow(profile)).spec.vpn;
}

async function hostnameOf(root: string, given: string | undefined): Promise<string> {
  if (given) return given;
  const { readFile, realpath } = await import("node:fs/promises");
  const { resolveInRoot } = await import("../targets/root.js");
  try {
    // Resolved inside the root: an image's /etc/hostname linked out must not put a host
    // file's first line into the certificate subject.
    const path = await resolveInRoot(await realpath(root), "/etc/hostname");
    const h = (await readFile(path, "utf8")).trim();
    if (h) return h;
  } catch {
    // fall back to this machine's name
  }
  return (await import("node:os")).hostname();
}

export function register(program: Command, context: CliContext): void {
  const { io } = context;
  const out = (s: string) => io.stdout.write(s + "\n");
  const cert = program
    .command("cert")
    .description("VPN client certificate: request, sign, install, status, renew, verify");

  cert
    .command("request")
    .description(
      "generate the key (0600, root only) and a PKCS#10 request with the profile's subject",
    )
    .requiredOption("--profile <file>", "profile (spec.vpn.certificate)")
    .option("--root <dir>", "target root", "/")
    .option("--hostname <name>", "value for {hostname} (default: the target's /etc/hostname)")
    .option(
      "--name <name>",
      "credential name in /etc/swanctl (default: the device's hostname, as provision names it)",
    )
    .action(
      action(
        context,
        async (o: { profile: string; root: string; hostname?: string; name?: string }) => {
          const spec = (await loadVpnSpec(o.profile))!;
          const { requestCertificate } = await import("../pki/lifecycle.js");
          const r = await requestCertificate({
            root: o.root,
            name: await credentialName(o.root, o.name),
            subjectTemplate: spec.certificate.subject,
            hostname: await hostnameOf(o.root, o.hostname),
            keyType: spec.certificate.key,
          });
          out(`key:     ${r.keyPath} (${spec.certificate.key}, mode 0600)`);
          out(`request: ${r.csrPath}`);
          out(`subject: ${r.subject}`);
          return 0;
        },
      ),
    );

  cert
    .command("sign")
    .description(
      "sign a request with the municipality CA (refuses requests that violate TR-02102: exit 78)",
    )
    .argument("<csr>", "PKCS#10 request (PEM)")
    .option("--ca-p12 <file>", "CA key and certificate as PKCS#12")
    .option("--ca-passphrase-file <file>", "passphrase (else KOFFER_CA_PASSPHRASE, else prompt)")
    .option("--ca-cert <pem>", "CA certificate (with --ca-key)")
    .option("--ca-key <pem>", "CA private key")
    .option("--profile <file>", "take validityDays from this profile")
    .option("--days <n>", "validity in days (default: profile, else 365)")
    .requiredOption("--out <file>", "where to write the certificate")
    .action(
      action(
        context,
        async (
          csrFile: string,
          o: CaOptions & { profile?: string; days?: string; out: string },
        ) => {
          const { readFile } = await import("node:fs/promises");
          const { UsageError } = await import("../errors.js");
          const spec = await loadVpnSpec(o.profile);
          const days =
            o.days !== undefined ? Number(o.days) : (spec?.certificate.validityDays ?? 365);
          if (!Number.isInteger(days) || days < 1)
            throw new UsageError(`--days must be a positive integer: ${o.days}`);
          const csrPem = await readFile(csrFile, "utf8");
          const ca = await loadCa(io, o);
          const { signRequest, writeFileAtomic } = await import("../pki/lifecycle.js");
          const pem = signRequest({
            csrPem,
            csrFile,
            caCertPem: ca.caCertPem,
            caKey: ca.caKey,
            validityDays: days,
          });
          await writeFileAtomic(o.out, pem, 0o644);
          const { summarise } = await import("../pki/certificate.js");
          const { certificateFromPem } = await import("../pki/build.js");
          const s = summarise(certificateFromPem(pem));
          out(`certificate: ${o.out}`);
          out(`subject:     ${s.subject}`);
          out(`serial:      ${s.serial}`);
          out(`valid:       ${s.notBefore} – ${s.notAfter}`);
          return 0;
        },
      ),
    );

  cert
    .command("install")
    .description("install a signed certificate next to its key (checks key and chain)")
    .argument("<cert>", "certificate (PEM)")
    .option("--root <dir>", "target root", "/")
    .option(
      "--name <name>",
      "credential name in /etc/swanctl (default: the device's hostname, as provision names it)",
    )
    .option("--profile <file>", "check the chain against the profile's CA")
    .option("--ca <pem>", "check the chain against this CA")
    .action(
      action(
        context,
        async (
          certFile: string,
          o: { root: string; name?: string; profile?: string; ca?: string },
        ) => {
          const { readFile } = await import("node:fs/promises");
          const spec = await loadVpnSpec(o.profile);
          const caFile = o.ca ?? spec?.caCertificate;
          const { installCertificate } = await import("../pki/lifecycle.js");
          const r = await installCertificate({
            root: o.root,
            name: await credentialName(o.root, o.name),
            certPem: await readFile(certFile, "utf8"),
            ...(caFile ? { caCertPem: await readFile(caFile, "utf8") } : {}),
          });
          out(`installed: ${r.certPath}`);
          out(`key:       ${r.keyPath}`);
          for (const b of r.backup) out(`backup:    ${b}`);
          return 0;
        },
      ),
    );

  cert
    .command("status")
    .description("the installed certificate: subject, issuer, key, validity, days left, chain")
    .option("--root <dir>", "target root", "/")
    .option(
      "--name <name>",
      "credential name in /etc/swanctl (default: the device's hostname, as provision names it)",
    )
    .option("--profile <file>", "profile (CA and renewBeforeDays)")
    .option("--format <format>", "text or json", "text")
    .action(
      action(
        context,
        async (o: { root: string; name?: string; profile?: string; format: string }) => {
          const { readFile } = await import("node:fs/promises");
          const spec = await loadVpnSpec(o.profile);
          const { certificateStatus } = await import("../pki/lifecycle.js");
          const s = await certificateStatus({
            root: o.root,
            name: await credentialName(o.root, o.name),
            ...(spec?.caCertificate
              ? { caCertPem: await readFile(spec.caCertificate, "utf8") }
              : {}),
            ...(spec ? { renewBeforeDays: spec.certificate.renewBeforeDays } : {}),
          });
          const ok =
            s.installed &&
            s.keyMatches !== false &&
            s.chain.valid !== false &&
            (s.daysLeft ?? -1) >= 0;
          if (o.format === "json") {
            out(JSON.stringify(s, null, 2));
            return ok ? 0 : 1;
          }
          if (!s.installed || !s.certificate) {
            out(
              `no certificate installed at ${s.certPath}${s.pendingRequest ? " (a request is pending)" : ""}`,
            );
            return 1;
          }
          const c = s.certificate;
          out(`certificate: ${s.certPath}`);
          out(`subject:     ${c.subject}`);
          out(`issuer:      ${c.issuer}`);
          out(
            `key:         ${c.keyType}${c.curve ? ` ${c.curve}` : ` ${c.keyBits}`} (${s.keyPath}, mode ${s.keyMode ?? "missing"}${s.keyMatches === false ? ", DOES NOT MATCH" : ""})`,
          );
          out(
            `valid:       ${c.notBefore} – ${c.notAfter} (${s.daysLeft} days left${s.renewDue ? ", renewal due" : ""})`,
          );
          out(
            `chain:       ${s.chain.checked ? (s.chain.valid ? "valid to the profile CA" : `INVALID: ${s.chain.reason}`) : "not checked (no profile CA)"}`,
          );
          return ok ? 0 : 1;
        },
      ),
    );

  cert
    .command("renew")
    .description(
      "renew when within renewBeforeDays (or --force): new key by default, old pair kept as backup",
    )
    .requiredOption("--profile <file>", "profile")
    .option("--root <dir>", "target root", "/")
    .option(
      "--name <name>",
      "credential name in /etc/swanctl (default: the device's hostname, as provision names it)",
    )
    .option("--hostname <name>", "value for {hostname}")
    .option("--force", "renew even when not due")
    .option("--reuse-key", "keep the installed key")
    .option("--ca-p12 <file>", "sign and install at once with this CA")
    .option("--ca-passphrase-file <file>", "CA passphrase file")
    .option("--ca-cert <pem>", "CA certificate (with --ca-key)")
    .option("--ca-key <pem>", "CA private key")
    .action(
      action(
        context,
        async (
          o: CaOptions & {
            profile: string;
            root: string;
            name?: string;
            hostname?: string;
            force?: boolean;
            reuseKey?: boolean;
          },
        ) => {
          const { readFile } = await import("node:fs/promises");
          const spec = (await loadVpnSpec(o.profile))!;
          const lc = await import("../pki/lifecycle.js");
          const caPem = spec.caCertificate ? await readFile(spec.caCertificate, "utf8") : undefined;
          const s = await lc.certificateStatus({
            root: o.root,
            name: await credentialName(o.root, o.name),
            renewBeforeDays: spec.certificate.renewBeforeDays,
            ...(caPem ? { caCertPem: caPem } : {}),
          });
          if (s.installed && !s.renewDue && !o.force) {
            out(
              `not due: ${s.daysLeft} days left (renewBeforeDays ${spec.certificate.renewBeforeDays}); --force to renew anyway`,
            );
            return 0;
          }
          const r = await lc.requestCertificate({
            root: o.root,
            name: await credentialName(o.root, o.name),
            subjectTemplate: spec.certificate.subject,
            hostname: await hostnameOf(o.root, o.hostname),
            keyType: spec.certificate.key,
            reuseKey: Boolean(o.reuseKey),
          });
          out(`request: ${r.csrPath}`);
          out(`key:     ${r.keyPath} (mode 0600)`);
          if (!o.caP12 && !(o.caCert && o.caKey)) {
            out(
              "sign the request with `koffer cert sign`, then `koffer cert install` (the old pair stays until then)",
            );
            return 0;
          }
          const ca = await loadCa(io, o);
          const pem = lc.signRequest({
            csrPem: r.csrPem,
            csrFile: r.csrPath,
            caCertPem: ca.caCertPem,
            caKey: ca.caKey,
            validityDays: spec.certificate.validityDays,
          });
          const inst = await lc.installCertificate({
            root: o.root,
            name: await credentialName(o.root, o.name),
            certPem: pem,
            ...(caPem ? { caCertPem: caPem } : {}),
          });
          out(`installed: ${inst.certPath}`);
          for (const b of inst.backup) out(`backup:    ${b}`);
          return 0;
        },
      ),
    );

  cert
    .command("verify")
    .description(
      "RFC 5280 path validation: exit 0 valid, 1 invalid (with the reason), 78 unreadable input",
    )
    .argument("<cert>", "certificate to check (PEM)")
    .requiredOption("--ca <pem>", "trusted CA certificate(s)")
    .option("--chain <pem>", "intermediate certificates")
    .option("--crl <pem...>", "CRLs (PEM)")
    .option("--at <time>", "validation time (ISO 8601; default now)")
    .option("--purpose <purpose>", "client, server or any", "client")
    .option("--format <format>", "text or json", "text")
    .action(
      action(
        context,
        async (
          certFile: string,
          o: {
            ca: string;
            chain?: string;
            crl?: string[];
            at?: string;
            purpose: string;
            format: string;
          },
        ) => {
          const { readFile } = await import("node:fs/promises");
          const { InputError, UsageError } = await import("../errors.js");
          if (!["client", "server", "any"].includes(o.purpose))
            throw new UsageError(`--purpose must be client, server or any`);
          const at = o.at ? new Date(o.at) : new Date();
          if (Number.isNaN(at.getTime())) throw new UsageError(`--at is not a time: ${o.at}`);
          const read = async (f: string) => {
            try {
              return await readFile(f, "utf8");
            } catch (err) {
              throw new InputError(
                `${f}: cannot read (${(err as NodeJS.ErrnoException).code ?? "error"})`,
              );
            }
          };
          const { splitPemBundle } = await import("../pki/certificate.js");
          const leaf = await read(certFile);
          const ca = await read(o.ca);
          if (splitPemBundle(leaf).length === 0)
            throw new InputError(`${certFile}: no PEM certificate`);
          if (splitPemBundle(ca).length === 0) throw new InputError(`${o.ca}: no PEM certificate`);
          const crls: string[] = [];
          for (const f of o.crl ?? []) {
            const t = await read(f);
            if (splitPemBundle(t, "X509 CRL").length === 0)
              throw new InputError(`${f}: no PEM CRL`);
            crls.push(t);
          }
          const { verifyCertificatePath } = await import("../pki/path.js");
          const r = verifyCertificatePath({
            leaf,
            trustAnchors: [ca],
            intermediates: o.chain ? [await read(o.chain)] : [],
            crls,
            at,
            purpose: o.purpose as "client" | "server" | "any",
          });
          if (r.code === "E_PARSE") throw new InputError(`${certFile}: ${r.reason}`);
          if (o.format === "json") out(JSON.stringify(r, null, 2));
          else if (r.valid) {
            out(`${certFile}: OK`);
            for (const c of r.chain) out(`  ${c.subject}`);
          } else out(`${certFile}: INVALID: ${r.reason} [${r.code}]`);
          return r.valid ? 0 : 1;
        },
      ),
    );
}

/**
 * The credential name when `--name` is not given: the target's hostname under the one naming
 * rule provision uses, so `cert status` finds what provision installed.
 */
export async function credentialName(root: string, name: string | undefined): Promise<string> {
  if (name !== undefined) return name;
  const { credentialNameFor } = await import("../pki/lifecycle.js");
  const { resolve } = await import("node:path");
  if (resolve(root) === "/") return credentialNameFor((await import("node:os")).hostname());
  const { existsSync } = await import("node:fs");
  // A root that does not exist yet (or has no hostname) keeps the old default name.
  if (!existsSync(root)) return "koffer-client";
  const { openTarget } = await import("../targets/index.js");
  const target = await openTarget({ root, disks: [] });
  try {
    const hostname = (await target.readText("/etc/hostname"))?.trim();
    return hostname ? credentialNameFor(hostname) : "koffer-client";
  } finally {
    await target.close();
  }
}
