// Offline re-encryption throughput (luks-reencrypt) of a LUKS2 image with a 256-bit XTS key
// to aes-xts-plain64/512, in the same run against two baselines:
//   - `cryptsetup benchmark -c aes-xts-plain64 -s 512` (in-memory cipher speed: the ceiling;
//     re-encryption decrypts and encrypts every byte and writes it through the page cache), and
//   - the same `cryptsetup reencrypt` run directly (koffer's overhead: key proofs, header backup).
// The plan's estimate assumes a conservative rate; this prints what the machine really does.
// BENCH_MIB (default 256) sizes the volume, BENCH_RUNS (default 3) the runs (median).
import { execFileSync, spawnSync } from "node:child_process";
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { applyChanges } from "../dist/provision/apply.js";
import { makeHandlers } from "../dist/provision/handlers/index.js";
import { planProvision } from "../dist/provision/plan.js";
import { gatherFacts } from "../dist/facts/index.js";
import { loadProfileOrThrow } from "../dist/profiles/loader.js";
import { RootTarget } from "../dist/targets/root.js";

const repo = new URL("..", import.meta.url).pathname;
const mib = Number(process.env.BENCH_MIB ?? 256);
const runs = Number(process.env.BENCH_RUNS ?? 3);
const passphrase = "bench passphrase";
const fast = ["--pbkdf=argon2id", "--pbkdf-force-iterations=4", "--pbkdf-memory=32768"];
const dir = mkdtempSync(join(tmpdir(), "koffer-bench-reencrypt-"));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function cryptsetup(args, input) {
  const r = spawnSync("cryptsetup", args, {
    input,
    encoding: "utf8",
    env: { PATH: process.env.PATH, LC_ALL: "C" },
  });
  if (r.status !== 0) throw new Error(`cryptsetup ${args[0]}: ${r.stderr}`);
  return r.stdout;
}

try {
  // The weak volume: random data encrypted in place with a 256-bit XTS key.
  const weak = join(dir, "weak.img");
  writeFileSync(
    weak,
    execFileSync("head", ["-c", `${mib}M`, "/dev/urandom"], { maxBuffer: 2 ** 31 }),
  );
  truncateSync(weak, (mib + 32) * 1024 * 1024);
  cryptsetup(
    [
      "reencrypt",
      "--encrypt",
      "--type=luks2",
      "--batch-mode",
      "--force-offline-reencrypt",
      "--key-size=256",
      "--reduce-device-size=32M",
      ...fast,
      "--key-file=-",
      weak,
    ],
    passphrase,
  );

  // Baseline 1: the cipher in memory. `cryptsetup benchmark` needs the kernel's AF_ALG
  // interface (algif_skcipher); where it is missing, OpenSSL's AES-256-XTS through node:crypto
  // in 64 KiB units stands in (labelled as such).
  let cipherEnc = NaN;
  let cipherDec = NaN;
  let baseline = "cryptsetup benchmark aes-xts 512b";
  const bench = spawnSync(
    "cryptsetup",
    ["benchmark", "--cipher=aes-xts-plain64", "--key-size=512"],
    {
      encoding: "utf8",
    },
  );
  const m = /aes-xts\s+512b\s+([\d.]+)\s+MiB\/s\s+([\d.]+)\s+MiB\/s/.exec(bench.stdout ?? "");
  if (m) {
    cipherEnc = Number(m[1]);
    cipherDec = Number(m[2]);
  } else {
    baseline = "OpenSSL AES-256-XTS in memory (cryptsetup benchmark: no AF_ALG here)";
    const key = randomBytes(64);
    const data = randomBytes(64 * 1024 * 1024);
    const speed = (make) => {
      const t0 = performance.now();
      for (let off = 0; off < data.length; off += 65536) {
        const iv = Buffer.alloc(16);
        iv.writeUInt32LE(off / 512);
        make(iv).update(data.subarray(off, off + 65536));
      }
      return 64 / ((performance.now() - t0) / 1000);
    };
    cipherEnc = speed((iv) => createCipheriv("aes-256-xts", key, iv));
    cipherDec = speed((iv) => createDecipheriv("aes-256-xts", key, iv));
  }
  // Decrypt + encrypt of every byte: the in-memory ceiling of a re-encryption.
  const ceiling = 1 / (1 / cipherEnc + 1 / cipherDec);

  const profile = await loadProfileOrThrow(join(repo, "examples/meerane.yaml"));
  const raw = [];
  const viaKoffer = [];
  let estimate = null;
  let dataBytes = 0;
  for (let run = 0; run < runs; run++) {
    // Baseline 2: cryptsetup reencrypt alone, with the arguments koffer uses.
    const direct = join(dir, `direct-${run}.img`);
    copyFileSync(weak, direct);
    let t0 = performance.now();
    cryptsetup(
      [
        "reencrypt",
        "--batch-mode",
        "--tries=1",
        "--cipher=aes-xts-plain64",
        "--key-size=512",
        ...fast,
        "--hotzone-size=32M",
        "--force-offline-reencrypt",
        direct,
      ],
      `${passphrase}\n`,
    );
    raw.push(performance.now() - t0);
    rmSync(direct);

    // koffer: plan, then apply the luks-reencrypt change through the handlers.
    const image = join(dir, `koffer-${run}.img`);
    copyFileSync(weak, image);
    const root = join(dir, `root-${run}`);
    mkdirSync(join(root, "etc"), { recursive: true });
    const target = await RootTarget.open({ root, disks: [image] });
    const facts = await gatherFacts(target, { profile, now: new Date() }, { areas: ["disk"] });
    const changes = planProvision(profile, facts, { now: new Date() }).filter(
      (c) => c.kind === "luks-reencrypt",
    );
    estimate = changes[0]?.estimateSeconds ?? null;
    dataBytes = changes[0]?.dataBytes ?? 0;
    const set = makeHandlers({ profile, passphrase, pbkdfCost: "fast", confirmReencrypt: true });
    t0 = performance.now();
    const report = await applyChanges(target, changes, { handlers: set.handlers });
    viaKoffer.push(performance.now() - t0);
    if (report.applied !== 1)
      throw new Error(`koffer did not re-encrypt: ${JSON.stringify(report.failed)}`);
    await target.close();
    rmSync(image);
  }
  const rate = (ms) => dataBytes / 1024 ** 2 / (ms / 1000);
  console.log(
    `volume: ${(dataBytes / 1024 ** 2).toFixed(0)} MiB of data (LUKS2, 256-bit XTS → 512-bit), ${runs} runs, median`,
  );
  console.log(
    `${baseline}: ${cipherEnc.toFixed(0)} MiB/s encrypt, ${cipherDec.toFixed(0)} MiB/s decrypt (re-encryption ceiling ${ceiling.toFixed(0)} MiB/s)`,
  );
  console.log(
    `cryptsetup reencrypt alone: ${(median(raw) / 1000).toFixed(2)} s = ${rate(median(raw)).toFixed(1)} MiB/s`,
  );
  console.log(
    `koffer luks-reencrypt:      ${(median(viaKoffer) / 1000).toFixed(2)} s = ${rate(median(viaKoffer)).toFixed(1)} MiB/s (${((100 * rate(median(viaKoffer))) / ceiling).toFixed(0)} % of the cipher ceiling)`,
  );
  console.log(
    `plan estimate: ${estimate} s (conservative rate); measured ${(median(viaKoffer) / 1000).toFixed(1)} s`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
