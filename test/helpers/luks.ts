/**
 * LUKS image files made with the real cryptsetup, for the disk gatherer and the checks.
 *
 * Formatting uses `--pbkdf-force-iterations 4 --pbkdf-memory 32768` so an image takes
 * milliseconds, not seconds. Images are sparse files and cached by their options in
 * `$TMPDIR/run-cache-luks/` — the run's own TMPDIR, removed at its end by
 * test/setup/tmp-guard.ts — (built under a temporary name and renamed into place, so
 * parallel test files never see a half-made image). Treat returned images as read-only;
 * pass `copyTo` for one you may change.
 *
 * Token JSON follows what systemd-cryptenroll writes (systemd v252, Debian 12):
 * src/shared/tpm2-util.c `tpm2_make_luks2_json` — type, keyslots, tpm2-blob, tpm2-pcrs,
 * tpm2-pcr-bank, tpm2-primary-alg, tpm2-policy-hash, tpm2-pin; and
 * src/cryptenroll/cryptenroll-recovery.c — `{"type":"systemd-recovery","keyslots":[…]}`.
 * The blob and policy hash are placeholders: nothing here unseals them.
 */
import { createHash } from "node:crypto";
import { copyFile, mkdir, rename, rm, stat, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";

export type Pbkdf = "argon2id" | "argon2i" | "pbkdf2";

export type TokenSpec =
  | { type: "systemd-tpm2"; pin?: boolean; pcrs?: number[] }
  | { type: "systemd-recovery" }
  | { type: "systemd-fido2" }
  | { type: string; json?: Record<string, unknown> };

export interface LuksImageOptions {
  version?: 1 | 2;
  cipher?: string; // default aes-xts-plain64
  keyBits?: 256 | 512; // default 512
  /** PBKDF of the first (passphrase) keyslot. LUKS1 is always pbkdf2. */
  pbkdf?: Pbkdf;
  /** Further keyslots, each with its PBKDF and optionally a token bound to it. */
  extraKeyslots?: { pbkdf?: Pbkdf; token?: TokenSpec }[];
  /** Tokens bound to no keyslot (unusual; for damaged-inventory cases). */
  looseTokens?: TokenSpec[];
  /** Fixed UUID; by default one derived from the options (stable across runs). */
  uuid?: string;
  /** Copy the cached image here and return the copy (for tests that change it). */
  copyTo?: string;
}

export interface LuksImage {
  path: string;
  uuid: string;
  /** Passphrase of keyslot 0 (test-only). */
  passphrase: string;
}

const fast = ["--pbkdf-force-iterations", "4", "--pbkdf-memory", "32768"];
const fastLuks1 = ["--pbkdf-force-iterations", "1000"]; // LUKS1 refuses fewer than 1000
export const testPassphrase = "koffer-test-passphrase";

function uuidFrom(hash: string): string {
  const h = hash.slice(0, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The token JSON systemd-cryptenroll would store for `spec` bound to `keyslot`. */
export function tokenJson(spec: TokenSpec, keyslot: string | null): Record<string, unknown> {
  const keyslots = keyslot === null ? [] : [keyslot];
  if (spec.type === "systemd-tpm2") {
    const s = spec as { pin?: boolean; pcrs?: number[] };
    return {
      type: "systemd-tpm2",
      keyslots,
      "tpm2-blob": Buffer.alloc(64, 7).toString("base64"),
      "tpm2-pcrs": s.pcrs ?? [7],
      "tpm2-pcr-bank": "sha256",
      "tpm2-primary-alg": "ecc",
      "tpm2-policy-hash": "ab".repeat(32),
      "tpm2-pin": s.pin ?? true,
    };
  }
  const extra = "json" in spec && spec.json ? spec.json : {};
  return { ...extra, type: spec.type, keyslots };
}

async function cryptsetup(args: string[], input?: string): Promise<void> {
  await execa("cryptsetup", args, { input, env: { LC_ALL: "C" } });
}

async function build(path: string, o: LuksImageOptions, uuid: string): Promise<void> {
  const version = o.version ?? 2;
  await writeFile(path, "");
  await truncate(path, version === 2 ? 20 * 1024 * 1024 : 4 * 1024 * 1024);
  const common = [
    "--batch-mode",
    `--type=luks${version}`,
    `--cipher=${o.cipher ?? "aes-xts-plain64"}`,
    `--key-size=${o.keyBits ?? 512}`,
    `--uuid=${uuid}`,
    "--key-file=-",
  ];
  const kdf = (pbkdf: Pbkdf | undefined) =>
    version === 1
      ? fastLuks1
      : [
          `--pbkdf=${pbkdf ?? "argon2id"}`,
          ...(pbkdf === "pbkdf2" ? ["--pbkdf-force-iterations", "1000"] : fast),
        ];
  await cryptsetup(["luksFormat", ...common, ...kdf(o.pbkdf), path], testPassphrase);
  const keyFile = `${path}.key`;
  await writeFile(keyFile, testPassphrase);
  try {
    let slot = 1;
    for (const extra of o.extraKeyslots ?? []) {
      await cryptsetup(
        [
          "luksAddKey",
          "--batch-mode",
          `--key-file=${keyFile}`,
          `--key-slot=${slot}`,
          ...kdf(extra.pbkdf),
          path,
          "-",
        ],
        `${testPassphrase}-${slot}`,
      );
      if (extra.token) {
        await cryptsetup(
          ["token", "import", path],
          JSON.stringify(tokenJson(extra.token, String(slot))),
        );
      }
      slot++;
    }
    for (const token of o.looseTokens ?? []) {
      await cryptsetup(["token", "import", path], JSON.stringify(tokenJson(token, null)));
    }
  } finally {
    await rm(keyFile, { force: true });
  }
}

/** Make (or reuse from the cache) a LUKS image with these properties. */
export async function makeLuksImage(options: LuksImageOptions = {}): Promise<LuksImage> {
  const { copyTo, ...shape } = options;
  const hash = createHash("sha256").update(JSON.stringify(shape)).digest("hex");
  const uuid = shape.uuid ?? uuidFrom(hash);
  const dir = join(tmpdir(), "run-cache-luks");
  await mkdir(dir, { recursive: true });
  const cached = join(dir, `${hash.slice(0, 16)}.img`);
  const exists = await stat(cached).then(
    () => true,
    () => false,
  );
  if (!exists) {
    const temp = `${cached}.${process.pid}.tmp`;
    try {
      await build(temp, shape, uuid);
      await rename(temp, cached);
    } finally {
      await rm(temp, { force: true });
    }
  }
  if (copyTo) {
    await copyFile(cached, copyTo);
    return { path: copyTo, uuid, passphrase: testPassphrase };
  }
  return { path: cached, uuid, passphrase: testPassphrase };
}
