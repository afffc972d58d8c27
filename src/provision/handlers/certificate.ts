/**
 * The VPN client certificate during provisioning (VPN-03/04), through the same library
 * functions as `koffer cert request|sign|install`:
 *
 * - with the municipality CA at hand (`--ca-p12`), the key is generated on the target
 *   (written 0600 below /etc/swanctl/private, never leaving it), the request is signed on
 *   the spot and the certificate installed after its chain to the CA is checked;
 * - without it, only the key and the CSR are written (/etc/swanctl/x509req/NAME.csr.pem);
 *   VPN-03/04 stay failing until the signed certificate is installed with `koffer cert install`.
 */
import { X509Certificate } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { IncompleteError } from "../../errors.js";
import {
  SWANCTL,
  certPaths,
  certificateStatus,
  installCertificate,
  requestCertificate,
  signRequest,
} from "../../pki/lifecycle.js";
import type { Target } from "../../targets/types.js";
import type { ChangeHandler, ChangeOutcome, RunContext } from "../apply.js";
import type { Change } from "../types.js";
import type { HandlerState } from "./context.js";

/** Target paths of a credential, for backups (certPaths gives host paths below a root). */
function targetPaths(name: string) {
  const p = certPaths("/", name);
  return [p.key, p.cert, p.csr, p.pendingKey];
}

export function certificateHandler(state: HandlerState, now: () => Date): ChangeHandler {
  return async (change: Change, target: Target, run: RunContext): Promise<ChangeOutcome> => {
    if (change.kind !== "vpn-certificate") throw new Error("unreachable");
    const issue = async (root: string): Promise<ChangeOutcome> => {
      const vpn = state.options.profile.spec.vpn;
      const ca = state.options.ca;
      const profileCa =
        vpn.caCertificate === undefined ? undefined : await readFile(vpn.caCertificate, "utf8");
      const caCertPem = ca?.certPem ?? profileCa;
      const at = now();
      const status = await certificateStatus({
        root,
        name: change.name,
        ...(caCertPem === undefined ? {} : { caCertPem }),
        renewBeforeDays: vpn.certificate.renewBeforeDays,
        now: at,
      });
      if (
        status.installed &&
        status.keyMatches === true &&
        status.chain.valid === true &&
        !status.renewDue &&
        status.keyMode === "0600"
      )
        return "unchanged";
      const hostname =
        state.options.hostname ?? ((await target.readText("/etc/hostname"))?.trim() || "koffer");
      if (ca === undefined) {
        if (status.pendingRequest && status.keyMode !== null) {
          state.notes.push({
            resource: "vpn",
            kind: "certificate-request",
            message: `certificate request waiting for the CA: ${certPaths("/", change.name).csr} (sign it with \`koffer cert sign\`, then \`koffer cert install\`)`,
            path: certPaths("/", change.name).csr,
          });
          return "unchanged";
        }
      }
      for (const path of targetPaths(change.name)) await run.backup(path);
      const request = await requestCertificate({
        root,
        name: change.name,
        subjectTemplate: vpn.certificate.subject,
        hostname,
        keyType: vpn.certificate.key,
      });
      const csrPath = certPaths("/", change.name).csr;
      if (ca === undefined) {
        state.notes.push({
          resource: "vpn",
          kind: "certificate-request",
          message: `certificate request written to ${csrPath} (${request.subject}); VPN-03/04 stay failing until \`koffer cert install\``,
          path: csrPath,
        });
        return "applied";
      }
      if (
        profileCa !== undefined &&
        new X509Certificate(profileCa).fingerprint256 !==
          new X509Certificate(ca.certPem).fingerprint256
      )
        throw new IncompleteError(
          "E_CA_MISMATCH",
          "the CA in --ca-p12 is not the profile's vpn.caCertificate",
        );
      const certPem = signRequest({
        csrPem: request.csrPem,
        csrFile: csrPath,
        caCertPem: ca.certPem,
        caKey: ca.key,
        validityDays: vpn.certificate.validityDays,
        now: at,
      });
      await installCertificate({
        root,
        name: change.name,
        certPem,
        caCertPem: ca.certPem,
        now: at,
      });
      return "applied";
    };
    const hostRoot = target.hostPath("/");
    // Over ssh the credential files are staged in a private tmpfs directory, handled by the
    // same library functions, and the changed ones written back atomically (0600 keys).
    return hostRoot === null ? withStagedCredentials(target, change.name, issue) : issue(hostRoot);
  };
}

/**
 * Mirror one credential's files (key, certificate, request, pending key) from the target into
 * a fresh 0700 directory on a tmpfs (/run) where one exists, run `fn` on it as a root, write
 * back what changed (and remove what `fn` removed), and delete the directory. The key thus
 * exists on the technician's machine only in memory-backed storage, for the run.
 */
async function withStagedCredentials<T>(
  target: Target,
  name: string,
  fn: (root: string) => Promise<T>,
): Promise<T> {
  const stage = await mkdtemp(join("/run", "koffer-cred-")).catch(() =>
    mkdtemp(join(tmpdir(), "koffer-cred-")),
  );
  const p = certPaths("/", name);
  const before = new Map<string, { bytes: Buffer; mode: number }>();
  try {
    for (const path of [p.key, p.cert, p.csr, p.pendingKey]) {
      const info = await target.stat(path);
      const bytes = info?.type === "file" ? await target.readFile(path) : null;
      if (info === null || bytes === null) continue;
      before.set(path, { bytes, mode: info.mode });
      await mkdir(join(stage, dirname(path)), { recursive: true, mode: 0o700 });
      await writeFile(join(stage, path), bytes, { mode: info.mode });
    }
    const result = await fn(stage);
    for (const file of await walk(join(stage, SWANCTL))) {
      const path = file.slice(stage.length);
      const bytes = await readFile(file);
      const mode = (await stat(file)).mode & 0o7777;
      const old = before.get(path);
      if (old !== undefined && old.bytes.equals(bytes) && old.mode === mode) continue;
      const dirMode = (await stat(dirname(file))).mode & 0o7777;
      await target.mkdirp(dirname(path), dirMode);
      await target.writeFileAtomic(path, bytes, { mode, uid: 0, gid: 0 });
    }
    for (const path of before.keys()) {
      if (!existsSync(join(stage, path))) await target.remove(path);
    }
    return result;
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}

async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const files: string[] = [];
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) files.push(...(await walk(path)));
    else if (e.isFile()) files.push(path);
  }
  return files;
}
