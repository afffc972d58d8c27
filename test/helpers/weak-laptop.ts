/**
 * A laptop as technicians receive it, for the end-to-end provision tests: a copy of a cached
 * debootstrapped root (Debian 12 or 13), a weak LUKS2 image (pbkdf2 keyslots and a stray
 * passphrase slot), the disk passphrase and a TPM PIN in 0600 files, and a software TPM.
 * `provisionArgs` are the CLI arguments that provision it with the example test CA.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { releases, type PlatformId } from "../../src/platform/releases.js";
import { cleanupChroot } from "../../src/provision/handlers/index.js";
import { RootTarget } from "../../src/targets/root.js";
import { repoRoot } from "./cli.js";
import { debianRoot } from "./debian-root.js";
import { makeLuksImage, testPassphrase } from "./luks.js";
import { startSwtpm, type Swtpm } from "./swtpm.js";

export interface WeakLaptop {
  /** The cached root it was copied from (read-only). */
  base: string;
  dir: string;
  root: string;
  image: string;
  passphraseFile: string;
  pinFile: string;
  swtpm: Swtpm;
  /** Environment for provision: fast test KDF, the release's own apt download cache. */
  env: Record<string, string>;
  /** Stop the TPM, unmount what a failed run left, delete everything. */
  dispose(): Promise<void>;
}

export async function weakLaptop(release: PlatformId, prefix: string): Promise<WeakLaptop> {
  const base = await debianRoot({ release });
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const root = join(dir, "root");
  let swtpm: Swtpm | undefined;
  const dispose = async () => {
    await swtpm?.stop();
    // Never delete through a mount a failed run might have left in the tree.
    await cleanupChroot(await RootTarget.open({ root })).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await execa("cp", ["-a", base, root]);
    const image = (
      await makeLuksImage({
        pbkdf: "pbkdf2",
        extraKeyslots: [{ pbkdf: "pbkdf2" }],
        copyTo: join(dir, "disk.img"),
      })
    ).path;
    const passphraseFile = join(dir, "passphrase");
    const pinFile = join(dir, "pin");
    await writeFile(passphraseFile, `${testPassphrase}\n`, { mode: 0o600 });
    await writeFile(pinFile, "4711\n", { mode: 0o600 });
    swtpm = await startSwtpm();
    return {
      base,
      dir,
      root,
      image,
      passphraseFile,
      pinFile,
      swtpm,
      env: {
        KOFFER_TEST_PBKDF: "fast",
        KOFFER_APT_ARCHIVES: join(homedir(), ".cache", "koffer", releases[release].aptArchiveCache),
      },
      dispose,
    };
  } catch (error) {
    await dispose();
    throw error;
  }
}

/** `koffer provision` arguments after the target: passphrase, test CA, TPM2+PIN, reports. */
export function provisionArgs(laptop: WeakLaptop): string[] {
  return [
    "--yes",
    "--passphrase-file",
    laptop.passphraseFile,
    "--ca-p12",
    join(repoRoot, "examples/certs/test-vpn-ca.p12"),
    "--ca-passphrase-file",
    join(repoRoot, "examples/certs/test-vpn-ca.pass"),
    "--tpm2-device",
    laptop.swtpm.device,
    "--tpm2-pin-file",
    laptop.pinFile,
    "--out-dir",
    join(laptop.dir, "out"),
  ];
}
