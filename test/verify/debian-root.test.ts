/**
 * `koffer verify --root` on a real debootstrapped Debian 12: the whole catalogue meets a
 * real distribution's files. Every control is in the result, none errors (a gatherer or
 * check tripping over a real file would show as `error`), and a plain Debian is judged
 * non-compliant (exit 1) on what its own files show.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { controls } from "../../src/checks/index.js";
import type { Result } from "../../src/report/types.js";
import { koffer } from "../helpers/cli.js";
import { debianRoot, debianRootSkipReason } from "../helpers/debian-root.js";
import { resultSchemaErrors } from "../helpers/result-schema.js";

const skipReason = debianRootSkipReason();

describe.skipIf(skipReason !== null)(
  `koffer verify on a debootstrapped Debian 12${skipReason ? ` (skipped: ${skipReason})` : ""}`,
  () => {
    let run: { exitCode: number; stdout: string; stderr: string };
    let result: Result;
    beforeAll(async () => {
      const root = await debianRoot();
      run = await koffer(["verify", "--root", root, "--format", "json", "--lang", "en"]);
      result = JSON.parse(run.stdout) as Result;
    }, 900_000);

    it("exits 1: a plain Debian is not a hardened Bürgerkoffer", () => {
      expect(run.exitCode, run.stderr).toBe(1);
      expect(result.summary.compliant).toBe(false);
      expect(resultSchemaErrors(result)).toEqual([]);
    });
    it("every catalogue control is in the result, once, in catalogue order", () => {
      expect(result.controls.map((c) => c.id)).toEqual(controls.map((c) => c.meta.id));
      expect(result.controls).toHaveLength(50);
    });
    it("no control is in error, and no gatherer failed", () => {
      const errored = result.controls
        .filter((c) => c.status === "error")
        .map((c) => `${c.id}: ${c.reason ?? c.message}`);
      expect(errored).toEqual([]);
      expect(run.stderr).not.toMatch(/warning:/);
    });
    it("fails what the distribution's own files decide, for the reason they show", () => {
      const byId = new Map(result.controls.map((c) => [c.id, c]));
      // No crypttab: nothing is encrypted; judged, not skipped.
      for (const id of ["DISK-01", "DISK-02", "DISK-03", "DISK-04", "DISK-05"])
        expect(byId.get(id)?.status, id).toBe("fail");
      expect(byId.get("DISK-02")?.message).toMatch(/found none in \/etc\/crypttab/);
      // Debian's sources.list has no Signed-By; nftables ships an accept-all ruleset.
      expect(byId.get("APP-03")?.status).toBe("fail");
      expect(byId.get("NET-01")?.status).toBe("fail");
      expect(byId.get("USB-01")?.message).toMatch(/USBGuard installed/);
      expect(byId.get("VPN-01")?.status).toBe("fail");
      // Debian 12 is a supported release.
      expect(byId.get("UPD-02")?.status).toBe("pass");
    });
    it("skips only what an offline root cannot show, always with the reason", () => {
      const skipped = result.controls.filter((c) => c.status === "skip");
      expect(skipped.map((c) => c.id).sort()).toEqual(["BOOT-01", "BOOT-02"]);
      for (const c of skipped) expect(c.reason, c.id).toMatch(/offline root/);
    });
  },
);
