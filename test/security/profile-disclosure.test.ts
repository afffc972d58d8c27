/**
 * Profiles must not disclose files. Before, `extends` followed a symbolic link or `../../`
 * out of the profile tree, and `koffer validate` quoted what it read in its errors (a private
 * key and a shadow line were printed). Now:
 * - `extends` stays inside the directory of the top-level profile, after following links
 *   (rule `extends/escape`);
 * - a file that does not claim to be a profile (`apiVersion: koffer/…`) gets one problem with
 *   its position and what was expected, never a line of its content (`input/not-a-profile`).
 * Exit 78 in every case; nothing is written.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { koffer } from "../helpers/cli.js";
import { openssl } from "../helpers/openssl.js";
import { treeSnapshot } from "./guard.js";

let base: string;
let tree: string;
let keyLines: string[];
const shadowLine =
  "root:$6$kofferTEST$4bV8e0s3cr3tHashNotReal0123456789abcdefghijklmnopq:19700:0:99999:7:::";

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), "koffer-disclosure-"));
  tree = join(base, "profiles", "meerane");
  const outside = join(base, "outside");
  await mkdir(tree, { recursive: true });
  await mkdir(outside);
  // A real private key (what an attacker hopes to read), outside and inside the tree.
  await openssl(outside, [
    "genpkey",
    "-algorithm",
    "EC",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-out",
    "key.pem",
  ]);
  const key = await readFile(join(outside, "key.pem"), "utf8");
  keyLines = key.split("\n").filter((l) => l.length > 8);
  await writeFile(join(outside, "secret.yaml"), key);
  await writeFile(join(outside, "shadow.yaml"), `${shadowLine}\n`);
  await symlink(join(outside, "secret.yaml"), join(tree, "key-link.yaml"));
  await symlink("../../outside/shadow.yaml", join(tree, "shadow-link.yaml"));
  await writeFile(join(tree, "inside-key.yaml"), key);
  await writeFile(join(tree, "inside-shadow.yml"), `${shadowLine}\n`);
});
afterAll(async () => rm(base, { recursive: true, force: true }));

function profile(extendsList: string[]): string {
  return [
    "apiVersion: koffer/v1",
    "kind: Profile",
    "metadata:",
    "  name: meerane",
    "  title: Test",
    "  controller: Stadt Meerane",
    "  processor: KISA",
    `extends: [${["koffer:baseline", ...extendsList].join(", ")}]`,
    "",
  ].join("\n");
}

async function validate(name: string, extendsList: string[]) {
  const file = join(tree, name);
  await writeFile(file, profile(extendsList));
  const before = await treeSnapshot(base);
  const run = await koffer(["validate", file]);
  expect(await treeSnapshot(base)).toEqual(before);
  const out = run.stdout + run.stderr;
  for (const line of keyLines) expect(out).not.toContain(line);
  expect(out).not.toContain("kofferTEST");
  expect(out).not.toContain("PRIVATE KEY");
  expect(run.exitCode).toBe(78);
  return { file, out };
}

describe("profiles disclose no files", () => {
  it("security: extends through a symbolic link to a private key outside the tree is refused", async () => {
    const { file, out } = await validate("via-link.yaml", ["key-link.yaml"]);
    expect(out).toContain(
      `${file}:8:28: Expected a profile inside the directory of via-link.yaml, found "key-link.yaml", a symbolic link leading outside it (at /extends/1)`,
    );
  });

  it("security: extends through ../../ to a shadow file outside the tree is refused", async () => {
    const { file, out } = await validate("via-dots.yaml", ["../../outside/shadow.yaml"]);
    expect(out).toContain(
      `${file}:8:28: Expected a profile inside the directory of via-dots.yaml, found "../../outside/shadow.yaml" leading outside it (at /extends/1)`,
    );
  });

  it("security: a relative symbolic link leading outside is refused too", async () => {
    const { out } = await validate("via-relative-link.yaml", ["shadow-link.yaml"]);
    expect(out).toContain('found "shadow-link.yaml", a symbolic link leading outside it');
  });

  it("security: a private key inside the tree is named by position only", async () => {
    const { out } = await validate("inside-key-top.yaml", ["inside-key.yaml"]);
    expect(out).toContain(
      `${join(tree, "inside-key.yaml")}:1:1: Expected a koffer profile (a YAML mapping with apiVersion: koffer/v1), found a file that is not one; its content is not shown (at /)`,
    );
  });

  it("security: a shadow line inside the tree is named by position only", async () => {
    const { out } = await validate("inside-shadow-top.yaml", ["inside-shadow.yml"]);
    expect(out).toContain(`${join(tree, "inside-shadow.yml")}:1:1: Expected a koffer profile`);
  });

  it("security: a private key given as the profile itself is not quoted", async () => {
    const run = await koffer(["validate", join(tree, "inside-key.yaml")]);
    expect(run.exitCode).toBe(78);
    for (const line of keyLines) expect(run.stdout + run.stderr).not.toContain(line);
    expect(run.stderr).toContain("its content is not shown");
  });

  it("security: verify with such a profile refuses it the same way (exit 78)", async () => {
    const file = join(tree, "verify-top.yaml");
    await writeFile(file, profile(["key-link.yaml"]));
    const run = await koffer(["verify", "--facts", file, "--profile", file]);
    for (const line of keyLines) expect(run.stdout + run.stderr).not.toContain(line);
    expect(run.exitCode).toBe(78);
  });
});
