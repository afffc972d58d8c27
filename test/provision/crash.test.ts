/**
 * Crash safety (issue 5): a provision killed with SIGKILL at a random moment never leaves a
 * managed file half-written, and running it again converges.
 */
import { execa } from "execa";
import { mkdtemp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { applyChanges } from "../../src/provision/apply.js";
import type { Change } from "../../src/provision/types.js";
import { RootTarget } from "../../src/targets/root.js";
import { repoRoot } from "../helpers/cli.js";

const files = 40;
const oldContent = (i: number) => `old ${i}\n`.repeat(2_000);
const newContent = (i: number) => `new ${i} `.repeat(8_000) + "\n";

function plan(): Change[] {
  return Array.from({ length: files }, (_, i) => ({
    kind: "write-file" as const,
    resource: "crash-test",
    summary: `file ${i}`,
    controls: [],
    path: `/etc/managed/f${i}.conf`,
    content: newContent(i),
    mode: 0o640,
    uid: 0,
    gid: 0,
  }));
}

// The child applies the same plan through the built library, as `koffer provision` would.
const child = `
  const { applyChanges } = await import(${JSON.stringify(join(repoRoot, "dist/provision/apply.js"))});
  const { RootTarget } = await import(${JSON.stringify(join(repoRoot, "dist/targets/root.js"))});
  let input = "";
  for await (const chunk of process.stdin) input += chunk;
  const plan = JSON.parse(input);
  const target = await RootTarget.open({ root: process.argv[1] });
  await applyChanges(target, plan, {
    progress: { onStart: (_change, index) => process.stdout.write(index + "\\n") },
  });
`;

describe("provision under kill -9", () => {
  it("never leaves a managed file half-written and converges on re-run (20 trials)", async () => {
    const changes = plan();
    const payload = JSON.stringify(changes);
    const dir = await mkdtemp(join(tmpdir(), "koffer-crash-"));
    try {
      const reset = async () => {
        await rm(join(dir, "root"), { recursive: true, force: true });
        await mkdir(join(dir, "root/etc/managed"), { recursive: true });
        for (let i = 0; i < files; i += 2)
          await writeFile(join(dir, `root/etc/managed/f${i}.conf`), oldContent(i));
      };

      let killedMidway = 0;
      for (let trial = 0; trial < 20; trial++) {
        await reset();
        const proc = execa(
          process.execPath,
          ["--input-type=module", "-e", child, join(dir, "root")],
          {
            input: payload,
            reject: false,
          },
        );
        // Kill while change number `at` is under way, a random moment into it.
        const at = Math.floor(Math.random() * files);
        await new Promise<void>((resolve) => {
          let seen = "";
          proc.stdout?.on("data", (chunk: Buffer) => {
            seen += chunk.toString();
            if (seen.split("\n").includes(String(at))) resolve();
          });
          void proc.then(() => resolve());
        });
        await new Promise((r) => setTimeout(r, Math.random() * 4));
        proc.kill("SIGKILL");
        const outcome = await proc;
        if (outcome.signal === "SIGKILL") killedMidway++;

        for (let i = 0; i < files; i++) {
          const text = await readFile(join(dir, `root/etc/managed/f${i}.conf`), "utf8").catch(
            () => null,
          );
          const allowed = [newContent(i), i % 2 === 0 ? oldContent(i) : null];
          expect(allowed, `trial ${trial}, f${i}.conf is half-written`).toContain(text);
        }
        const target = await RootTarget.open({ root: join(dir, "root") });
        const rerun = await applyChanges(target, changes);
        expect(rerun.failed).toEqual([]);
        for (let i = 0; i < files; i++) {
          expect(await readFile(join(dir, `root/etc/managed/f${i}.conf`), "utf8")).toBe(
            newContent(i),
          );
        }
        if (trial % 5 === 0) expect((await applyChanges(target, changes)).applied).toBe(0);
      }
      // The kills must land while the child is still applying, or the trials prove little.
      expect(killedMidway).toBeGreaterThanOrEqual(18);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
