/**
 * What the ssh target tells OpenSSH, kept as data so it can be tested and documented:
 * the destination grammar, the BSI TR-02102-4 algorithm lists, and quoting for the remote shell.
 */
import { createHash } from "node:crypto";
import { UsageError } from "../errors.js";

/**
 * BSI TR-02102-4 (SSH), as far as OpenSSH implements it. Offered, in this order:
 * - key exchange: ECDH on NIST P-384/P-521/P-256 and the 4096-bit MODP group 16 with
 *   SHA-512. Not offered: curve25519 and sntrup761 (not listed in TR-02102-4), group14
 *   (2048 bits, below the TR's 3000), group-exchange (the server may pick 2048 bits), group18
 *   (not listed), and SHA-1 anything;
 * - ciphers: AES-GCM and AES-CTR; no ChaCha20-Poly1305 (not listed);
 * - MACs: HMAC-SHA-2 (encrypt-then-MAC first); none with SHA-1 or UMAC;
 * - host keys and user keys: ECDSA on NIST curves and RSA with SHA-2 signatures, also as
 *   OpenSSH certificates (for `@cert-authority` in known_hosts); no ssh-rsa (SHA-1), no
 *   Ed25519 (not listed).
 */
export const tr02102Ssh = {
  kex: [
    "ecdh-sha2-nistp384",
    "ecdh-sha2-nistp521",
    "ecdh-sha2-nistp256",
    "diffie-hellman-group16-sha512",
  ],
  ciphers: [
    "aes256-gcm@openssh.com",
    "aes128-gcm@openssh.com",
    "aes256-ctr",
    "aes192-ctr",
    "aes128-ctr",
  ],
  macs: [
    "hmac-sha2-512-etm@openssh.com",
    "hmac-sha2-256-etm@openssh.com",
    "hmac-sha2-512",
    "hmac-sha2-256",
  ],
  keys: [
    "ecdsa-sha2-nistp384-cert-v01@openssh.com",
    "ecdsa-sha2-nistp521-cert-v01@openssh.com",
    "ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "rsa-sha2-512-cert-v01@openssh.com",
    "rsa-sha2-256-cert-v01@openssh.com",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "ecdsa-sha2-nistp256",
    "rsa-sha2-512",
    "rsa-sha2-256",
  ],
} as const;

export interface SshDestination {
  user?: string;
  host: string;
  port?: number;
}

/** `user@host[:port]`, `host`, `user@[2001:db8::1]:2222`. Anything else is a usage error. */
export function parseDestination(text: string): SshDestination {
  const m =
    /^(?:([A-Za-z0-9._][A-Za-z0-9._-]*)@)?(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9._-]+))(?::(\d{1,5}))?$/.exec(
      text,
    );
  const host = m?.[2] ?? m?.[3];
  if (m === null || host === undefined || host.startsWith("-")) {
    throw new UsageError(
      `--ssh expects [USER@]HOST[:PORT] (an IPv6 address in brackets), found ${JSON.stringify(text)}`,
    );
  }
  const port = m[4] === undefined ? undefined : Number(m[4]);
  if (port !== undefined && (port < 1 || port > 65535)) {
    throw new UsageError(`--ssh: port ${port} is out of range 1–65535`);
  }
  return {
    ...(m[1] === undefined ? {} : { user: m[1] }),
    host,
    ...(port === undefined ? {} : { port }),
  };
}

/** `SHA256:` and 43 characters of unpadded base64, as `ssh-keygen -lf` prints it. */
export function parseFingerprint(text: string): string {
  const m = /^SHA256:([A-Za-z0-9+/]{43})=?$/.exec(text.trim());
  if (m === null) {
    throw new UsageError(
      `a host key fingerprint is SHA256: and 43 base64 characters (as \`ssh-keygen -lf\` prints it), found ${JSON.stringify(text)}`,
    );
  }
  return `SHA256:${m[1]}`;
}

/** The SHA256 fingerprint of a public key blob (the base64 field of a known_hosts line). */
export function fingerprintOf(keyBase64: string): string {
  return `SHA256:${createHash("sha256").update(Buffer.from(keyBase64, "base64")).digest("base64").replace(/=+$/, "")}`;
}

/** Quote one word for a POSIX shell (the login shell on the far side parses the command line). */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=,+@%-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
