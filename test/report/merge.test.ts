/**
 * mergeResults on its own: drift against the *previous* run whatever order files arrive in,
 * latest result decides the failing devices, expired waivers are flagged.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { mergeResults } from "../../src/report/merge.js";
import { renderJson } from "../../src/report/render/index.js";
import type { Result } from "../../src/report/types.js";
import { sampleResult } from "../helpers/result.js";
import { tempDir } from "../helpers/tmp.js";

function at(r: Result, startedAt: string): Result {
  r.startedAt = startedAt;
  return r;
}

describe("mergeResults", () => {
  it("drift compares the latest run with the one before it, regardless of file order", async () => {
    const dir = tempDir("merge");
    const runs: [string, Result][] = [
      ["c.json", at(sampleResult("compliant"), "2025-03-01T00:00:00Z")],
      ["a.json", at(sampleResult("non-compliant"), "2025-04-01T00:00:00Z")],
      ["b.json", at(sampleResult("compliant"), "2025-05-01T00:00:00Z")],
      ["d.json", at(sampleResult("non-compliant"), "2025-01-01T00:00:00Z")],
    ];
    for (const [name, r] of runs) writeFileSync(join(dir, name), renderJson(r));
    const o = await mergeResults(
      runs.map(([n]) => join(dir, n)),
      { now: new Date("2025-05-02T00:00:00Z") },
    );
    expect(o.results).toBe(4);
    expect(o.devices).toBe(1);
    const m = o.municipalities[0]!;
    // Latest (May) is compliant: nothing failing; drift April → May is the recovery.
    expect(m.controls).toEqual([]);
    expect(m.compliantDevices).toBe(1);
    expect(m.drift).toHaveLength(1);
    expect(m.drift[0]!.from).toBe("2025-04-01T00:00:00Z");
    expect(m.drift[0]!.to).toBe("2025-05-01T00:00:00Z");
    expect(m.drift[0]!.changes).toContainEqual({ control: "USB-01", from: "fail", to: "pass" });
  });

  it("flags expired waivers and certificates, and skips what is not a result", async () => {
    const dir = tempDir("merge");
    writeFileSync(join(dir, "r.json"), renderJson(sampleResult("non-compliant")));
    writeFileSync(join(dir, "broken.json"), "{");
    const o = await mergeResults(
      [join(dir, "r.json"), join(dir, "broken.json"), join(dir, "missing.json")],
      {
        now: new Date("2025-07-01T00:00:00Z"),
      },
    );
    const m = o.municipalities[0]!;
    expect(m.expiringWaivers).toEqual([
      expect.objectContaining({ control: "NET-01", expired: true }),
    ]);
    expect(m.expiringCertificates).toEqual([
      expect.objectContaining({ hostname: "koffer-01", expired: true }),
    ]);
    expect(o.skipped.map((s) => s.file.split("/").pop())).toEqual(["broken.json", "missing.json"]);
    expect(o.skipped[0]!.reason).toMatch(/^not JSON/);
  });

  it("skips a damaged result with a reason instead of failing the whole merge", async () => {
    const dir = tempDir("merge");
    const good = sampleResult("non-compliant");
    const write = (name: string, value: unknown) => {
      writeFileSync(join(dir, name), JSON.stringify(value));
      return join(dir, name);
    };
    const { summary: _summary, ...noSummary } = good;
    const files = [
      write("good.json", at(good, "2025-05-01T00:00:00Z")),
      write("no-summary.json", noSummary),
      write("no-profile.json", { ...good, profile: undefined }),
      write("bad-status.json", {
        ...good,
        controls: [{ ...good.controls[0]!, status: "compliant-honest" }],
      }),
      // Would otherwise stand as the device's latest result, hiding every newer one.
      write("bad-time.json", { ...good, startedAt: "yesterday-ish" }),
    ];
    const o = await mergeResults(files, { now: new Date("2025-07-01T00:00:00Z") });
    expect(o.results).toBe(1);
    expect(o.skipped.map((s) => [s.file.split("/").pop(), s.reason])).toEqual([
      ["no-summary.json", "no summary.compliant"],
      ["no-profile.json", "no profile name"],
      ["bad-status.json", "a control without a valid id, status or severity"],
      ["bad-time.json", "no valid startedAt"],
    ]);
  });

  it("a waiver beyond the window is not listed", async () => {
    const dir = tempDir("merge");
    writeFileSync(join(dir, "r.json"), renderJson(sampleResult("non-compliant")));
    const o = await mergeResults([join(dir, "r.json")], { now: new Date("2025-04-01T00:00:00Z") });
    expect(o.municipalities[0]!.expiringWaivers).toEqual([]);
    expect(o.municipalities[0]!.expiringCertificates).toEqual([]);
  });
});
