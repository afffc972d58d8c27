import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { koffer } from "./helpers/cli.js";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
  version: string;
};

describe("koffer CLI wiring", () => {
  it("prints its version", async () => {
    const run = await koffer(["--version"]);
    expect(run).toMatchObject({ exitCode: 0, stdout: `${pkg.version}\n` });
  });

  it("lists every command in --help", async () => {
    const run = await koffer(["--help"]);
    expect(run.exitCode).toBe(0);
    for (const name of [
      "init",
      "validate",
      "schema",
      "controls",
      "facts",
      "verify",
      "plan",
      "provision",
      "report",
      "cert",
      "demo",
    ]) {
      expect(run.stdout).toMatch(new RegExp(`^  ${name}\\b`, "m"));
    }
  });

  it("exits 64 for an unknown command or option", async () => {
    expect((await koffer(["frobnicate"])).exitCode).toBe(64);
    expect((await koffer(["--frobnicate"])).exitCode).toBe(64);
  });
});
