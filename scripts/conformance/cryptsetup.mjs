// cryptsetup: the disk gatherer (koffer's reading of LUKS headers through the real
// `cryptsetup`) on the cryptsetup project's own test images. Every image in
// images-params.tsv must come back either described as cryptsetup itself reads it
// (version, data cipher, key size, PBKDFs, iterations, argon2 memory, requirement flags)
// or — where `cryptsetup luksDump` fails — as a volume with `error` set. Never a crash,
// never a damaged header described as a healthy volume. The luks2-validation images are
// run too (no crash; "F" images, which cryptsetup cannot repair, must error).
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dist = new URL("../../dist/", import.meta.url);

function unpack(src, dir) {
  for (const name of readdirSync(src)) {
    const from = join(src, name);
    if (name.endsWith(".tar.xz")) execFileSync("tar", ["-xJf", from, "-C", dir]);
    else if (name.endsWith(".xz")) {
      const out = join(dir, name.replace(/\.xz$/, ""));
      execFileSync("sh", ["-c", 'xz -dc "$1" > "$2"', "sh", from, out]);
    }
  }
}

function findImage(dir, name) {
  for (const candidate of [join(dir, name), join(dir, "luks2-validation", name)]) {
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

/** What koffer found, in the columns of images-params.tsv. */
function columns(v) {
  const uniq = (xs) => [...new Set(xs)];
  const kdfs =
    v.version === 1
      ? uniq(v.keyslots.map((k) => `pbkdf2-${k.kdf.hash}`))
      : uniq(v.keyslots.map((k) => k.kdf.type));
  return {
    version: String(v.version ?? "-"),
    segment_encryption: v.segments[0]?.encryption ?? "",
    // A LUKS1 header without active slots still states its key size (MK bits).
    keyslot_key_bytes: uniq(
      v.keyslots.length > 0
        ? v.keyslots.map((k) => String(k.keyBytes))
        : v.segments.filter((s) => s.keyBytes !== undefined).map((s) => String(s.keyBytes)),
    ).join(","),
    kdfs,
    pbkdf2_iterations: uniq(
      v.keyslots.filter((k) => k.kdf.type === "pbkdf2").map((k) => String(k.kdf.iterations)),
    ).join(","),
    argon_mem_kib: uniq(
      v.keyslots.filter((k) => k.kdf.memory !== undefined).map((k) => String(k.kdf.memory)),
    ).join(","),
    requirements: v.requirements.join(","),
  };
}

function sameSet(a, b) {
  const x = [...a].sort().join(",");
  const y = [...b].sort().join(",");
  return x === y;
}

export async function run(oraclesDir) {
  const { describeLuksVolume } = await import(new URL("facts/disk.js", dist));
  const { LocalTarget } = await import(new URL("targets/local.js", dist));
  const src = join(oraclesDir, "cryptsetup");
  const dir = mkdtempSync(join(tmpdir(), "koffer-cryptsetup-oracle-"));
  const target = new LocalTarget();
  const lines = [];
  let passed = 0;
  let total = 0;
  try {
    unpack(src, dir);
    const [header, ...rows] = readFileSync(join(src, "images-params.tsv"), "utf8")
      .trim()
      .split("\n")
      .map((l) => l.split("\t"));
    for (const row of rows) {
      const want = Object.fromEntries(header.map((h, i) => [h, row[i] ?? ""]));
      total++;
      const path = findImage(dir, want.image);
      if (!path) {
        lines.push(`FAIL ${want.image}: image not found in the oracle archives`);
        continue;
      }
      let v;
      try {
        v = await describeLuksVolume(target, path);
      } catch (error) {
        lines.push(`FAIL ${want.image}: crashed: ${error.message}`);
        continue;
      }
      if (want.luksDump_rc !== "0") {
        if (v.error) {
          passed++;
          lines.push(`ok   ${want.image}: error: ${v.error}`);
        } else {
          lines.push(
            `FAIL ${want.image}: cryptsetup cannot dump it, koffer reports version ${v.version} without error`,
          );
        }
        continue;
      }
      if (v.error) {
        lines.push(`FAIL ${want.image}: unexpected error: ${v.error}`);
        continue;
      }
      const got = columns(v);
      const diffs = [];
      for (const key of ["version", "segment_encryption", "keyslot_key_bytes", "requirements"]) {
        if (got[key] !== want[key])
          diffs.push(`${key} ${JSON.stringify(got[key])} ≠ ${JSON.stringify(want[key])}`);
      }
      const wantKdfs = want.kdfs.split(",").filter(Boolean);
      // Without an active keyslot there is no PBKDF to report (the tsv shows the header hash).
      if (v.keyslots.length > 0 && !sameSet(got.kdfs, wantKdfs)) {
        diffs.push(`kdfs ${got.kdfs} ≠ ${wantKdfs}`);
      }
      if (
        !sameSet(
          got.pbkdf2_iterations.split(",").filter(Boolean),
          want.pbkdf2_iterations.split(",").filter(Boolean),
        )
      ) {
        diffs.push(`pbkdf2 iterations ${got.pbkdf2_iterations} ≠ ${want.pbkdf2_iterations}`);
      }
      if (
        !sameSet(
          got.argon_mem_kib.split(",").filter(Boolean),
          want.argon_mem_kib.split(",").filter(Boolean),
        )
      ) {
        diffs.push(`argon2 memory ${got.argon_mem_kib} ≠ ${want.argon_mem_kib}`);
      }
      if (diffs.length === 0) {
        passed++;
        lines.push(
          `ok   ${want.image}: LUKS${got.version} ${got.segment_encryption} ${got.keyslot_key_bytes}B ${v.keyslots.length > 0 ? got.kdfs.join(",") : "no active keyslot"}${got.requirements ? ` requirements ${got.requirements}` : ""}`,
        );
      } else lines.push(`FAIL ${want.image}: ${diffs.join("; ")}`);
    }

    // luks2-validation: R = cryptsetup repairs it, F = beyond repair, T = tests a tool option.
    const manifest = join(src, "luks2-validation-manifest.tsv");
    if (existsSync(manifest)) {
      for (const line of readFileSync(manifest, "utf8").trim().split("\n")) {
        const [image, kind, note] = line.split("\t");
        const path = findImage(dir, image);
        if (!path) continue;
        total++;
        try {
          const v = await describeLuksVolume(target, path);
          const healthy = !v.error && v.version !== null;
          if (kind === "F" && healthy) {
            lines.push(
              `FAIL ${image}: ${note}; koffer describes it as a healthy LUKS${v.version} volume`,
            );
          } else {
            passed++;
            lines.push(
              `ok   ${image} (${kind}): ${v.error ? `error: ${v.error}` : `LUKS${v.version}`}`,
            );
          }
        } catch (error) {
          lines.push(`FAIL ${image}: crashed: ${error.message}`);
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { passed, total, ok: passed === total, target: `${total}/${total}`, lines };
}
