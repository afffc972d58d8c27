/**
 * The README's "Evidence for the data-protection officer", command by command: a new user
 * has only `koffer ca init`; `ca issue-signer` gives a document-signing certificate with
 * which `report sign` and `report verify` work, and the report names the test material.
 */
import { X509Certificate } from "node:crypto";
import { copyFile, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { koffer, repoRoot } from "../helpers/cli.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "koffer-evidence-guide-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("koffer ca init", () => {
  it("says TEST once in the CN and refuses to replace an existing CA key without --force", async () => {
    const ca = join(dir, "ca-overwrite");
    expect((await koffer(["ca", "init", "--out-dir", ca])).exitCode).toBe(0);
    const before = await readFile(join(ca, "test-ca.p12"));
    const cn = new X509Certificate(await readFile(join(ca, "test-ca.pem"))).subject;
    expect(cn).toContain("CN=KOFFER TEST VPN CA – NICHT PRODUKTIV");
    expect(cn.match(/TEST/g)).toHaveLength(1);
    const again = await koffer(["ca", "init", "--out-dir", ca]);
    expect(again.exitCode).toBe(64);
    expect(again.stderr).toContain("exists; koffer never replaces a key silently");
    expect(await readFile(join(ca, "test-ca.p12"))).toEqual(before);
    expect((await koffer(["ca", "init", "--out-dir", ca, "--force"])).exitCode).toBe(0);
    expect(await readFile(join(ca, "test-ca.p12"))).not.toEqual(before);
  });
});

describe("the data-protection officer's evidence, as the README shows it", () => {
  it("ca init → ca issue-signer → report sign → report verify → report render names the test signer", async () => {
    const cwd = dir;
    const run = (args: string[]) => koffer(args, { cwd });
    expect((await run(["ca", "init", "--out-dir", "ca"])).exitCode).toBe(0);
    const signer = await run([
      "ca",
      "issue-signer",
      "--ca-dir",
      "ca",
      "--name",
      "Erika Mustermann",
      "--out-dir",
      "signer",
    ]);
    expect(signer.exitCode, signer.stderr).toBe(0);
    expect((await stat(join(dir, "signer", "signer.key"))).mode & 0o777).toBe(0o600);
    expect(await readFile(join(dir, "signer", "signer.key"), "utf8")).toContain("ENCRYPTED");
    await copyFile(
      join(repoRoot, "test", "fixtures", "reports", "compliant.de.json"),
      join(dir, "result.json"),
    );
    const sign = await run([
      "report",
      "sign",
      "result.json",
      "--key",
      "signer/signer.key",
      "--cert",
      "signer/signer.pem",
      "--passphrase-file",
      "signer/signer.pass",
    ]);
    expect(sign.exitCode, sign.stderr).toBe(0);
    const verify = await run(["report", "verify", "result.json", "--ca", "ca/test-ca.pem"]);
    expect(verify.exitCode, verify.stderr).toBe(0);
    expect(verify.stdout).toContain("CN=Erika Mustermann – TEST – NICHT PRODUKTIV");
    const render = await run([
      "report",
      "render",
      "result.json",
      "--format",
      "html",
      "--out-dir",
      "dpo",
      "--signature",
      "result.json.p7s",
      "--ca",
      "ca/test-ca.pem",
    ]);
    expect(render.exitCode, render.stderr).toBe(0);
    const html = await readFile(join(dir, "dpo", "result.html"), "utf8");
    const cover = /<header class="cover"[\s\S]*?<\/header>/.exec(html)?.[0] ?? "";
    expect(cover).toContain("gültig signiert");
    expect(cover).toContain(
      "Testmaterial — nicht für den Produktivbetrieb: Unterzeichner CN=Erika Mustermann – TEST – NICHT PRODUKTIV",
    );
    // A changed byte fails verification with exit 1.
    const bytes = await readFile(join(dir, "result.json"), "utf8");
    const { writeFile } = await import("node:fs/promises");
    await writeFile(
      join(dir, "result.json"),
      bytes.replace('"compliant": true', '"compliant": false'),
    );
    expect(
      (await run(["report", "verify", "result.json", "--ca", "ca/test-ca.pem"])).exitCode,
    ).toBe(1);
  });
});
