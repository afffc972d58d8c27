/**
 * The municipality VPN CA a profile names (`spec.vpn.caCertificate`): read once by the
 * command, handed to checks (VPN-04/05 pin and chain against it) and to the planner
 * (which installs it), because checks and planners never read files themselves.
 */
import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { InputError } from "../errors.js";
import type { Profile } from "./types.js";

export interface VpnCa {
  pem: string;
  /** SHA-256 fingerprint, lower-case hex without colons. */
  sha256: string;
  /** Subject as "CN=…, O=…, C=DE". */
  subject: string;
}

/** The profile's VPN CA certificate, or null when the profile names none; unreadable → exit 78. */
export async function readVpnCa(profile: Profile): Promise<VpnCa | null> {
  const file = profile.spec.vpn.caCertificate;
  if (file === undefined) return null;
  try {
    const pem = await readFile(file, "utf8");
    const cert = new X509Certificate(pem);
    return {
      pem,
      sha256: cert.fingerprint256.replace(/:/g, "").toLowerCase(),
      subject: cert.subject.split("\n").reverse().join(", "),
    };
  } catch (error) {
    throw new InputError(
      `${file}: cannot read the VPN CA certificate: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
