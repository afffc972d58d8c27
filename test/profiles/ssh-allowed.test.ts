/**
 * Administrative SSH (network.ssh: true) against the baseline's deny list: the baseline
 * denies openssh-server only as the consequence of its own `ssh: false`.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadProfile } from "../../src/profiles/loader.js";

const fixture = join(import.meta.dirname, "..", "fixtures", "ssh", "rig-laptop.yaml");

describe("network.ssh: true with extends koffer:baseline", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it("is valid, and openssh-server leaves the effective deny list", async () => {
    const { profile, problems } = await loadProfile(fixture);
    expect(problems.filter((p) => p.severity === "error")).toEqual([]);
    expect(profile?.spec.network.ssh).toBe(true);
    expect(profile?.spec.apps.deny).not.toContain("openssh-server");
    expect(profile?.spec.apps.deny).toContain("x11vnc");
  });

  it("stays a contradiction when the profile itself denies openssh-server", async () => {
    const dir = await mkdtemp(join(tmpdir(), "koffer-ssh-profile-"));
    dirs.push(dir);
    const file = join(dir, "p.yaml");
    const text = (await readFile(fixture, "utf8")).replace(
      "  apps:\n    allow: [firefox-esr, cups]",
      "  apps:\n    allow: [firefox-esr, cups]\n    deny: [openssh-server]",
    );
    await writeFile(file, text);
    const { profile, problems } = await loadProfile(file);
    expect(profile).toBeNull();
    expect(problems.map((p) => p.rule)).toContain("contradiction/ssh-denied");
  });

  it("without ssh: true the baseline still denies openssh-server", async () => {
    const dir = await mkdtemp(join(tmpdir(), "koffer-ssh-profile-"));
    dirs.push(dir);
    const file = join(dir, "p.yaml");
    await writeFile(file, (await readFile(fixture, "utf8")).replace("ssh: true", "ssh: false"));
    const { profile } = await loadProfile(file);
    expect(profile?.spec.apps.deny).toContain("openssh-server");
  });
});
