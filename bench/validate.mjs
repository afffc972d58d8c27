// Validate 1,000 profiles in one process (target < 2 s), as a ratio to only reading and
// parsing the same files with yaml (the floor any validator pays).
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { parseDocument } from "yaml";
import { validateProfiles } from "../dist/index.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const count = Number(process.env.COUNT ?? 1000);
const dir = mkdtempSync(path.join(tmpdir(), "koffer-bench-validate-"));
try {
  cpSync(path.join(root, "examples/certs"), path.join(dir, "certs"), { recursive: true });
  const examples = ["meerane", "schkeuditz", "limbach-oberfrohna", "feldberger-seenlandschaft"].map(
    (n) => readFileSync(path.join(root, "examples", `${n}.yaml`), "utf8"),
  );
  const files = [];
  for (let i = 0; i < count; i++) {
    const file = path.join(dir, `profile-${i}.yaml`);
    // Distinct files (different names and bytes), so no cache can short-cut the work.
    writeFileSync(
      file,
      examples[i % examples.length].replace(/^ {2}name: (.+)$/m, `  name: $1-${i}`),
    );
    files.push(file);
  }
  mkdirSync(path.join(dir, "empty"), { recursive: true });

  let started = performance.now();
  for (const file of files)
    parseDocument(await readFile(file, "utf8"), { keepSourceTokens: false }).toJS();
  const parseMs = performance.now() - started;

  started = performance.now();
  const reports = await validateProfiles(files);
  const validateMs = performance.now() - started;
  const invalid = reports.filter((r) => !r.valid).length;
  if (invalid > 0)
    throw new Error(
      `${invalid} generated profiles were invalid: ${JSON.stringify(reports.find((r) => !r.valid).problems[0])}`,
    );

  console.log(`yaml parse only   ${count} files  ${parseMs.toFixed(0).padStart(5)} ms`);
  console.log(
    `koffer validate   ${count} files  ${validateMs.toFixed(0).padStart(5)} ms  ratio ${(validateMs / parseMs).toFixed(2)}× (target < 2000 ms: ${validateMs < 2000 ? "met" : "MISSED"})`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
