/**
 * Test certificates made with the real openssl, the independent oracle for koffer's PKI.
 * One CA maker and one leaf issuer serve every test PKI (VPN checks, report signing).
 */
import { execa } from "execa";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";

export async function openssl(dir: string, args: string[]): Promise<void> {
  await execa("openssl", args, { cwd: dir, env: { LC_ALL: "C" } });
}

/** A self-signed CA `<name>.pem` with its unencrypted key `<name>.key` in `dir`. */
export async function makeCa(
  dir: string,
  name: string,
  subject: string,
  options: { curve?: "P-256" | "P-384" } = {},
): Promise<void> {
  await openssl(dir, [
    "req",
    "-x509",
    "-new",
    "-newkey",
    "ec",
    "-pkeyopt",
    `ec_paramgen_curve:${options.curve ?? "P-384"}`,
    "-nodes",
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.pem`,
    "-subj",
    subject,
    "-days",
    "3650",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
}

export interface IssueOptions {
  /** The issuing CA's file stem (`<ca>.pem`, `<ca>.key`). */
  ca: string;
  /** File stem of the leaf: writes `<name>.csr`, `<name>.pem` (and `<name>.key` when generated). */
  name: string;
  subject: string;
  /** Extensions, openssl extfile syntax. */
  extensions: string;
  digest?: "sha256" | "sha384";
  days?: number;
  /** Use an existing `<name>.key` (with its passphrase) instead of generating a P-384 key. */
  existingKey?: { passphrase?: string };
}

/** A leaf certificate issued by `ca`. */
export async function issue(dir: string, options: IssueOptions): Promise<void> {
  await writeFile(join(dir, `${options.name}.ext`), options.extensions);
  const key = options.existingKey
    ? [
        "-key",
        `${options.name}.key`,
        ...(options.existingKey.passphrase
          ? ["-passin", `pass:${options.existingKey.passphrase}`]
          : []),
      ]
    : [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-384",
        "-nodes",
        "-keyout",
        `${options.name}.key`,
      ];
  await openssl(dir, [
    "req",
    "-new",
    ...key,
    "-out",
    `${options.name}.csr`,
    "-subj",
    options.subject,
  ]);
  await openssl(dir, [
    "x509",
    "-req",
    "-in",
    `${options.name}.csr`,
    "-CA",
    `${options.ca}.pem`,
    "-CAkey",
    `${options.ca}.key`,
    "-CAcreateserial",
    "-days",
    String(options.days ?? 365),
    `-${options.digest ?? "sha384"}`,
    "-extfile",
    `${options.name}.ext`,
    "-out",
    `${options.name}.pem`,
  ]);
}
