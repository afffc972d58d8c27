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

describe("koffer validate (text)", () => {
  it("ends every problem line with its rule id, as the README promises", async () => {
    const run = await koffer(["validate", "test/fixtures/profiles/broken/alias-bomb.yaml"]);
    expect(run.exitCode).toBe(78);
    expect(run.stderr).toMatch(/ \(at \/\) \[yaml\/alias-limit\]\n$/);
  });
});

describe("verify --facts without --profile", () => {
  it("says on stderr that the built-in baseline judges the snapshot", async () => {
    const { mkdtemp, mkdir, rm } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const dir = await mkdtemp(join(tmpdir(), "koffer-usability-"));
    try {
      await mkdir(join(dir, "root", "etc"), { recursive: true });
      const facts = join(dir, "facts.json");
      expect((await koffer(["facts", "--root", join(dir, "root"), "--out", facts])).exitCode).toBe(
        0,
      );
      const run = await koffer(["verify", "--facts", facts]);
      expect(run.stderr).toContain(
        "koffer: no --profile given: judging the facts against the built-in baseline (koffer:baseline)",
      );
      const quiet = await koffer(["verify", "--facts", facts, "--profile", "koffer:baseline"]);
      expect(quiet.stderr).not.toContain("no --profile given");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("a missing tool", () => {
  it("is reported once in the text output, not once per control", async () => {
    const { mkdtemp, mkdir, readFile, rm, writeFile } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const dir = await mkdtemp(join(tmpdir(), "koffer-usability-"));
    try {
      await mkdir(join(dir, "root", "etc"), { recursive: true });
      const facts = join(dir, "facts.json");
      expect((await koffer(["facts", "--root", join(dir, "root"), "--out", facts])).exitCode).toBe(
        0,
      );
      const snapshot = JSON.parse(await readFile(facts, "utf8")) as { gatherErrors: unknown[] };
      const missing = "tool cryptsetup is missing (Debian package cryptsetup-bin)";
      snapshot.gatherErrors = [{ area: "disk", message: missing }];
      await writeFile(facts, JSON.stringify(snapshot));
      const run = await koffer(["verify", "--facts", facts, "--profile", "koffer:baseline"]);
      expect(run.exitCode).toBe(2);
      // Once in the list (at the first control that needs it), once as the closing warning.
      expect(run.stdout.split("cryptsetup is missing").length - 1).toBe(1);
      expect(run.stdout).toContain("wie bei DISK-01");
      expect(run.stderr.split("cryptsetup is missing").length - 1).toBe(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("provision --root output", () => {
  it("prints target paths as host paths and an undo hint that works as printed", async () => {
    const { hostPath, undoCommand } = await import("../../src/cli/provision.js");
    const { mkdtemp, rm } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { execa } = await import("execa");
    const { kofferBin } = await import("../helpers/cli.js");
    expect(hostPath("/var/lib/koffer/reports/r.html", undefined)).toBe(
      "/var/lib/koffer/reports/r.html",
    );
    const dir = await mkdtemp(join(tmpdir(), "koffer-usability- root "));
    try {
      expect(hostPath("/var/lib/koffer/reports/r.html", dir)).toBe(
        join(dir, "var/lib/koffer/reports/r.html"),
      );
      expect(undoCommand("RUN", undefined)).toBe("koffer rollback RUN");
      const hint = undoCommand("20261201T000000Z-abcdef", dir);
      expect(hint).toContain("--root '");
      // Paste the hint into a shell as a technician would (koffer = the built CLI).
      const run = await execa(
        "bash",
        ["-c", hint.replace(/^koffer/, `'${process.execPath}' '${kofferBin}'`)],
        {
          reject: false,
        },
      );
      expect(run.exitCode).not.toBe(64);
      expect(run.stderr).toContain("20261201T000000Z-abcdef");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("cert status without --name", () => {
  it("looks for the credential provision installs: named after the device's hostname", async () => {
    const { mkdtemp, mkdir, rm, writeFile } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { credentialNameFor } = await import("../../src/pki/lifecycle.js");
    expect(credentialNameFor("Koffer-07\n")).toBe("koffer-07");
    expect(credentialNameFor("")).toBe("koffer");
    const dir = await mkdtemp(join(tmpdir(), "koffer-usability-"));
    try {
      await mkdir(join(dir, "etc"), { recursive: true });
      await writeFile(join(dir, "etc", "hostname"), "Koffer-07\n");
      const run = await koffer(["cert", "status", "--root", dir]);
      expect(run.stdout + run.stderr).toContain(join(dir, "etc/swanctl/x509/koffer-07.pem"));
      expect(run.stdout + run.stderr).not.toContain("koffer-client");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
