/**
 * The profile validator the build writes as code (scripts/build-profile-validator.mjs) judges
 * exactly as the one ajv compiles at run time: same verdict and same errors for every profile
 * fixture, valid and broken. And it is used only for the schema it was made from.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { parse } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import type { ValidateFunction } from "ajv";
import { profileValidator, profileValidatorSource } from "../../src/profiles/schema.js";
import { repoRoot } from "../helpers/cli.js";

const fixtures = path.join(import.meta.dirname, "..", "fixtures", "profiles");
let dir: string | undefined;

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Every fixture document that parses as YAML (the others never reach the validator). */
function documents(): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const sub of ["valid", "broken"]) {
    for (const name of readdirSync(path.join(fixtures, sub))) {
      if (!name.endsWith(".yaml")) continue;
      try {
        out.push([
          `${sub}/${name}`,
          parse(readFileSync(path.join(fixtures, sub, name), "utf8"), { logLevel: "silent" }),
        ]);
      } catch {
        // not YAML: the loader reports it before validating
      }
    }
  }
  return out;
}

describe("the built profile validator", () => {
  it("gives the run-time validator's verdict and errors for every fixture", async () => {
    // Next to the repository's node_modules: the code require()s ajv's run-time helpers.
    dir = await mkdtemp(path.join(repoRoot, ".koffer-validator-"));
    const file = path.join(dir, "profile-validator.generated.js");
    await writeFile(file, await profileValidatorSource());
    const built = (await import(pathToFileURL(file).href)) as { validate: ValidateFunction };
    const runtime = await profileValidator();
    const docs = documents();
    expect(docs.length).toBeGreaterThan(20);
    let invalid = 0;
    for (const [name, doc] of docs) {
      const a = runtime(doc);
      const b = built.validate(doc);
      expect(b, name).toBe(a);
      expect(built.validate.errors ?? null, name).toEqual(runtime.errors ?? null);
      if (!a) invalid++;
    }
    // The comparison means something only when both verdicts occur.
    expect(invalid).toBeGreaterThan(5);
    expect(invalid).toBeLessThan(docs.length);
  });

  it("carries the hash of the schema it was made from, which profileValidator compares before use", async () => {
    const source = await profileValidatorSource();
    const { createHash } = await import("node:crypto");
    const schema = JSON.parse(
      readFileSync(path.join(repoRoot, "schema", "profile.schema.json"), "utf8"),
    ) as unknown;
    const hash = createHash("sha256").update(JSON.stringify(schema)).digest("hex");
    expect(source).toContain(`export const schemaSha256 = "${hash}";`);
    // The build writes it into dist/ only; the sources never carry a stale copy.
    expect(
      existsSync(path.join(repoRoot, "src", "profiles", "profile-validator.generated.js")),
    ).toBe(false);
  });
});
