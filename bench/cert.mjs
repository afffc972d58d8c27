// request + sign + install of one VPN client certificate (ecdsa-p384, rsa-3072) through the
// library, timed; baseline in the same run: node-forge's pure-JS RSA-3072 key generation.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import forge from "node-forge";
import { requestCertificate, signRequest, installCertificate } from "../dist/pki/lifecycle.js";
import { readPkcs12 } from "../dist/pki/pkcs12.js";

const certs = new URL("../examples/certs/", import.meta.url).pathname;
const ca = readPkcs12(
  readFileSync(join(certs, "test-vpn-ca.p12")),
  readFileSync(join(certs, "test-vpn-ca.pass"), "utf8").trim(),
);
const caCertPem = ca.certificates[0];
const runs = Number(process.env.BENCH_RUNS ?? 5);

async function once(keyType) {
  const root = mkdtempSync(join(tmpdir(), "koffer-bench-"));
  const t0 = performance.now();
  const r = await requestCertificate({
    root,
    name: "bench",
    subjectTemplate: "CN={hostname}, O=Bench, C=DE",
    hostname: "bk",
    keyType,
  });
  const pem = signRequest({ csrPem: r.csrPem, caCertPem, caKey: ca.key, validityDays: 365 });
  await installCertificate({ root, name: "bench", certPem: pem, caCertPem });
  const ms = performance.now() - t0;
  rmSync(root, { recursive: true, force: true });
  return ms;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const results = {};
for (const k of ["ecdsa-p384", "rsa-3072"]) {
  const xs = [];
  for (let i = 0; i < runs; i++) xs.push(await once(k));
  results[k] = median(xs);
}
const forgeRuns = Math.max(1, Math.min(3, runs));
const fx = [];
for (let i = 0; i < forgeRuns; i++) {
  const t0 = performance.now();
  forge.pki.rsa.generateKeyPair({ bits: 3072, e: 0x10001 });
  fx.push(performance.now() - t0);
}
const forgeMs = median(fx);
for (const [k, ms] of Object.entries(results)) {
  console.log(
    `cert request+sign+install ${k}: ${ms.toFixed(1)} ms (median of ${runs}); ratio to node-forge RSA-3072 keygen: ${(ms / forgeMs).toFixed(4)}`,
  );
}
console.log(
  `baseline node-forge pure-JS RSA-3072 keygen: ${forgeMs.toFixed(1)} ms (median of ${forgeRuns})`,
);
