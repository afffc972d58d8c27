/**
 * Progress of long steps (issue 15): nothing for a quick step; for a slow one a spinner with
 * the elapsed time on a terminal, timestamped lines otherwise. The CLI runs use
 * KOFFER_PROGRESS_AFTER_MS=0 so that gathering facts counts as slow.
 */
import { PassThrough } from "node:stream";
import { beforeAll, describe, expect, it } from "vitest";
import { stepDisplay } from "../../src/cli/progress.js";
import { step } from "../../src/progress.js";
import { koffer, repoRoot } from "../helpers/cli.js";
import { buildRoot } from "../helpers/root-tree.js";
import { kofferInTty } from "../helpers/tty.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function plainIo() {
  const stderr = new PassThrough();
  let text = "";
  stderr.on("data", (c: Buffer) => (text += c.toString("utf8")));
  const io = {
    stdout: new PassThrough(),
    stderr,
    stdin: new PassThrough(),
    env: {},
    interactive: false,
  };
  return { io, text: () => text };
}

describe("step progress, library and display", () => {
  it("a step that ends within the threshold shows nothing", async () => {
    const { io, text } = plainIo();
    const display = await stepDisplay(io, { thresholdMs: 200 });
    expect(await step(display, "quick", async () => 42)).toBe(42);
    await sleep(300);
    expect(text()).toBe("");
  });

  it("a slow step shows timestamped lines: at the threshold, while it runs, and its end", async () => {
    const { io, text } = plainIo();
    const display = await stepDisplay(io, { thresholdMs: 50, repeatMs: 100 });
    await step(display, "apt-get install in the sandbox", () => sleep(330));
    const lines = text().trimEnd().split("\n");
    expect(lines[0]).toMatch(/^koffer: \[\d\d:\d\d:\d\d\] apt-get install in the sandbox …$/);
    expect(lines.slice(1, -1).length).toBeGreaterThanOrEqual(1);
    for (const l of lines.slice(1, -1))
      expect(l).toMatch(/^koffer: \[\d\d:\d\d:\d\d\] apt-get install in the sandbox … \d\.\d s$/);
    expect(lines.at(-1)).toMatch(
      /^koffer: \[\d\d:\d\d:\d\d\] apt-get install in the sandbox: done in 0\.\d s$/,
    );
  });

  it("a failing step says so and the error goes on", async () => {
    const { io, text } = plainIo();
    const display = await stepDisplay(io, { thresholdMs: 0 });
    await expect(
      step(display, "signing", async () => {
        await sleep(30);
        throw new Error("no key");
      }),
    ).rejects.toThrow("no key");
    expect(text()).toMatch(/signing: failed in 0\.\d s\n$/);
  });
});

describe("koffer verify shows gathering facts", () => {
  let root: string;
  beforeAll(async () => {
    root = await buildRoot();
  });
  const args = () => ["verify", "--root", root, "--profile", "examples/meerane.yaml"];

  it("without a terminal: timestamped lines on stderr, stdout unchanged", async () => {
    const run = await koffer(args(), { env: { KOFFER_PROGRESS_AFTER_MS: "0" } });
    expect(run.stderr).toMatch(/^koffer: \[\d\d:\d\d:\d\d\] gathering facts …$/m);
    expect(run.stderr).toMatch(
      /^koffer: \[\d\d:\d\d:\d\d\] gathering facts: done in \d+(\.\d)? s$/m,
    );
    expect(run.stdout).not.toContain("gathering facts");
    expect(run.exitCode).toBe(1);
  });

  it("--quiet prints no progress", async () => {
    const run = await koffer([...args(), "--quiet"], { env: { KOFFER_PROGRESS_AFTER_MS: "0" } });
    expect(run.stderr).not.toContain("gathering facts");
    expect(run.exitCode).toBe(1);
  });

  it("on a terminal: a spinner with the elapsed time, kept as a ✔ line", async () => {
    const run = await kofferInTty(args(), [], {
      cwd: repoRoot,
      env: { KOFFER_PROGRESS_AFTER_MS: "0" },
      timeoutMs: 60_000,
    });
    expect(run.output).toMatch(/gathering facts \(\d+\.\d s\)/);
    expect(run.output).toMatch(/✔ gathering facts: done in \d+(\.\d)? s/);
    // No timestamped log lines on a terminal: the spinner is the progress.
    expect(run.output).not.toMatch(/\[\d\d:\d\d:\d\d\] gathering facts/);
    expect(run.exitCode).toBe(1);
  });
});
