import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { koffer } from "../helpers/cli.js";
import { hardenedFacts } from "../helpers/facts.js";
import { tempDir } from "../helpers/tmp.js";

describe("koffer controls / verify (built CLI)", () => {
  it("controls --format json lists the 50 controls", async () => {
    const run = await koffer(["controls", "--format", "json", "--lang", "en"]);
    expect(run.exitCode).toBe(0);
    const parsed = JSON.parse(run.stdout) as { controls: { id: string }[] };
    expect(parsed.controls.map((c) => c.id)).toHaveLength(50);
  });
  it("verify --facts judges a snapshot against the baseline and exits 1", async () => {
    const dir = tempDir("verify");
    const file = join(dir, "facts.json");
    await writeFile(file, JSON.stringify(hardenedFacts()));
    const run = await koffer([
      "verify",
      "--facts",
      file,
      "--format",
      "json",
      "--out",
      join(dir, "r.json"),
      "--quiet",
    ]);
    expect(run.exitCode).toBe(1);
    const result = JSON.parse(await readFile(join(dir, "r.json"), "utf8")) as {
      controls: { id: string; status: string }[];
    };
    expect(result.controls).toHaveLength(50);
    // The baseline names no admins, so the hardened laptop's kisa-admin is not approved.
    expect(result.controls.find((c) => c.id === "ACC-01")?.status).toBe("fail");
    expect(result.controls.some((c) => c.status === "error")).toBe(false);
  });
  it("verify --facts with broken JSON exits 78 naming the position", async () => {
    const dir = tempDir("verify");
    const file = join(dir, "bad.json");
    await writeFile(file, '{"schema": "koffer/facts/v1",\n  oops\n}');
    const run = await koffer(["verify", "--facts", file]);
    expect(run.exitCode).toBe(78);
    expect(run.stderr).toMatch(
      new RegExp(`${file.replace(/[.]/g, "\\.")}:2:3: Expected valid JSON, found a syntax error`),
    );
  });
  it("an unknown --fail-on is a usage error", async () => {
    const run = await koffer(["verify", "--fail-on", "severe"]);
    expect(run.exitCode).toBe(64);
  });
});
