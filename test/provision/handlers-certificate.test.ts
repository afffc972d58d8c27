/**
 * The vpn-certificate change: issued on the spot with the test CA (key generated in the
 * tree, 0600), or a CSR written and reported when no CA is at hand.
 */
import { X509Certificate } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readPkcs12 } from "../../src/pki/pkcs12.js";
import { loadProfileOrThrow } from "../../src/profiles/loader.js";
import { applyChanges } from "../../src/provision/apply.js";
import { makeHandlers } from "../../src/provision/handlers/index.js";
import type { Change } from "../../src/provision/types.js";
import { RootTarget } from "../../src/targets/root.js";
import { repoRoot } from "../helpers/cli.js";
import { buildRoot } from "../helpers/root-tree.js";

const change = (action: "issue" | "request"): Change => ({
  kind: "vpn-certificate",
  action,
  name: "koffer-07",
  resource: "strongswan",
  summary: "certificate",
  controls: ["VPN-03", "VPN-04"],
});

async function setup() {
  const root = await buildRoot({ files: { "/etc/hostname": "koffer-07\n" } });
  const profile = await loadProfileOrThrow(join(repoRoot, "examples/meerane.yaml"));
  return { root, profile, target: await RootTarget.open({ root }) };
}

describe("vpn-certificate handler", () => {
  it("issues with the CA: key 0600 in the tree, certificate chains to the CA, then no-op", async () => {
    const { root, profile, target } = await setup();
    const pass = (await readFile(join(repoRoot, "examples/certs/test-vpn-ca.pass"), "utf8")).trim();
    const p12 = readPkcs12(await readFile(join(repoRoot, "examples/certs/test-vpn-ca.p12")), pass);
    const ca = { certPem: p12.certificates[0]!, key: p12.key };
    const set = makeHandlers({ profile, pbkdfCost: "fast", ca });
    const report = await applyChanges(target, [change("issue")], { handlers: set.handlers });
    expect(report).toMatchObject({ applied: 1, failed: [] });
    expect((await stat(join(root, "etc/swanctl/private/koffer-07.pem"))).mode & 0o777).toBe(0o600);
    const cert = new X509Certificate(await readFile(join(root, "etc/swanctl/x509/koffer-07.pem")));
    expect(cert.subject).toMatch(/CN=koffer-07/);
    expect(cert.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    const again = await applyChanges(target, [change("issue")], { handlers: set.handlers });
    expect(again).toMatchObject({ applied: 0, unchanged: 1 });
  });

  it("without a CA writes the key and CSR, reports it, and does not write another", async () => {
    const { root, profile, target } = await setup();
    const set = makeHandlers({ profile, pbkdfCost: "fast" });
    const report = await applyChanges(target, [change("request")], { handlers: set.handlers });
    expect(report).toMatchObject({ applied: 1, failed: [] });
    const csr = await readFile(join(root, "etc/swanctl/x509req/koffer-07.csr.pem"), "utf8");
    expect(csr).toMatch(/BEGIN CERTIFICATE REQUEST/);
    expect(set.state.notes.map((n) => n.kind)).toEqual(["certificate-request"]);
    const again = await applyChanges(target, [change("request")], { handlers: set.handlers });
    expect(again).toMatchObject({ applied: 0, unchanged: 1 });
    expect(await readFile(join(root, "etc/swanctl/x509req/koffer-07.csr.pem"), "utf8")).toBe(csr);
  });
});
