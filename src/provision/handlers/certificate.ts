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
import { readFile } from "node:fs/promises";
import { IncompleteError } from "../../errors.js";
import {
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
    const root = target.hostPath("/");
    if (root === null)
      throw new IncompleteError("E_SSH_UNSUPPORTED", "certificates over ssh are not supported");
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
}
