/**
 * Security: keyslot decisions rest only on what the technician's own secrets prove (issue 14).
 *
 * An image (its /var/lib/koffer/escrow) and a LUKS header are data an attacker can write. A
 * planted pending marker, a planted `systemd-recovery` token or a planted `systemd-tpm2` token
 * with an escrow record must never make provision kill the keyslot the technician's
 * passphrase opens. Real cryptsetup on image files (fast PBKDF).
 */
import { execa } from "execa";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadProfileOrThrow } from "../../src/profiles/loader.js";
import type { Profile } from "../../src/profiles/types.js";
import { applyChanges } from "../../src/provision/apply.js";
import { makeHandlers, opensSlot, readHeader } from "../../src/provision/handlers/index.js";
import type { Change } from "../../src/provision/types.js";
import { RootTarget } from "../../src/targets/root.js";
import { repoRoot } from "../helpers/cli.js";
import { makeLuksImage, testPassphrase } from "../helpers/luks.js";

let dir: string;
let profile: Profile;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "koffer-sec-keyslots-"));
  profile = await loadProfileOrThrow(join(repoRoot, "examples/meerane.yaml"));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const base = { resource: "disk", summary: "test", controls: ["DISK-05"] };

async function volume(name: string) {
  const image = await makeLuksImage({ pbkdf: "argon2id", copyTo: join(dir, `${name}.img`) });
  const root = join(dir, `${name}-root`);
  await mkdir(join(root, "var/lib/koffer/escrow"), { recursive: true });
  const target = await RootTarget.open({ root, disks: [image.path] });
  return { image, root, target };
}

async function importToken(device: string, token: object): Promise<void> {
  await execa("cryptsetup", ["token", "import", device], { input: JSON.stringify(token) });
}

function handlers() {
  return makeHandlers({ profile, passphrase: testPassphrase, pbkdfCost: "fast" }).handlers;
}

async function passphraseStillOpensSlot0(target: RootTarget, device: string): Promise<void> {
  expect(await opensSlot(target, device, testPassphrase, "0")).toBe(true);
  const header = await readHeader(target, device);
  expect(header.keyslots.map((k) => k.id)).toContain("0");
}

describe("security: planted keyslot claims", () => {
  it("a pending marker in the image naming the passphrase slot does not get it killed", async () => {
    const { image, root, target } = await volume("pending");
    await writeFile(join(root, `var/lib/koffer/escrow/${image.uuid}.pending`), "0\n");
    const report = await applyChanges(
      target,
      [
        {
          ...base,
          kind: "luks-add-recovery-key",
          device: image.path,
          volumeUuid: image.uuid,
          escrowCertificate: join(repoRoot, "examples/certs/test-escrow.pem"),
        } as Change,
      ],
      { handlers: handlers() },
    );
    expect(report.failed).toEqual([]);
    await passphraseStillOpensSlot0(target, image.path);
  }, 120_000);

  it("a planted systemd-recovery token on the passphrase slot does not get it killed", async () => {
    const { image, target } = await volume("recovery-token");
    await importToken(image.path, { type: "systemd-recovery", keyslots: ["0"] });
    const report = await applyChanges(
      target,
      [
        {
          ...base,
          kind: "luks-add-recovery-key",
          device: image.path,
          volumeUuid: image.uuid,
          escrowCertificate: join(repoRoot, "examples/certs/test-escrow.pem"),
        } as Change,
      ],
      { handlers: handlers() },
    );
    expect(report.failed).toEqual([]);
    await passphraseStillOpensSlot0(target, image.path);
  }, 120_000);

  it("a planted systemd-tpm2 token and escrow record do not get the passphrase removed", async () => {
    const { image, root, target } = await volume("tpm-token");
    // A second slot (a key only the attacker knows) carrying a fake TPM2 token.
    await execa(
      "cryptsetup",
      [
        "luksAddKey",
        "--batch-mode",
        "--key-file=-",
        `--keyfile-size=${Buffer.byteLength(testPassphrase)}`,
        "--key-slot=1",
        "--pbkdf=argon2id",
        "--pbkdf-force-iterations=4",
        "--pbkdf-memory=32768",
        image.path,
        "-",
      ],
      { input: `${testPassphrase}attacker-key` },
    );
    await importToken(image.path, {
      type: "systemd-tpm2",
      keyslots: ["1"],
      "tpm2-blob": "AA==",
      "tpm2-pcrs": [7],
      "tpm2-pcr-bank": "sha256",
      "tpm2-primary-alg": "ecc",
      "tpm2-policy-hash": "00",
      "tpm2-pin": true,
    });
    await writeFile(
      join(root, `var/lib/koffer/escrow/${image.uuid}.json`),
      JSON.stringify({ volumeUuid: image.uuid, keyslot: "1", envelope: `${image.uuid}.cms` }),
    );
    const report = await applyChanges(
      target,
      [{ ...base, kind: "luks-remove-keyslot", device: image.path, keyslot: "0" } as Change],
      { handlers: handlers() },
    );
    expect(report.failed).toEqual([]);
    await passphraseStillOpensSlot0(target, image.path);
  }, 120_000);
});
