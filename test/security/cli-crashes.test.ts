/**
 * The CLI never dies with a stack trace on what users do every day: piping into `head`,
 * naming an output folder that does not exist yet, pressing Ctrl-C in a dialogue.
 */
import { execa } from "execa";
import { mkdtemp, mkdir, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { koffer, kofferBin } from "../helpers/cli.js";
import { kofferInTty } from "../helpers/tty.js";

let dir: string;
let facts: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "koffer-cli-crashes-"));
  await mkdir(join(dir, "root", "etc"), { recursive: true });
  facts = join(dir, "facts.json");
  const gathered = await koffer(["facts", "--root", join(dir, "root"), "--out", facts]);
  expect(gathered.exitCode).toBe(0);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Run `koffer ARGS | CONSUMER` in bash and return koffer's own exit code and stderr. */
async function piped(args: string[], consumer: string) {
  const errFile = join(dir, `stderr-${Math.random().toString(16).slice(2)}`);
  const quoted = [process.execPath, kofferBin, ...args].map((a) => `'${a}'`).join(" ");
  const run = await execa(
    "bash",
    ["-c", `${quoted} 2>'${errFile}' | ${consumer} >/dev/null; echo "\${PIPESTATUS[0]}"`],
    { reject: false, env: { NO_COLOR: "1" } },
  );
  const { readFile } = await import("node:fs/promises");
  return { exitCode: Number(run.stdout.trim()), stderr: await readFile(errFile, "utf8") };
}

describe("security: a closed stdout (EPIPE) is not a failure", () => {
  it("security: `koffer controls | true` exits 0 without a word on stderr", async () => {
    const run = await piped(["controls"], "true");
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(0);
  });

  it("security: `verify --format html | head -c 10` keeps the verdict's exit code, quietly", async () => {
    const full = await koffer([
      "verify",
      "--facts",
      facts,
      "--profile",
      "koffer:baseline",
      "--format",
      "html",
    ]);
    expect(full.stdout.length).toBeGreaterThan(65_536); // more than a pipe buffer holds
    const run = await piped(
      ["verify", "--facts", facts, "--profile", "koffer:baseline", "--format", "html"],
      "head -c 10",
    );
    expect(run.stderr).not.toMatch(/EPIPE|Error|at /);
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(full.exitCode);
  });
});

describe("security: --out-dir that does not exist", () => {
  it("security: verify creates the folder (mode 0700) and writes the results into it", async () => {
    const out = join(dir, "new", "nested", "out") + "/";
    const run = await koffer([
      "verify",
      "--facts",
      facts,
      "--format",
      "json,html",
      "--out-dir",
      out,
    ]);
    expect(run.stderr).not.toMatch(/internal error|ENOENT/);
    expect([0, 1]).toContain(run.exitCode);
    expect((await readdir(out)).sort()).toEqual(["result.html", "result.json"]);
    expect((await stat(out)).mode & 0o777).toBe(0o700);
  });

  it("security: a --out-dir that is a file is a usage error (64), no stack trace", async () => {
    const file = join(dir, "a-file");
    await writeFile(file, "x");
    const run = await koffer([
      "verify",
      "--facts",
      facts,
      "--profile",
      "koffer:baseline",
      "--format",
      "json",
      "--out-dir",
      file,
    ]);
    expect(run.exitCode).toBe(64);
    expect(run.stderr).toBe(`koffer: --out-dir ${file} exists and is not a directory\n`);
  });
});

describe("security: Ctrl-C in the interactive `koffer init`", () => {
  it("security: prints 'abgebrochen / aborted', exits 130 and writes no file", async () => {
    const cwd = join(dir, "init");
    await mkdir(cwd);
    const run = await kofferInTty(
      ["init"],
      [
        { waitFor: "Verantwortliche Stelle", send: "Stadt Test\r" },
        { waitFor: "Short name", send: "\x03" },
      ],
      { cwd },
    );
    expect(run.exitCode).toBe(130);
    expect(run.output).toContain("koffer: abgebrochen / aborted");
    expect(run.output).not.toMatch(/AbortError|internal error|\n\s+at /);
    expect(await readdir(cwd)).toEqual([]);
  });
});
