/**
 * `koffer usb rules` on large and endless input: a 140 KB file and a 100,000-rule file (9 MB)
 * used to die with "Maximum call stack size exceeded" (exit 2, a stack trace); they now print
 * every rule. A file over the 16 MiB cap, or `/dev/zero`, is refused with exit 78.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeRuleBytes } from "../../src/facts/usbguard/bytes.js";
import { koffer } from "../helpers/cli.js";
import { treeSnapshot } from "./guard.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "koffer-usb-rules-"));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

function rules(count: number): string {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = `${(i % 65536).toString(16).padStart(4, "0")}:${((i * 7) % 65536).toString(16).padStart(4, "0")}`;
    lines.push(
      `allow id ${id} serial "S${i}" name "Gerät ${i}" with-interface one-of { 08:*:* 03:00:01 }`,
    );
  }
  return lines.join("\n") + "\n";
}

describe("usb rules on large input", () => {
  it("security: decoding a long ASCII run before a non-ASCII byte does not overflow the stack", () => {
    const bytes = Buffer.concat([Buffer.alloc(2_000_000, 0x61), Buffer.from([0xff])]);
    const text = decodeRuleBytes(bytes);
    expect(text.length).toBe(2_000_001);
    expect(text.charCodeAt(2_000_000)).toBe(0xdcff);
  });

  it("security: a 140 KB rules file prints every rule (exit 0)", async () => {
    const file = join(dir, "140k.conf");
    const text = rules(1500);
    await writeFile(file, text);
    expect(Buffer.byteLength(text)).toBeGreaterThan(130_000);
    const run = await koffer(["usb", "rules", file]);
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(0);
    expect(run.stdout.split("\n").filter((l) => l !== "")).toHaveLength(1500);
  });

  it(
    "security: 100,000 rules (9 MB) print in bounded time and memory (exit 0)",
    { timeout: 120_000 },
    async () => {
      const file = join(dir, "100k.conf");
      await writeFile(file, rules(100_000));
      const before = await treeSnapshot(dir);
      const started = Date.now();
      const run = await koffer(["usb", "rules", file], { timeoutMs: 90_000 });
      expect(run.stderr).toBe("");
      expect(run.exitCode).toBe(0);
      expect(Date.now() - started).toBeLessThan(60_000);
      const out = run.stdout.split("\n");
      expect(out[99_999]).toBe(
        'allow id 869f:ae59 serial "S99999" name "Ger\\xc3\\xa4t 99999" with-interface one-of { 08:*:* 03:00:01 }',
      );
      expect(await treeSnapshot(dir)).toEqual(before);
    },
  );

  it("security: a rules file over 16 MiB is refused with exit 78", async () => {
    const file = join(dir, "huge.conf");
    await writeFile(file, "allow id 1234:5678\n".repeat(900_000)); // 17.1 MB
    const run = await koffer(["usb", "rules", file]);
    expect(run.exitCode).toBe(78);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain(
      `${file}: not read: expected at most 16777216 bytes, found 17100000 bytes`,
    );
  });

  it("security: /dev/zero as a rules file ends at the cap with exit 78", async () => {
    const run = await koffer(["usb", "rules", "/dev/zero"], { timeoutMs: 30_000 });
    expect(run.exitCode).toBe(78);
    expect(run.stderr).toContain(
      "/dev/zero: not read: expected at most 16777216 bytes, found more",
    );
  });
});
