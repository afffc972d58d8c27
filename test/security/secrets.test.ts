/**
 * Security: secrets never touch a disk in clear (issue 14).
 *
 * koffer used to write the new recovery key of `luksAddKey` to /run/koffer-XXXXXX/key; /run is
 * on disk on many machines and a kill -9 left the key there. Now cryptsetup gets both keys
 * through its stdin. The test kills a run with -9 in the middle of luksAddKey (a real
 * cryptsetup with the default, slow PBKDF, so there is time to hit it) and then looks at
 * every file that appeared in /run and the temporary directory: none holds a recovery key or
 * the passphrase. Also: key files a killed older version left behind are swept.
 */
import { execa } from "execa";
import { lstat, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sweepStaleSecretFiles } from "../../src/provision/handlers/luks.js";
import { repoRoot } from "../helpers/cli.js";
import { makeLuksImage, testPassphrase } from "../helpers/luks.js";

let dir: string;
const recoveryKeyPattern = /[cbdefghijklnrtuv]{8}(-[cbdefghijklnrtuv]{8}){7}/;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "koffer-sec-secrets-"));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Regular files below `top`, at most `depth` levels down, not descending into `skip`. */
async function filesBelow(top: string, depth: number, skip: string[] = []): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, level: number): Promise<void> => {
    if (level > depth || skip.includes(d)) return;
    for (const name of await readdir(d).catch(() => [] as string[])) {
      const p = join(d, name);
      const s = await lstat(p).catch(() => null);
      if (s?.isDirectory()) await walk(p, level + 1);
      else if (s?.isFile() && s.size < 1 << 20) out.push(p);
    }
  };
  await walk(top, 0);
  return out;
}

/**
 * Where a key file could land: anything in /run, and the temporary directory's own files and
 * `koffer-*` directories (the rest of it belongs to other programs and tests).
 */
async function candidateFiles(skip: string): Promise<string[]> {
  const tmp = tmpdir();
  const inTmp = (await readdir(tmp).catch(() => [] as string[]))
    .filter((n) => /^koffer-[A-Za-z0-9]{6}$/.test(n) || !n.includes("-"))
    .map((n) => join(tmp, n))
    .filter((p) => p !== skip);
  const nested = await Promise.all(
    inTmp.map(async (p) =>
      (await lstat(p).catch(() => null))?.isDirectory() ? filesBelow(p, 1) : [p],
    ),
  );
  return [...(await filesBelow("/run", 3)), ...nested.flat()];
}

describe("security: secrets in clear on disk", () => {
  it("kill -9 during luksAddKey leaves no key in /run or the temporary directory", async () => {
    const image = await makeLuksImage({ pbkdf: "argon2id", copyTo: join(dir, "disk.img") });
    // A passphrase no other test uses, so a hit is this run's and nobody else's.
    const passphrase = `sec-${process.pid}-${Date.now()}-passphrase`;
    await execa(
      "cryptsetup",
      [
        "luksChangeKey",
        "--batch-mode",
        "--key-file=-",
        `--keyfile-size=${Buffer.byteLength(testPassphrase)}`,
        "--pbkdf-force-iterations=4",
        "--pbkdf-memory=32768",
        image.path,
        "-",
      ],
      { input: testPassphrase + passphrase },
    );
    const root = join(dir, "root");
    await mkdir(join(root, "etc"), { recursive: true });
    const before = new Set(await candidateFiles(dir));
    // A provision run in its own process, with the default (slow) PBKDF for the new slot.
    const script = `
      const { loadProfileOrThrow } = await import(${JSON.stringify(join(repoRoot, "dist/profiles/loader.js"))});
      const { applyChanges } = await import(${JSON.stringify(join(repoRoot, "dist/provision/apply.js"))});
      const { makeHandlers } = await import(${JSON.stringify(join(repoRoot, "dist/provision/handlers/index.js"))});
      const { RootTarget } = await import(${JSON.stringify(join(repoRoot, "dist/targets/root.js"))});
      const profile = await loadProfileOrThrow(${JSON.stringify(join(repoRoot, "examples/meerane.yaml"))});
      const set = makeHandlers({ profile, passphrase: ${JSON.stringify(passphrase)}, pbkdfCost: "default" });
      const target = await RootTarget.open({ root: ${JSON.stringify(root)}, disks: [${JSON.stringify(image.path)}] });
      await applyChanges(target, [{ kind: "luks-add-recovery-key", resource: "disk", summary: "t", controls: [],
        device: ${JSON.stringify(image.path)}, volumeUuid: ${JSON.stringify(image.uuid)},
        escrowCertificate: ${JSON.stringify(join(repoRoot, "examples/certs/test-escrow.pem"))} }], { handlers: set.handlers });
    `;
    const child = execa(process.execPath, ["--input-type=module", "-e", script], {
      reject: false,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    });
    let killed = false;
    try {
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline && !killed) {
        const { stdout } = await execa("pgrep", ["-f", `luksAddKey.*${image.path}`], {
          reject: false,
        });
        if (stdout.trim() !== "") {
          child.kill("SIGKILL");
          killed = true;
        } else await new Promise((r) => setTimeout(r, 50));
      }
      await child;
    } finally {
      if (!killed) child.kill("SIGKILL");
    }
    expect(killed).toBe(true);
    // Let the orphaned cryptsetup finish its slot; it is a child of the killed run, not ours to kill.
    for (let i = 0; i < 600; i++) {
      const { stdout } = await execa("pgrep", ["-f", `luksAddKey.*${image.path}`], {
        reject: false,
      });
      if (stdout.trim() === "") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const fresh = (await candidateFiles(dir)).filter((p) => !before.has(p));
    for (const path of fresh) {
      const text = await readFile(path, "latin1").catch(() => "");
      expect({ path, key: recoveryKeyPattern.test(text) }).toEqual({ path, key: false });
      expect({ path, passphrase: text.includes(passphrase) }).toEqual({
        path,
        passphrase: false,
      });
    }
    expect(fresh.filter((p) => /\/koffer-[A-Za-z0-9]{6}\/key$/.test(p))).toEqual([]);
    // The image's state holds the pending marker and the escrow envelope, never the key in clear.
    for (const path of await filesBelow(root, 6)) {
      expect(recoveryKeyPattern.test(await readFile(path, "latin1"))).toBe(false);
    }
  }, 180_000);

  it("sweeps key files a killed older run left behind, and nothing else", async () => {
    const base = await mkdtemp(join(tmpdir(), "koffer-sec-sweep-"));
    try {
      await mkdir(join(base, "koffer-AbC123"), { mode: 0o700 });
      await writeFile(join(base, "koffer-AbC123", "key"), "secret", { mode: 0o600 });
      await mkdir(join(base, "koffer-XyZ789"));
      await writeFile(join(base, "koffer-XyZ789", "key"), "x");
      await writeFile(join(base, "koffer-XyZ789", "other"), "x");
      await mkdir(join(base, "koffer-e2e-abcdef"));
      await writeFile(join(base, "koffer-e2e-abcdef", "key"), "x");
      expect(await sweepStaleSecretFiles([base])).toEqual([join(base, "koffer-AbC123")]);
      expect((await readdir(base)).sort()).toEqual(["koffer-XyZ789", "koffer-e2e-abcdef"]);
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });
});
