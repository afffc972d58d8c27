/** CLI points of issue 15: a technician meets no surprise. */
import { describe, expect, it } from "vitest";
import { koffer } from "../helpers/cli.js";

describe("bare koffer", () => {
  it("prints the help on stderr and exits 64", async () => {
    const run = await koffer([]);
    expect(run.exitCode).toBe(64);
    expect(run.stderr).toContain("Usage: koffer");
    expect(run.stdout).toBe("");
  });
  it("`koffer help` and `--help` stay a success", async () => {
    expect((await koffer(["--help"])).exitCode).toBe(0);
    expect((await koffer(["help"])).exitCode).toBe(0);
  });
});
