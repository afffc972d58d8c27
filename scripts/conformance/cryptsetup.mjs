// cryptsetup: the disk gatherer (koffer's reading of LUKS headers through the real
// `cryptsetup`) on the cryptsetup project's own test images. Every image in
// images-params.tsv must come back either described as cryptsetup itself reads it
// (version, data cipher, key size, PBKDFs, iterations, argon2 memory, requirement flags)
// or — where `cryptsetup luksDump` fails — as a volume with `error` set. Never a crash,
// never a damaged header described as a healthy volume. The luks2-validation images are
// run too (no crash; "F" images, which cryptsetup cannot repair, must error).
//
// Then the verdicts: every image is put as the root volume into an otherwise empty facts
// snapshot and DISK-01/02/03 are evaluated against the built-in baseline. What each image
// violates comes from the oracle's own columns (images-params.tsv), not from koffer's reading:
// LUKS1 or unknown requirement flags → DISK-01 fails; anything but aes-xts-plain64 with a
// 512-bit key → DISK-02 fails; a PBKDF other than argon2id, or argon2 below 32 MiB → DISK-03
// fails. A control the image does not violate passes. A damaged header (luksDump fails,
// or "F" in the validation manifest) must make all three error or fail; none may pass. Every
// image is weak or damaged in some way, so no image may pass all three.
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

/**
 * The validation-manifest images have no row in images-params.tsv: once cryptsetup reads them
 * (its header agreeing with koffer's reading is checked above for the tsv images), their
 * parameters as read stand in for the oracle's columns.
 */
function columnsAsOracle(got, v) {
  return {
    version: got.version,
    segment_encryption: got.segment_encryption,
    keyslot_key_bytes: got.keyslot_key_bytes,
    kdfs: v.keyslots.length > 0 ? got.kdfs.join(",") : "",
    argon_mem_kib: got.argon_mem_kib,
    requirements: got.requirements,
  };
}

function sameSet(a, b) {
  const x = [...a].sort().join(",");
  const y = [...b].sort().join(",");
  return x === y;
}

const diskControls = ["DISK-01", "DISK-02", "DISK-03"];

/** Judge one volume with DISK-01/02/03: { "DISK-01": "fail", … } and the first messages. */
function judge(lib, volume) {
  const facts = {
    schema: "koffer/facts/v1",
    gatheredAt: "2026-01-01T00:00:00.000Z",
    tool: { name: "koffer", version: "conformance" },
    target: { kind: "root", hostname: "oracle" },
    host: { hostname: "oracle", machineId: null, serialNumber: null },
    ...Object.fromEntries(Object.entries(lib.areaGatherers).map(([a, g]) => [a, g.empty()])),
    gatherErrors: [],
  };
  facts.disk.crypttab = [
    {
      name: "cryptroot",
      device: `UUID=${volume.uuid ?? "unknown"}`,
      keyFile: null,
      options: ["luks", "tpm2-device=auto"],
      source: "/etc/crypttab:1",
    },
  ];
  facts.disk.fstab = [
    {
      spec: "/dev/mapper/cryptroot",
      file: "/",
      vfstype: "ext4",
      options: ["errors=remount-ro"],
      source: "/etc/fstab:1",
    },
  ];
  facts.disk.volumes = [{ ...volume, crypttabName: "cryptroot" }];
  const out = {};
  for (const id of diskControls) {
    const r = lib.evaluateControl(lib.controlById(id), lib.profile, facts, { now: lib.now }, "en");
    out[id] = { status: r.status, message: r.message || r.reason || "" };
  }
  return out;
}

/** What the oracle row says the image violates, per control. */
function violations(want) {
  const kdfs = want.kdfs.split(",").filter(Boolean);
  const mem = want.argon_mem_kib.split(",").filter(Boolean).map(Number);
  return {
    "DISK-01": want.version !== "2" || want.requirements !== "",
    "DISK-02":
      want.segment_encryption !== "aes-xts-plain64" ||
      want.keyslot_key_bytes.split(",").some((b) => b !== "64"),
    "DISK-03": kdfs.some((k) => k !== "argon2id") || mem.some((m) => m < 32768),
  };
}

/** Check a verdict against the oracle: [ok, description]. */
function verdictLine(image, verdict, expected) {
  const statuses = diskControls.map((id) => `${id} ${verdict[id].status}`).join(", ");
  const wrong = [];
  for (const id of diskControls) {
    const got = verdict[id].status;
    if (expected === "damaged") {
      if (got !== "error" && got !== "fail") wrong.push(`${id} ${got}, expected error or fail`);
    } else if (expected[id] && got !== "fail") wrong.push(`${id} ${got}, expected fail`);
    else if (!expected[id] && got !== "pass") wrong.push(`${id} ${got}, expected pass`);
  }
  if (diskControls.every((id) => verdict[id].status === "pass"))
    wrong.push("a weak or damaged image passes every disk control");
  const first = diskControls.find((id) => verdict[id].status !== "pass");
  const why = first ? ` — ${first}: ${verdict[first].message}` : "";
  return wrong.length === 0
    ? [true, `ok   verdict ${image}: ${statuses}${why}`]
    : [false, `FAIL verdict ${image}: ${wrong.join("; ")} (${statuses})`];
}

export async function run(oraclesDir) {
  const { describeLuksVolume } = await import(new URL("facts/disk.js", dist));
  const { LocalTarget } = await import(new URL("targets/local.js", dist));
  const { areaGatherers } = await import(new URL("facts/index.js", dist));
  const { evaluateControl } = await import(new URL("report/evaluate.js", dist));
  const { controlById } = await import(new URL("checks/index.js", dist));
  const { baseline } = await import(new URL("profiles/baseline.js", dist));
  const lib = {
    areaGatherers,
    evaluateControl,
    controlById,
    now: new Date(),
    profile: {
      apiVersion: "koffer/v1",
      kind: "Profile",
      metadata: { name: "koffer:baseline" },
      spec: JSON.parse(JSON.stringify(baseline.spec)),
      waivers: [],
      source: { file: "koffer:baseline", sha256: "0".repeat(64), extends: [] },
    },
  };
  const verdicts = [];
  const judged = (image, volume, expected) => {
    const [ok, line] = verdictLine(image, judge(lib, volume), expected);
    verdicts.push({ ok, line });
  };
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
      judged(want.image, v, want.luksDump_rc !== "0" ? "damaged" : violations(want));
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
          // R/T images are readable after cryptsetup's own recovery; F images are damaged.
          if (kind === "F" || !healthy) judged(image, v, "damaged");
          else judged(image, v, violations(columnsAsOracle(columns(v), v)));
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
  const verdictsPassed = verdicts.filter((x) => x.ok).length;
  lines.push(...verdicts.map((x) => x.line));
  lines.push(
    `disk-control verdicts (DISK-01/02/03 per image): ${verdictsPassed}/${verdicts.length}`,
  );
  passed += verdictsPassed;
  total += verdicts.length;
  return { passed, total, ok: passed === total, target: `${total}/${total}`, lines };
}
