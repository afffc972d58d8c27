/**
 * What an installed strongSwan can do, from the plugins charon loads. Debian splits the
 * plugins over several packages: libstrongswan has only AES-CBC, SHA-2/HMAC, MODP (gmp) and
 * RSA; ECDSA keys, the ECP and Brainpool groups and AES-GCM come from the openssl and gcm
 * plugins in libstrongswan-standard-plugins. Without them charon cannot parse an ECDSA
 * P-384 certificate or negotiate `aes256gcm16-prfsha384-ecp384` — the configuration looks
 * right and the tunnel never comes up. Pure data and functions (checks and provisioning
 * share them).
 */
import type { VpnKeyType } from "./types.js";

/** The Debian package shipping each plugin (bookworm and trixie agree for these). */
export const pluginPackage: Readonly<Record<string, string>> = {
  aes: "libstrongswan",
  gmp: "libstrongswan",
  hmac: "libstrongswan",
  sha2: "libstrongswan",
  xcbc: "libstrongswan",
  x509: "libstrongswan",
  pem: "libstrongswan",
  pkcs1: "libstrongswan",
  pkcs8: "libstrongswan",
  openssl: "libstrongswan-standard-plugins",
  gcm: "libstrongswan-standard-plugins",
  ccm: "libstrongswan-extra-plugins",
  ctr: "libstrongswan-extra-plugins",
  cmac: "libstrongswan-extra-plugins",
};

/**
 * Plugins no Debian release packages, with what to install instead (for messages only —
 * never handed to apt). strongSwan ≥ 6.0's ml plugin (ML-KEM): neither Debian 12 (5.9.8) nor
 * Debian 13 (6.0.1) packages it, and their openssl plugin has no ML-KEM (upstream: only with
 * AWS-LC).
 */
export const unpackagedPlugin: Readonly<Record<string, string>> = {
  ml: "strongswan ≥ 6.0 built with the ml plugin (not in Debian 12 or 13)",
};

/** What one need is: a proposal keyword or a key type, and the plugins that provide it. */
export interface PluginNeed {
  /** The keyword or key type as the profile or swanctl.conf names it. */
  what: string;
  /** Any one of these plugins provides it. */
  anyOf: string[];
}

/** The plugins that can provide one proposal keyword; null when not judged (unknown keyword). */
export function pluginsForToken(raw: string): string[] | null {
  const token = raw.toLowerCase().replace(/^ke[1-7]_/, "");
  if (/^aes(128|192|256)?gcm(8|12|16|64|96|128)?$/.test(token)) return ["gcm", "openssl"];
  if (/^aes(128|192|256)?ccm(8|12|16|64|96|128)?$/.test(token)) return ["ccm", "openssl"];
  if (/^aes(128|192|256)?ctr$/.test(token)) return ["ctr", "openssl"];
  if (/^aes(128|192|256)?$/.test(token)) return ["aes", "openssl"];
  if (/^(prf)?(sha256|sha384|sha512|sha2_(256|384|512))$/.test(token)) return ["hmac", "openssl"];
  if (/^(prf)?aesxcbc$/.test(token)) return ["xcbc"];
  if (/^(prf)?aescmac$/.test(token)) return ["cmac"];
  if (/^ecp(256|384|521)$/.test(token) || /^ecp(224|256|384|512)bp$/.test(token))
    return ["openssl"];
  if (/^modp\d+$/.test(token)) return ["gmp", "openssl"];
  // strongSwan 6's ml plugin (botan, wolfssl and AWS-LC-openssl too, none packaged by Debian).
  if (/^mlkem(512|768|1024)$/.test(token)) return ["ml"];
  return null;
}

/** The plugins that can load and use a certificate key of this type. */
export function pluginsForKey(key: VpnKeyType | "ec" | "rsa"): string[] {
  return key.startsWith("ec") ? ["openssl"] : ["gmp", "openssl"];
}

/** Every need of a set of proposals, one entry per distinct keyword. */
export function proposalNeeds(proposals: string[]): PluginNeed[] {
  const out = new Map<string, PluginNeed>();
  for (const proposal of proposals)
    for (const token of proposal.split("-")) {
      const anyOf = pluginsForToken(token);
      if (anyOf !== null && !out.has(token)) out.set(token, { what: token, anyOf });
    }
  return [...out.values()];
}

/** The Debian package for a need (that of its first packaged plugin); null when Debian has none. */
export function debianPackageFor(need: PluginNeed): string | null {
  const plugin = need.anyOf.find((p) => pluginPackage[p] !== undefined);
  if (plugin !== undefined) return pluginPackage[plugin] ?? null;
  return need.anyOf.some((p) => unpackagedPlugin[p] !== undefined) ? null : "strongswan";
}

/** What to install for a need, as a message names it: the package, or what Debian lacks. */
export function packageFor(need: PluginNeed): string {
  const plugin = need.anyOf.find((p) => unpackagedPlugin[p] !== undefined) ?? "";
  return debianPackageFor(need) ?? unpackagedPlugin[plugin] ?? "strongswan";
}

/** The strongSwan plugin packages a profile's proposals and key type need (for provisioning). */
export function requiredPluginPackages(
  proposals: { ike: string[]; esp: string[] },
  key: VpnKeyType,
): string[] {
  const needs = [
    ...proposalNeeds([...proposals.ike, ...proposals.esp]),
    { what: key, anyOf: pluginsForKey(key) },
  ];
  // A plugin Debian does not package is no package name for apt (VPN-01 names what is missing).
  const packages = needs.map(debianPackageFor).filter((p): p is string => p !== null);
  return [...new Set(packages)].filter((p) => p !== "libstrongswan").sort();
}
