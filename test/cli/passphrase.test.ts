/**
 * Passphrases for the CA, escrow and signing keys: never echoed on a terminal, read as one line
 * from piped stdin, and a missing passphrase file is an input error (exit 78), not a crash.
 */
import { PassThrough } from "node:stream";
import { describe, expect, it, vi } from "vitest";
import { readPassphrase } from "../../src/cli/cert.js";
import type { CliIo } from "../../src/cli/context.js";
import { InputError } from "../../src/errors.js";

function io(stdin: NodeJS.ReadableStream): CliIo & { err: () => string } {
  let err = "";
  const stderr = new PassThrough();
  stderr.on("data", (c: Buffer) => (err += c.toString()));
  return { stdin, stdout: new PassThrough(), stderr, env: {}, interactive: true, err: () => err };
}

describe("readPassphrase (cert, ca, escrow)", () => {
  it("on a terminal, switches echo off (raw mode) while the passphrase is typed", async () => {
    const tty = Object.assign(new PassThrough(), { isTTY: true, setRawMode: vi.fn() });
    const ctx = io(tty);
    const answer = readPassphrase(ctx, undefined, "KOFFER_TEST_PASSPHRASE", "escrow key");
    setImmediate(() => tty.write("s3cret-Zq\r"));
    expect(await answer).toBe("s3cret-Zq");
    expect(tty.setRawMode).toHaveBeenNthCalledWith(1, true);
    expect(tty.setRawMode).toHaveBeenLastCalledWith(false);
    expect(ctx.err()).toContain("escrow key passphrase: ");
    expect(ctx.err()).not.toContain("s3cret-Zq");
  });

  it("reads one line from piped stdin", async () => {
    const pipe = new PassThrough();
    pipe.end("piped-pass\nrest\n");
    expect(await readPassphrase(io(pipe), undefined, "KOFFER_TEST_PASSPHRASE", "CA")).toBe(
      "piped-pass",
    );
  });

  it("a passphrase file that cannot be read is an input error (exit 78)", async () => {
    const error = await readPassphrase(
      io(new PassThrough()),
      "/nonexistent/koffer.pass",
      "KOFFER_TEST_PASSPHRASE",
      "CA",
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toMatch(
      /CA passphrase file \/nonexistent\/koffer.pass: ENOENT/,
    );
  });
});
