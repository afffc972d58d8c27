/**
 * `koffer demo` through the built CLI: refuses clearly without root (exit 2, before doing
 * anything), and as root runs the whole flow and leaves an HTML report where it says.
 */
import { execa } from "execa";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { demoHostname } from "../../src/demo/demo.js";
import { cleanupChroot } from "../../src/provision/handlers/index.js";
import { RootTarget } from "../../src/targets/root.js";
import { koffer, kofferBin, repoRoot } from "../helpers/cli.js";
import { debianRootSkipReason } from "../helpers/debian-root.js";

describe("koffer demo", () => {
  it("says it needs root and exits 2 when run as an ordinary user", async () => {
    const result = await execa(
      "setpriv",
      ["--reuid=nobody", "--regid=nogroup", "--clear-groups", process.execPath, kofferBin, "demo"],
      { reject: false, cwd: repoRoot, env: { HOME: "/nonexistent", NO_COLOR: "1" } },
    );
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/koffer demo needs root/);
  });

  it("refuses a release it does not know (exit 64), naming the ones it does", async () => {
    const run = await koffer(["demo", "--release", "sid"]);
    expect(run.exitCode).toBe(64);
    expect(run.stderr).toMatch(/unknown release sid; use bookworm or trixie/);
  });

  it.skipIf(debianRootSkipReason() !== null)(
    "builds the laptop, verifies (exit 1), provisions, verifies again and writes the HTML report",
    async () => {
      const work = await mkdtemp(join(tmpdir(), "koffer-demo-"));
      try {
        const run = await koffer(["demo", "--work-dir", work], {
          env: { KOFFER_TEST_PBKDF: "fast" },
          timeoutMs: 20 * 60_000,
        });
        expect(run.stdout).toMatch(/^1\. verify before: {2}exit 1 — NOT compliant/m);
        expect(run.stdout).toMatch(/^2\. provision: {6}run \S+: \d+ changes applied, 0 failed$/m);
        // setup.sh installs swtpm, so TPM2+PIN enrolment can happen and the laptop ends compliant.
        expect(run.stdout).toMatch(/^3\. verify after: {3}exit 0 — compliant: \d+ pass, 0 fail/m);
        expect(run.exitCode).toBe(0);
        // It says what it leaves on disk and how big (a Debian root and a disk image).
        expect(run.stdout).toMatch(/^Work dir: \S+ \(\d+(\.\d)? (MB|GB)\)$/m);
        const html = /^Report \(HTML\): (\S+)$/m.exec(run.stdout)?.[1] ?? "";
        expect((await stat(html)).mode & 0o777).toBe(0o600);
        const report = await readFile(html, "utf8");
        expect(report).toMatch(/^<!DOCTYPE html>/i);
        expect(report).toContain(demoHostname);
        expect(await readFile("/proc/self/mountinfo", "utf8")).not.toContain(work);
      } finally {
        // Never delete through a mount a failed run might have left in the tree.
        await cleanupChroot(await RootTarget.open({ root: join(work, "root") })).catch(
          () => undefined,
        );
        await rm(work, { recursive: true, force: true });
      }
    },
    20 * 60_000,
  );
});
