/**
 * The VPN client certificate lifecycle on a target root: request, sign, install, status,
 * renew. Library functions for `koffer cert …` and for provisioning; they throw KofferErrors
 * and never print.
 *
 * Layout below the target root (swanctl(8) loads private/ and x509/ at `--load-creds`):
 *   /etc/swanctl/private/<name>.pem        the private key, PKCS#8 PEM, 0600 root. private/ takes
 *                                          any key type; rsa/ and ecdsa/ are legacy typed dirs.
 *   /etc/swanctl/x509/<name>.pem           the client certificate, 0644
 *   /etc/swanctl/x509req/<name>.csr.pem    the pending request (not read by swanctl)
 *   /etc/swanctl/koffer-pending/<name>.pem a renewal key waiting for its certificate, 0600
 *   /etc/swanctl/koffer-backup/<name>-<time>.{key,crt}.pem  the replaced pair, 0600
 */
import { randomBytes, type KeyObject } from "node:crypto";
import { chmod, mkdir, readFile, realpath, rename, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { writeHostFileAtomic } from "../targets/files.js";
import { resolveInRoot } from "../targets/root.js";
import { InputError, KofferError, ExitCode, VerificationError, type Problem } from "../errors.js";
import type { VpnKeyType } from "../profiles/types.js";
import {
  capNotAfter,
  certificateFromPem,
  createCsr,
  csrProblems,
  generateKey,
  issueCertificate,
  keyMatchesCertificate,
  parseCsr,
  readPrivateKey,
} from "./build.js";
import { summarise, type CertificateInfoLite } from "./certificate.js";
import { DerError } from "./der.js";
import { verifyCertificatePath } from "./path.js";

export const SWANCTL = "/etc/swanctl";

export interface CertPaths {
  key: string;
  cert: string;
  csr: string;
  pendingKey: string;
  backupDir: string;
}

/**
 * The one naming rule for a device's VPN credential files (/etc/swanctl/{x509,private}/NAME.pem):
 * its hostname, lower-case, anything but letters, digits, dot, dash and underscore replaced.
 * `provision` names the files it installs so, and the `cert` commands look for them so.
 */
export function credentialNameFor(hostname: string): string {
  const host = hostname
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9._-]/g, "-");
  return /^[a-z0-9]/.test(host) ? host : "koffer";
}

/** Where a named client credential lives below `root`. */
export function certPaths(root: string, name: string): CertPaths {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name))
    throw new KofferError("E_USAGE", `bad name: ${name}`, ExitCode.usage);
  const base = join(root, SWANCTL);
  return {
    key: join(base, "private", `${name}.pem`),
    cert: join(base, "x509", `${name}.pem`),
    csr: join(base, "x509req", `${name}.csr.pem`),
    pendingKey: join(base, "koffer-pending", `${name}.pem`),
    backupDir: join(base, "koffer-backup"),
  };
}

/**
 * {@link certPaths} with every path resolved INSIDE `root` (src/targets/root.ts
 * {@link resolveInRoot}): a symbolic link in the tree — `/etc/swanctl -> /etc`, a key file
 * linked to `../../../../root/.ssh/id_rsa` — is followed the way the booted laptop would,
 * never out to the host's files. Every read, write and removal below goes through these.
 */
export async function resolvedCertPaths(root: string, name: string): Promise<CertPaths> {
  const lexical = certPaths("/", name);
  const realRoot = await realpath(root).catch(() => root);
  const inside = (path: string) => resolveInRoot(realRoot, path);
  return {
    key: await inside(lexical.key),
    cert: await inside(lexical.cert),
    csr: await inside(lexical.csr),
    pendingKey: await inside(lexical.pendingKey),
    backupDir: await inside(lexical.backupDir),
  };
}

/**
 * Write a file atomically on the host (see {@link writeHostFileAtomic}: created with its final
 * mode, fsync, rename, fsync of the directory), creating its directory first.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  mode: number,
): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: mode & 0o077 ? 0o755 : 0o700 });
  await writeHostFileAtomic(path, typeof data === "string" ? data : Buffer.from(data), { mode });
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

export function renderSubject(template: string, hostname: string): string {
  return template.replaceAll("{hostname}", hostname);
}

export interface RequestOptions {
  root: string;
  name: string;
  subjectTemplate: string;
  hostname: string;
  keyType: VpnKeyType;
  /** Put the new key aside (renewal) instead of into private/. Default: when a certificate is installed. */
  pending?: boolean;
  /** Reuse the installed key instead of generating one. */
  reuseKey?: boolean;
}

export interface RequestResult {
  keyPath: string;
  csrPath: string;
  csrPem: string;
  subject: string;
}

/** Generate a key (node:crypto) and a PKCS#10 request; the key goes to disk 0600, never elsewhere. */
export async function requestCertificate(o: RequestOptions): Promise<RequestResult> {
  const p = await resolvedCertPaths(o.root, o.name);
  const subject = renderSubject(o.subjectTemplate, o.hostname);
  let key: KeyObject;
  let keyPath: string;
  if (o.reuseKey) {
    keyPath = p.key;
    key = readPrivateKey(await readFile(p.key, "utf8"));
  } else {
    const pending = o.pending ?? (await exists(p.cert));
    keyPath = pending ? p.pendingKey : p.key;
    key = (await generateKey(o.keyType)).privateKey;
    await writeFileAtomic(keyPath, key.export({ type: "pkcs8", format: "pem" }) as string, 0o600);
  }
  let csrPem: string;
  try {
    csrPem = createCsr(key, subject);
  } catch (err) {
    throw new InputError(`subject template cannot be encoded: ${(err as Error).message}`);
  }
  await writeFileAtomic(p.csr, csrPem, 0o644);
  return { keyPath, csrPath: p.csr, csrPem, subject };
}

export interface SignOptions {
  csrPem: string;
  /** Where the CSR came from, for messages. */
  csrFile?: string;
  caCertPem: string;
  caKey: KeyObject;
  validityDays: number;
  now?: Date;
}

/**
 * Sign a CSR as the CA: clientAuth, digitalSignature, CA:false, SKI/AKI, 128-bit random serial.
 * A CSR that violates TR-02102 is an InputError (exit 78), listing every problem.
 */
export function signRequest(o: SignOptions): string {
  const file = o.csrFile ?? "<csr>";
  const at = (message: string, rule: string): Problem => ({
    severity: "error",
    rule,
    message,
    path: "",
    position: { file, line: 1, column: 1 },
  });
  let csr;
  try {
    csr = parseCsr(o.csrPem);
  } catch (err) {
    throw new InputError(`${file}: not a PKCS#10 request`, [
      at(`not a PKCS#10 request: ${(err as Error).message}`, "csr/parse"),
    ]);
  }
  const problems = csrProblems(csr);
  if (problems.length > 0) {
    throw new InputError(
      `${file}: request refused (TR-02102)`,
      problems.map((m) => at(m, "tr02102/csr")),
    );
  }
  const ca = certificateFromPem(o.caCertPem);
  if (!keyMatchesCertificate(o.caKey, ca)) {
    throw new InputError("the CA key does not belong to the CA certificate");
  }
  const now = o.now ?? new Date();
  if (now > ca.notAfter)
    throw new VerificationError("E_CA_EXPIRED", "the CA certificate has expired");
  // Backdate a minute so a laptop clock slightly behind still accepts the new certificate.
  const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000 - 60_000);
  const notAfter = capNotAfter(notBefore, o.validityDays, ca.notAfter);
  return issueCertificate({
    subject: csr.subjectDer,
    spki: csr.spki,
    issuerCert: ca,
    issuerKey: o.caKey,
    notBefore,
    notAfter,
    kind: "client",
  });
}

export interface InstallOptions {
  root: string;
  name: string;
  certPem: string;
  /** The municipality CA; when given the certificate must chain to it for clientAuth. */
  caCertPem?: string;
  now?: Date;
}

export interface InstallResult {
  certPath: string;
  keyPath: string;
  backup: string[];
}

/** Install a signed certificate next to its key; a renewal's pending key takes over, the old pair is kept. */
export async function installCertificate(o: InstallOptions): Promise<InstallResult> {
  const p = await resolvedCertPaths(o.root, o.name);
  let cert;
  try {
    cert = certificateFromPem(o.certPem);
  } catch (err) {
    throw new InputError(`not a certificate: ${(err as DerError).message}`);
  }
  if (o.caCertPem) {
    const r = verifyCertificatePath({
      leaf: o.certPem,
      trustAnchors: [o.caCertPem],
      at: o.now ?? new Date(),
      purpose: "client",
    });
    if (!r.valid)
      throw new VerificationError(
        r.code ?? "E_CHAIN",
        `certificate does not chain to the CA: ${r.reason}`,
      );
  }
  const matchesFile = async (path: string) => {
    if (!(await exists(path))) return false;
    return keyMatchesCertificate(readPrivateKey(await readFile(path, "utf8")), cert);
  };
  const backup: string[] = [];
  if (await matchesFile(p.pendingKey)) {
    const stamp = (o.now ?? new Date()).toISOString().replace(/[:.]/g, "-");
    for (const [from, suffix] of [
      [p.key, "key"],
      [p.cert, "crt"],
    ] as const) {
      if (await exists(from)) {
        const to = join(p.backupDir, `${o.name}-${stamp}.${suffix}.pem`);
        await writeFileAtomic(to, await readFile(from), 0o600);
        backup.push(to);
      }
    }
    await mkdir(dirname(p.key), { recursive: true, mode: 0o700 });
    await chmod(p.pendingKey, 0o600);
    await rename(p.pendingKey, p.key);
  } else if (!(await matchesFile(p.key))) {
    throw new VerificationError(
      "E_KEY_MISMATCH",
      `the certificate does not belong to the key in ${p.key}`,
    );
  }
  await writeFileAtomic(p.cert, o.certPem, 0o644);
  await rm(p.csr, { force: true });
  return { certPath: p.cert, keyPath: p.key, backup };
}

export interface CertStatus {
  name: string;
  certPath: string;
  keyPath: string;
  installed: boolean;
  certificate: CertificateInfoLite | null;
  daysLeft: number | null;
  keyMode: string | null;
  keyMatches: boolean | null;
  chain: { checked: boolean; valid: boolean | null; reason: string | null };
  renewDue: boolean;
  pendingRequest: boolean;
}

export async function certificateStatus(o: {
  root: string;
  name: string;
  caCertPem?: string;
  renewBeforeDays?: number;
  now?: Date;
}): Promise<CertStatus> {
  const p = await resolvedCertPaths(o.root, o.name);
  const now = o.now ?? new Date();
  const status: CertStatus = {
    name: o.name,
    certPath: p.cert,
    keyPath: p.key,
    installed: false,
    certificate: null,
    daysLeft: null,
    keyMode: null,
    keyMatches: null,
    chain: { checked: false, valid: null, reason: null },
    renewDue: true,
    pendingRequest: await exists(p.csr),
  };
  if (await exists(p.key))
    status.keyMode = ((await stat(p.key)).mode & 0o777).toString(8).padStart(4, "0");
  if (!(await exists(p.cert))) return status;
  const pem = await readFile(p.cert, "utf8");
  const cert = certificateFromPem(pem);
  status.installed = true;
  status.certificate = summarise(cert);
  status.daysLeft = Math.floor((cert.notAfter.getTime() - now.getTime()) / 86_400_000);
  status.renewDue = status.daysLeft < (o.renewBeforeDays ?? 30);
  if (status.keyMode !== null) {
    try {
      status.keyMatches = keyMatchesCertificate(
        readPrivateKey(await readFile(p.key, "utf8")),
        cert,
      );
    } catch {
      status.keyMatches = false;
    }
  }
  if (o.caCertPem) {
    const r = verifyCertificatePath({
      leaf: pem,
      trustAnchors: [o.caCertPem],
      at: now,
      purpose: "client",
    });
    status.chain = { checked: true, valid: r.valid, reason: r.reason };
  }
  return status;
}

export interface TestCaResult {
  certPath: string;
  p12Path: string;
  passphrasePath: string;
  certPem: string;
}

/**
 * A test CA for demos and tests: the subject says it is not for production, 10 years at most
 * and never beyond 2035-12-31; PKCS#12 and passphrase file 0600.
 */
export async function createTestCa(o: {
  outDir: string;
  name?: string;
  /** Replace an existing CA in outDir (its key is lost for good). */
  force?: boolean;
  keyType?: VpnKeyType;
  now?: Date;
}): Promise<TestCaResult> {
  const label = o.name ?? "KOFFER TEST VPN CA";
  const subject = `CN=${testName(label)}, O=koffer (Test), C=DE`;
  const base = join(o.outDir, "test-ca");
  await refuseOverwrite([`${base}.p12`, `${base}.pem`, `${base}.pass`], o.force);
  const { privateKey, publicKey } = await generateKey(o.keyType ?? "ecdsa-p384");
  const now = o.now ?? new Date();
  const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000 - 60_000);
  const certPem = issueCertificate({
    subject,
    spki: new Uint8Array(publicKey.export({ type: "spki", format: "der" })),
    issuerCert: null,
    issuerKey: privateKey,
    notBefore,
    notAfter: capNotAfter(notBefore, 3650, null),
    kind: "ca",
    pathLen: 0,
  });
  const passphrase = randomBytes(18).toString("base64url");
  const { createPkcs12 } = await import("./pkcs12.js");
  await writeFileAtomic(`${base}.pem`, certPem, 0o644);
  await writeFileAtomic(
    `${base}.p12`,
    createPkcs12(privateKey, [certPem], passphrase, label),
    0o600,
  );
  await writeFileAtomic(`${base}.pass`, passphrase + "\n", 0o600);
  return {
    certPath: `${base}.pem`,
    p12Path: `${base}.p12`,
    passphrasePath: `${base}.pass`,
    certPem,
  };
}

/** A test name says TEST once and NICHT PRODUKTIV: "KOFFER TEST VPN CA – NICHT PRODUKTIV". */
export function testName(label: string): string {
  return /\bTEST\b/i.test(label)
    ? `${label} – NICHT PRODUKTIV`
    : `${label} – TEST – NICHT PRODUKTIV`;
}

/** A key is never replaced silently: existing files are an error unless `force`. */
async function refuseOverwrite(paths: string[], force: boolean | undefined): Promise<void> {
  if (force === true) return;
  for (const path of paths)
    if (await exists(path))
      throw new KofferError(
        "E_EXISTS",
        `${path} exists; koffer never replaces a key silently (use --force to replace it)`,
        ExitCode.usage,
      );
}

export interface TestSignerResult {
  certPath: string;
  keyPath: string;
  passphrasePath: string;
  certPem: string;
}

/**
 * Issue a document-signing certificate (for `koffer report sign`) from the test CA that
 * `koffer ca init` made in `caDir`. The key is written encrypted (PKCS#8, AES-256) with its
 * passphrase in a 0600 file beside it, as the CA's own PKCS#12 is. The subject says TEST.
 */
export async function issueTestSigner(o: {
  caDir: string;
  outDir: string;
  name: string;
  keyType?: VpnKeyType;
  days?: number;
  force?: boolean;
  now?: Date;
}): Promise<TestSignerResult> {
  const base = join(o.outDir, "signer");
  const paths = { cert: `${base}.pem`, key: `${base}.key`, pass: `${base}.pass` };
  await refuseOverwrite([paths.cert, paths.key, paths.pass], o.force);
  const caBase = join(o.caDir, "test-ca");
  const read = async (path: string) =>
    readFile(path).catch((error: NodeJS.ErrnoException) => {
      throw new InputError(
        `${path}: ${error.code ?? error.message} (make the CA with koffer ca init)`,
      );
    });
  const caPass = (await read(`${caBase}.pass`)).toString("utf8").trim();
  const { readPkcs12 } = await import("./pkcs12.js");
  let ca;
  try {
    ca = readPkcs12(await read(`${caBase}.p12`), caPass);
  } catch (error) {
    if (error instanceof DerError)
      throw new InputError(`${caBase}.p12: cannot open (${error.message})`);
    throw error;
  }
  const caPem = ca.certificates[0] as string;
  const caCert = certificateFromPem(caPem);
  const { privateKey, publicKey } = await generateKey(o.keyType ?? "ecdsa-p384");
  const now = o.now ?? new Date();
  const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000 - 60_000);
  const certPem = issueCertificate({
    subject: `CN=${testName(o.name)}, O=koffer (Test), C=DE`,
    spki: new Uint8Array(publicKey.export({ type: "spki", format: "der" })),
    issuerCert: caCert,
    issuerKey: ca.key,
    notBefore,
    notAfter: capNotAfter(notBefore, o.days ?? 730, caCert.notAfter),
    kind: "document",
  });
  const passphrase = randomBytes(18).toString("base64url");
  const keyPem = privateKey.export({
    type: "pkcs8",
    format: "pem",
    cipher: "aes-256-cbc",
    passphrase,
  }) as string;
  await writeFileAtomic(paths.key, keyPem, 0o600);
  await writeFileAtomic(paths.pass, passphrase + "\n", 0o600);
  await writeFileAtomic(paths.cert, certPem + caPem, 0o644);
  return { certPath: paths.cert, keyPath: paths.key, passphrasePath: paths.pass, certPem };
}
