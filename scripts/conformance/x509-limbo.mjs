// x509-limbo: koffer's RFC 5280 path validation (the code behind `koffer cert verify`, VPN-04)
// against the 128 host-name-independent cases in limbo-subset-ids.tsv. OpenSSL 3.0
// (`verify -x509_strict`) agrees with the expected result on 108; koffer must agree on more.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { verifyCertificatePath } from "../../dist/pki/path.js";

const PURPOSES = {
  "1.3.6.1.5.5.7.3.1": "server",
  serverAuth: "server",
  "1.3.6.1.5.5.7.3.2": "client",
  clientAuth: "client",
};

export async function run(oraclesDir) {
  const dir = join(oraclesDir, "x509-limbo");
  const rows = readFileSync(join(dir, "limbo-subset-ids.tsv"), "utf8")
    .trim()
    .split("\n")
    .slice(1)
    .map((l) => l.split("\t"));
  const cases = new Map(
    JSON.parse(readFileSync(join(dir, "limbo-core.json"), "utf8")).testcases.map((t) => [t.id, t]),
  );
  let passed = 0;
  let openssl = 0;
  const lines = [];
  for (const [id, , expected, opensslResult] of rows) {
    const t = cases.get(id);
    if (!t) {
      lines.push(`MISSING ${id}`);
      continue;
    }
    if (opensslResult === expected) openssl++;
    const eku = t.extended_key_usage ?? [];
    const purpose = eku.map((e) => PURPOSES[e]).find(Boolean) ?? "any";
    const r = verifyCertificatePath({
      leaf: t.peer_certificate,
      intermediates: t.untrusted_intermediates,
      trustAnchors: t.trusted_certs,
      crls: t.crls ?? [],
      at: t.validation_time ? new Date(t.validation_time) : new Date(),
      purpose,
      ...(t.max_chain_depth !== null && t.max_chain_depth !== undefined
        ? { maxIntermediates: t.max_chain_depth }
        : {}),
    });
    const got = r.valid ? "SUCCESS" : "FAILURE";
    if (got === expected) passed++;
    else
      lines.push(
        `WRONG ${id}: expected ${expected}, koffer ${got}${r.reason ? ` (${r.code}: ${r.reason})` : ""}`,
      );
  }
  lines.push(
    `x509-limbo: koffer agrees on ${passed}/${rows.length}; OpenSSL 3.0 -x509_strict agrees on ${openssl}`,
  );
  return {
    passed,
    total: rows.length,
    ok: passed > openssl,
    target: `> ${openssl} (OpenSSL)`,
    lines,
  };
}
