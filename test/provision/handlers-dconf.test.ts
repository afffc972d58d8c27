/**
 * The dconf compile of an image: koffer's keyfiles and locks become the binary database dconf
 * really reads (checked with the real dconf reading that file), through apply, so the old
 * database is backed up; gathering afterwards sees the database newer than its keyfiles.
 */
import { execa } from "execa";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readDconf } from "../../src/facts/parsers/dconf.js";
import { applyChanges } from "../../src/provision/apply.js";
import { dconfCompileHandler } from "../../src/provision/handlers/dconf.js";
import { dconfKeyfile, dconfLocks, dconfProfile } from "../../src/provision/resources/dconf.js";
import type { Change } from "../../src/provision/types.js";
import { RootTarget } from "../../src/targets/root.js";

const hasDconf = (await execa("dconf", ["help"], { reject: false })).exitCode === 0;

describe.skipIf(!hasDconf)("compile-dconf on an image root", () => {
  let dir: string;
  let root: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "koffer-dconf-"));
    root = join(dir, "root");
    await mkdir(join(root, "etc/dconf/db/local.d/locks"), { recursive: true });
    await mkdir(join(root, "etc/dconf/profile"), { recursive: true });
    await writeFile(join(root, "etc/dconf/profile/user"), dconfProfile);
    await writeFile(join(root, "etc/dconf/db/local.d/00-koffer"), dconfKeyfile(300));
    await writeFile(join(root, "etc/dconf/db/local.d/locks/00-koffer"), dconfLocks);
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const read = async (key: string, extra: string[] = []) => {
    // A profile naming the image's database as a file: what a session on the laptop reads.
    await writeFile(join(dir, "profile"), `file-db:${join(root, "etc/dconf/db/local")}\n`);
    const r = await execa("dconf", [...extra, key], {
      env: { DCONF_PROFILE: join(dir, "profile"), HOME: dir, XDG_CONFIG_HOME: join(dir, "cfg") },
      reject: false,
    });
    return r.stdout.trim();
  };

  it("before: keyfiles only, dconf sees nothing and the facts say not compiled", async () => {
    expect(await read("/org/gnome/desktop/session/idle-delay", ["read"])).toBe("");
    const target = await RootTarget.open({ root });
    const facts = await readDconf(target);
    expect(facts.databases?.[0]).toMatchObject({ name: "local", compiledMs: null });
  });

  it("after apply: dconf reads the values and the locks from the compiled database", async () => {
    const target = await RootTarget.open({ root });
    const change: Change = {
      kind: "compile-dconf",
      database: "local",
      resource: "dconf",
      controls: ["ACC-03"],
      summary: "compile",
    };
    const handlers = { "compile-dconf": dconfCompileHandler() };
    const report = await applyChanges(target, [change], { handlers });
    expect(report.failed).toEqual([]);
    expect(await read("/org/gnome/desktop/session/idle-delay", ["read"])).toBe("uint32 300");
    expect(await read("/org/gnome/desktop/screensaver/lock-enabled", ["read"])).toBe("true");
    const facts = await readDconf(target);
    const db = facts.databases?.[0];
    expect(db?.compiledMs).not.toBeNull();
    expect(db!.compiledMs!).toBeGreaterThanOrEqual(db!.newestSourceMs!);
  });
});
