/**
 * `luks-reencrypt` with the real cryptsetup 2.6 on image files (offline re-encryption needs no
 * device-mapper): a LUKS2 volume made by encrypting known plaintext with a 256-bit XTS key is
 * planned for re-encryption with an estimate, skipped without confirmation, re-encrypted to a
 * 512-bit key with the recovery keyslot re-wrapped, and interrupted (kill -9 / SIGINT of
 * cryptsetup) then resumed. Every proof decrypts a copy offline (`reencrypt --decrypt`) and
 * compares the SHA-256 of the plaintext.
 */
import { execa } from "execa";
import { createDecipheriv, createHash, randomBytes } from "node:crypto";
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { disk02 } from "../../src/checks/disk-02.js";
import { gatherFacts } from "../../src/facts/index.js";
import { loadProfileOrThrow } from "../../src/profiles/loader.js";
import type { Profile } from "../../src/profiles/types.js";
import { applyChanges } from "../../src/provision/apply.js";
import {
  makeHandlers,
  opensSlot,
  readHeader,
  type HandlerOptions,
  type ReencryptProgress,
} from "../../src/provision/handlers/index.js";
import { planProvision } from "../../src/provision/plan.js";
import type { Change, ReencryptChange } from "../../src/provision/types.js";
import { RootTarget } from "../../src/targets/root.js";
import { repoRoot } from "../helpers/cli.js";

const PLAIN = 96 * 1024 * 1024;
const passphrase = "technician passphrase";
const recoveryKey = "cbdefghi-jklnrtuv-cbdefghi-jklnrtuv-cbdefghi-jklnrtuv-cbdefghi-jklnrtuv";
const fast = ["--pbkdf=argon2id", "--pbkdf-force-iterations=4", "--pbkdf-memory=32768"];

let dir: string;
let profile: Profile;
let weakImage: string;
let plainSha: string;

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

async function cryptsetup(args: string[], input?: string) {
  return execa("cryptsetup", args, { input, env: { LC_ALL: "C" } });
}

/**
 * The SHA-256 of the first PLAIN bytes of plaintext of `image`, decrypted independently of
 * cryptsetup: the volume key (`luksDump --dump-volume-key`, test only, kept in memory) and
 * AES-XTS per sector with the plain64 IV (LUKS2: counted in units of the sector size).
 * cryptsetup 2.6.1 cannot `reencrypt --decrypt` a volume it has re-encrypted (datashift
 * decryption fails to initialise), so its own decryption proves only the untouched volume.
 */
async function decryptedSha(image: string, key: string): Promise<string> {
  const dump = await cryptsetup(
    ["luksDump", "--dump-volume-key", "--batch-mode", "--key-file=-", image],
    key,
  );
  const volumeKey = Buffer.from(
    dump.stdout.slice(dump.stdout.indexOf("MK dump:") + 8).replace(/[^0-9a-f]/g, ""),
    "hex",
  );
  const meta = JSON.parse((await cryptsetup(["luksDump", "--dump-json-metadata", image])).stdout);
  const segment = meta.segments["0"];
  expect(meta.config.requirements).toBeUndefined();
  expect(segment.encryption).toBe("aes-xts-plain64");
  const offset = Number(segment.offset);
  const sector = Number(segment.sector_size);
  const data = (await readFile(image)).subarray(offset, offset + PLAIN);
  const hash = createHash("sha256");
  const iv = Buffer.alloc(16);
  const cipher = volumeKey.length === 64 ? "aes-256-xts" : "aes-128-xts";
  for (let n = 0; n < PLAIN / sector; n++) {
    iv.fill(0);
    iv.writeBigUInt64LE(BigInt(n));
    const decipher = createDecipheriv(cipher, volumeKey, iv);
    decipher.setAutoPadding(false);
    hash.update(decipher.update(data.subarray(n * sector, (n + 1) * sector)));
    decipher.final();
  }
  volumeKey.fill(0);
  return hash.digest("hex");
}

/** cryptsetup's own offline decryption (datashift, header exported) of a copy. */
async function cryptsetupDecryptedSha(image: string, key: string): Promise<string> {
  const copy = `${image}.dec`;
  const header = `${image}.dec.hdr`;
  await rm(header, { force: true });
  await copyFile(image, copy);
  try {
    await cryptsetup(
      [
        "reencrypt",
        "--decrypt",
        "--batch-mode",
        "--force-offline-reencrypt",
        `--header=${header}`,
        "--key-file=-",
        copy,
      ],
      key,
    );
    return sha256((await readFile(copy)).subarray(0, PLAIN));
  } finally {
    await rm(copy, { force: true });
    await rm(header, { force: true });
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "koffer-reencrypt-"));
  profile = await loadProfileOrThrow(join(repoRoot, "examples/meerane.yaml"));
  // Known plaintext, encrypted in place with a 256-bit XTS key (what an installer left).
  const plain = randomBytes(PLAIN);
  plainSha = sha256(plain);
  weakImage = join(dir, "weak.img");
  await writeFile(weakImage, plain);
  await execa("truncate", ["-s", "128M", weakImage]);
  await cryptsetup(
    [
      "reencrypt",
      "--encrypt",
      "--type=luks2",
      "--batch-mode",
      "--force-offline-reencrypt",
      "--cipher=aes-xts-plain64",
      "--key-size=256",
      "--reduce-device-size=32M",
      ...fast,
      "--key-file=-",
      weakImage,
    ],
    passphrase,
  );
  // A recovery key in keyslot 1 with systemd's token, as koffer or systemd-cryptenroll adds it.
  await cryptsetup(
    [
      "luksAddKey",
      "--batch-mode",
      "--key-file=-",
      `--keyfile-size=${Buffer.byteLength(passphrase)}`,
      "--key-slot=1",
      ...fast,
      weakImage,
      "-",
    ],
    passphrase + recoveryKey,
  );
  await cryptsetup(
    ["token", "import", weakImage],
    JSON.stringify({ type: "systemd-recovery", keyslots: ["1"] }),
  );
}, 120_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function volume(name: string) {
  const image = join(dir, `${name}.img`);
  await copyFile(weakImage, image);
  const root = join(dir, `${name}-root`);
  await mkdir(join(root, "etc"), { recursive: true });
  const target = await RootTarget.open({ root, disks: [image] });
  return { image, root, target };
}

function handlers(extra: Partial<HandlerOptions> = {}) {
  return makeHandlers({ profile, passphrase, pbkdfCost: "fast", ...extra });
}

async function reencryptPlan(target: RootTarget): Promise<ReencryptChange[]> {
  const facts = await gatherFacts(target, { profile, now: new Date() }, { areas: ["disk"] });
  return planProvision(profile, facts, { now: new Date() }).filter(
    (c): c is ReencryptChange => c.kind === "luks-reencrypt",
  );
}

describe("luks-reencrypt", () => {
  it("the weak volume decrypts to the known plaintext both ways (the proof works without dm)", async () => {
    expect(await cryptsetupDecryptedSha(weakImage, passphrase)).toBe(plainSha);
    expect(await decryptedSha(weakImage, recoveryKey)).toBe(plainSha);
    // …and the proof can fail: one flipped ciphertext byte changes the plaintext's hash.
    const other = join(dir, "tampered.img");
    await copyFile(weakImage, other);
    const bytes = await readFile(other);
    bytes[32 * 1024 * 1024] = (bytes[32 * 1024 * 1024] as number) ^ 1;
    await writeFile(other, bytes);
    expect(await decryptedSha(other, passphrase)).not.toBe(plainSha);
    await rm(other);
  }, 120_000);

  it("is planned for a 256-bit XTS key, with the size, an estimate and the confirmation it needs", async () => {
    const { image, target } = await volume("plan");
    const [change, ...rest] = await reencryptPlan(target);
    expect(rest).toEqual([]);
    expect(change).toMatchObject({
      device: image,
      activeName: null,
      resume: false,
      from: { cipher: "aes-xts-plain64", keyBits: 256 },
      to: { cipher: "aes-xts-plain64", keyBits: 512 },
      dataBytes: 112 * 1024 * 1024,
      mibPerSecond: 10,
      estimateSeconds: 12,
      confirmation: "explicit",
      controls: ["DISK-02"],
    });
    expect(change?.summary).toMatch(/112 MiB, ≈ 12 s at 10 MiB\/s; offline/);
    expect(change?.summary).toMatch(/--confirm-reencrypt/);
    await target.close();
  }, 60_000);

  it("without confirmation is skipped: nothing written, a note, DISK-02 still fails", async () => {
    const { image, target } = await volume("unconfirmed");
    const before = sha256(await readFile(image));
    const [change] = await reencryptPlan(target);
    const set = handlers();
    const report = await applyChanges(target, [change as Change], { handlers: set.handlers });
    expect(report).toMatchObject({ applied: 0, unchanged: 1, failed: [] });
    expect(set.state.notes.map((n) => n.kind)).toEqual(["reencrypt-unconfirmed"]);
    expect(sha256(await readFile(image))).toBe(before);
    const facts = await gatherFacts(target, { profile, now: new Date() }, { areas: ["disk"] });
    expect(disk02.evaluate(profile, facts, { now: new Date() }).map((f) => f.status)).toContain(
      "fail",
    );
    await target.close();
  }, 60_000);

  it("confirmed: 512-bit key, recovery slot re-wrapped, header backed up 0600, progress, data intact; again: nothing", async () => {
    const { image, root, target } = await volume("confirmed");
    const [change] = await reencryptPlan(target);
    const progress: ReencryptProgress[] = [];
    const set = handlers({
      recoveryKey,
      confirmReencrypt: true,
      onReencryptProgress: (p) => progress.push(p),
    });
    const report = await applyChanges(target, [change as Change], { handlers: set.handlers });
    expect(report.failed).toEqual([]);
    expect(report.applied).toBe(1);

    const header = await readHeader(target, image);
    expect(header.requirements).toEqual([]);
    expect(header.segments.map((s) => s.encryption)).toEqual(["aes-xts-plain64"]);
    expect(header.keyslots.map((k) => k.keyBytes)).toEqual([64, 64]);
    const recoverySlot = header.tokens.find((t) => t.type === "systemd-recovery")?.keyslots[0];
    expect(recoverySlot).toBeDefined();
    expect(await opensSlot(target, image, recoveryKey, recoverySlot)).toBe(true);
    expect(await opensSlot(target, image, passphrase)).toBe(true);
    expect(progress.at(-1)).toMatchObject({
      doneBytes: 112 * 1024 * 1024,
      totalBytes: 112 * 1024 ** 2,
    });

    // The header backup: root-only, in the run's backup directory, a LUKS header of the old key.
    const backupDir = join(root, "var/lib/koffer/backups", report.runId);
    const [backup] = (await readdir(backupDir)).filter((n) => n.startsWith("luks-header-"));
    expect(backup).toBeDefined();
    const backupPath = join(backupDir, backup as string);
    expect((await stat(backupPath)).mode & 0o777).toBe(0o600);
    expect((await stat(backupDir)).mode & 0o777).toBe(0o700);
    const dump = await cryptsetup(["luksDump", "--dump-json-metadata", backupPath]);
    expect(JSON.parse(dump.stdout).keyslots["0"].key_size).toBe(32);

    expect(await decryptedSha(image, recoveryKey)).toBe(plainSha);

    const facts = await gatherFacts(target, { profile, now: new Date() }, { areas: ["disk"] });
    expect(disk02.evaluate(profile, facts, { now: new Date() }).map((f) => f.status)).toEqual([
      "pass",
    ]);
    expect(await reencryptPlan(target)).toEqual([]);
    const again = await applyChanges(target, [change as Change], { handlers: set.handlers });
    expect(again).toMatchObject({ applied: 0, unchanged: 1, failed: [] });
    await target.close();
  }, 120_000);

  it("refuses before writing anything when a keyslot opens with no key koffer holds", async () => {
    const { image, target } = await volume("no-recovery-key");
    const before = sha256(await readFile(image));
    const [change] = await reencryptPlan(target);
    const set = handlers({ confirmReencrypt: true });
    const report = await applyChanges(target, [change as Change], { handlers: set.handlers });
    expect(report.failed[0]?.message).toMatch(
      /no key koffer holds opens keyslot 1 \(recovery key: --recovery-key-file\)/,
    );
    expect(sha256(await readFile(image))).toBe(before);
    await target.close();
  }, 60_000);
});

/**
 * The `cryptsetup reencrypt` process whose parent is `parent` (setpriv execs into it), or
 * null. Other cryptsetup children (the --test-passphrase probes) are not it.
 */
async function cryptsetupChildOf(parent: number): Promise<number | null> {
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const line = await readFile(`/proc/${name}/stat`, "utf8").catch(() => "");
    const m = /^\d+ \((.*)\) \S+ (\d+)/.exec(line);
    if (m?.[1] !== "cryptsetup" || Number(m[2]) !== parent) continue;
    const argv = (await readFile(`/proc/${name}/cmdline`, "utf8").catch(() => "")).split("\0");
    if (argv[1] === "reencrypt") return Number(name);
  }
  return null;
}

/** Bytes the process has written so far (/proc/PID/io wchar), or null when it is gone. */
async function written(pid: number): Promise<number | null> {
  const io = await readFile(`/proc/${pid}/io`, "utf8").catch(() => null);
  const m = io === null ? null : /^wchar: (\d+)$/m.exec(io);
  return m ? Number(m[1]) : null;
}

/**
 * Watch for the cryptsetup child of `parent` and stop it mid-way, whatever the machine's
 * speed: it is held with SIGSTOP as soon as it is seen and let run in slices of 20 ms until
 * it has written `afterBytes` and `ready` holds (checked while it is held: 2 ms slices until
 * then); then `interrupt(pid)` runs while it is still held, and it is let go. (Waiting for a
 * progress line was not enough: an idle machine re-encrypts the test volume within
 * cryptsetup's one-second progress period.)
 */
function watchCryptsetup(
  parent: () => number | undefined,
  afterBytes: number,
  interrupt: (pid: number) => void,
  ready: () => Promise<boolean> = async () => true,
) {
  let pid: number | null = null;
  let stopped = false;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const poll = async () => {
    while (!stopped && pid === null) {
      const owner = parent();
      if (owner !== undefined) pid = await cryptsetupChildOf(owner);
      if (pid === null) await sleep(5);
    }
    if (pid === null) return;
    const held = pid;
    process.kill(held, "SIGSTOP");
    try {
      for (;;) {
        const bytes = await written(held);
        if (bytes === null) return;
        const far = bytes >= afterBytes;
        if (far && (await ready())) break;
        process.kill(held, "SIGCONT");
        await sleep(far ? 2 : 20);
        process.kill(held, "SIGSTOP");
      }
      interrupt(held);
    } finally {
      try {
        process.kill(held, "SIGCONT");
      } catch {
        // gone already
      }
    }
  };
  const done = poll();
  return {
    get pid() {
      return pid;
    },
    done,
    stop() {
      stopped = true;
    },
  };
}

/** Mid-way through the 112 MiB test volume (cryptsetup's header work writes a few MiB first). */
const midway = 48 * 1024 * 1024;

async function gone(pid: number, timeoutMs = 60_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/** Resume through the plan (the next provision): exactly one change, `resume`, then intact. */
async function resumeAndProve(image: string, target: RootTarget): Promise<void> {
  const header = await readHeader(target, image);
  expect(header.requirements).toEqual(["online-reencrypt-v2"]);
  const facts = await gatherFacts(target, { profile, now: new Date() }, { areas: ["disk"] });
  const disk = planProvision(profile, facts, { now: new Date() }).filter(
    (c) => c.resource === "disk",
  );
  expect(disk.map((c) => [c.kind, c.kind === "luks-reencrypt" && c.resume])).toEqual([
    ["luks-reencrypt", true],
  ]);
  // No confirmation needed to finish what was confirmed; one held key suffices.
  const set = handlers();
  const report = await applyChanges(target, disk, { handlers: set.handlers });
  expect(report.failed).toEqual([]);
  expect(report.applied).toBe(1);
  const after = await readHeader(target, image);
  expect(after.requirements).toEqual([]);
  expect(after.keyslots.map((k) => k.keyBytes)).toEqual([64, 64]);
  const recoverySlot = after.tokens.find((t) => t.type === "systemd-recovery")?.keyslots[0];
  expect(await opensSlot(target, image, recoveryKey, recoverySlot)).toBe(true);
  expect(await decryptedSha(image, passphrase)).toBe(plainSha);
  expect(await reencryptPlan(target)).toEqual([]);
}

describe("luks-reencrypt with a TPM2 keyslot", () => {
  it("drops the sealed slot it cannot re-wrap and enrols TPM2+PIN again (swtpm); the other keys and the data stay", async () => {
    const { startSwtpm } = await import("../helpers/swtpm.js");
    const { tokenJson } = await import("../helpers/luks.js");
    const swtpm = await startSwtpm();
    try {
      const { image, target } = await volume("tpm2");
      // A TPM2 slot whose key only the (absent) TPM could unseal: koffer cannot re-wrap it.
      await cryptsetup(
        [
          "luksAddKey",
          "--batch-mode",
          "--key-file=-",
          `--keyfile-size=${Buffer.byteLength(passphrase)}`,
          "--key-slot=2",
          ...fast,
          image,
          "-",
        ],
        passphrase + randomBytes(32).toString("base64"),
      );
      await cryptsetup(
        ["token", "import", image],
        JSON.stringify(tokenJson({ type: "systemd-tpm2", pin: true, pcrs: [7] }, "2")),
      );
      const facts = await gatherFacts(target, { profile, now: new Date() }, { areas: ["disk"] });
      const changes = planProvision(profile, facts, {
        now: new Date(),
        tpm2Device: swtpm.device,
      }).filter((c) => c.kind === "luks-reencrypt" || c.kind === "tpm2-enrol");
      // The re-encryption first, then the enrolment the dropped slot needs.
      expect(changes.map((c) => c.kind)).toEqual(["luks-reencrypt", "tpm2-enrol"]);
      const set = handlers({
        recoveryKey,
        confirmReencrypt: true,
        tpm2Device: swtpm.device,
        tpm2Pin: "4711",
      });
      const report = await applyChanges(target, changes, { handlers: set.handlers });
      expect(report.failed).toEqual([]);
      expect(report.applied).toBe(2);
      const header = await readHeader(target, image);
      const tpm = header.tokens.filter((t) => t.type === "systemd-tpm2");
      expect(tpm).toHaveLength(1);
      expect(tpm[0]).toMatchObject({ tpm2Pin: true, tpm2Pcrs: [7] });
      expect(header.keyslots.find((k) => k.id === tpm[0]?.keyslots[0])?.keyBytes).toBe(64);
      expect(header.keyslots.map((k) => k.keyBytes)).toEqual([64, 64, 64]);
      const recoverySlot = header.tokens.find((t) => t.type === "systemd-recovery")?.keyslots[0];
      expect(await opensSlot(target, image, recoveryKey, recoverySlot)).toBe(true);
      expect(await decryptedSha(image, passphrase)).toBe(plainSha);
      await target.close();
    } finally {
      await swtpm.stop();
    }
  }, 240_000);
});

/**
 * Whether a hot zone of `image` is being written (its segment flagged `in-reencryption`).
 * Read without cryptsetup's lock: the held cryptsetup may own it.
 */
async function inHotzone(image: string): Promise<boolean> {
  const meta = JSON.parse(
    (await cryptsetup(["luksDump", "--disable-locks", "--dump-json-metadata", image])).stdout,
  );
  return Object.values(meta.segments as Record<string, { flags?: string[] }>).some((s) =>
    s.flags?.includes("in-reencryption"),
  );
}

describe("luks-reencrypt interrupted and resumed", () => {
  // kill -9 inside a hot zone leaves the header in the state cryptsetup 2.6's own
  // `--resume-only --batch-mode` refuses ("Device requires reencryption recovery. Run repair
  // first."): about half of all kills land there. Each case is made deterministic.
  const cases = [
    { signal: "SIGKILL", hotzone: true, label: "SIGKILL inside a hot zone" },
    { signal: "SIGKILL", hotzone: false, label: "SIGKILL between hot zones" },
    { signal: "SIGINT", hotzone: undefined, label: "SIGINT" },
  ] as const;
  for (const { signal, hotzone, label } of cases) {
    it(`${label} to cryptsetup mid-way: the next provision resumes, no data lost`, async () => {
      const { image, target } = await volume(`cryptsetup-${signal}-${String(hotzone)}`);
      const [change] = await reencryptPlan(target);
      let killed: number | null = null;
      const watch = watchCryptsetup(
        () => process.pid,
        midway,
        (pid) => {
          killed = pid;
          process.kill(pid, signal);
        },
        async () => hotzone === undefined || (await inHotzone(image)) === hotzone,
      );
      const set = handlers({
        recoveryKey,
        confirmReencrypt: true,
        // Small hot zones: a graceful stop ends within 4 MiB of the signal, well before the end.
        reencryptHotzoneMiB: 4,
      });
      const report = await applyChanges(target, [change as Change], { handlers: set.handlers });
      watch.stop();
      await watch.done;
      expect(killed).toBeGreaterThan(0);
      expect(report.failed[0]?.message).toMatch(/cryptsetup reencrypt of .* failed/);
      if (hotzone !== undefined) {
        expect(await inHotzone(image)).toBe(hotzone);
        // The state is the one claimed: cryptsetup alone refuses (or takes) the resume.
        const copy = `${image}.probe`;
        await copyFile(image, copy);
        const alone = await execa(
          "cryptsetup",
          [
            "reencrypt",
            "--resume-only",
            "--batch-mode",
            "--force-offline-reencrypt",
            "--key-file=-",
            copy,
          ],
          { input: passphrase, reject: false, env: { LC_ALL: "C" } },
        );
        await rm(copy);
        expect(alone.stderr.includes("requires reencryption recovery")).toBe(hotzone);
      }
      await resumeAndProve(image, target);
      await target.close();
    }, 240_000);
  }

  for (const signal of ["SIGKILL", "SIGINT"] as const) {
    it(`${signal} to the koffer process mid-way: cryptsetup stops (SIGTERM by pdeathsig, or SIGPIPE on its next progress line), the next provision resumes`, async () => {
      const { image, root, target } = await volume(`koffer-${signal}`);
      const [change] = await reencryptPlan(target);
      // The child applies the change through the built library, as `koffer provision` does.
      const child = `
        const { applyChanges } = await import(${JSON.stringify(join(repoRoot, "dist/provision/apply.js"))});
        const { makeHandlers } = await import(${JSON.stringify(join(repoRoot, "dist/provision/handlers/index.js"))});
        const { RootTarget } = await import(${JSON.stringify(join(repoRoot, "dist/targets/root.js"))});
        let input = "";
        for await (const chunk of process.stdin) input += chunk;
        const { change, profile, passphrase, recoveryKey } = JSON.parse(input);
        const target = await RootTarget.open({ root: process.argv[1], disks: [change.device] });
        const set = makeHandlers({ profile, passphrase, recoveryKey, pbkdfCost: "fast",
          confirmReencrypt: true, reencryptHotzoneMiB: 4,
          onReencryptProgress: (p) => process.stdout.write(JSON.stringify(p) + "\\n") });
        await applyChanges(target, [change], { handlers: set.handlers });
      `;
      const proc = execa(process.execPath, ["--input-type=module", "-e", child, root], {
        input: JSON.stringify({ change, profile, passphrase, recoveryKey }),
        reject: false,
      });
      let cryptsetupPid: number | null = null;
      // koffer dies while its cryptsetup is held mid-way; cryptsetup then runs on only until
      // the signal pdeathsig sends it (or SIGPIPE at its next progress line) stops it.
      const watch = watchCryptsetup(
        () => proc.pid,
        midway,
        (pid) => {
          cryptsetupPid = pid;
          proc.kill(signal);
        },
      );
      const result = await proc;
      watch.stop();
      await watch.done;
      expect(cryptsetupPid).toBeGreaterThan(0);
      expect(result.signal).toBe(signal);
      // cryptsetup does not run on unsupervised. (Without pdeathsig it dies of SIGPIPE at its
      // next progress line — checked by reverting it once — so this proves the stop, not how.)
      expect(await gone(cryptsetupPid as unknown as number)).toBe(true);
      await resumeAndProve(image, target);
      await target.close();
    }, 240_000);
  }
});

describe("cryptsetup progress lines", () => {
  it("parses --progress-json lines and ignores anything else", async () => {
    const { parseProgressLine } = await import("../../src/provision/handlers/index.js");
    expect(
      parseProgressLine(
        '{"device":"x.img","device_bytes":"33554432","device_size":"83886080","speed":"31596343","eta_ms":"1592","time_ms":"1061"}',
      ),
    ).toEqual({
      device: "x.img",
      doneBytes: 33554432,
      totalBytes: 83886080,
      bytesPerSecond: 31596343,
      etaSeconds: 2,
    });
    expect(parseProgressLine("Progress:  40.0%, ETA 00:02")).toBeNull();
    expect(parseProgressLine('{"device":"x","device_bytes":"many"}')).toBeNull();
    expect(parseProgressLine("{not json")).toBeNull();
  });
});

describe("koffer plan (built CLI)", () => {
  it("shows the re-encryption with its size, estimate and the confirmation it needs", async () => {
    const { koffer } = await import("../helpers/cli.js");
    const { image, root } = await volume("cli-plan");
    const run = await koffer([
      "plan",
      "--root",
      root,
      "--disk",
      image,
      "--profile",
      join(repoRoot, "examples/meerane.yaml"),
    ]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain(
      `disk: re-encrypt ${image} to aes-xts-plain64 512-bit (offline) [DISK-02]`,
    );
    expect(run.stdout).toMatch(
      /re-encrypt from aes-xts-plain64 256-bit to aes-xts-plain64 512-bit \(112 MiB, ≈ 12 s at 10 MiB\/s; offline\) — needs --confirm-reencrypt or a typed yes/,
    );
  }, 120_000);
});
