/**
 * Compile a dconf system database (ACC-03, USB-02). dconf reads only the binary database
 * /etc/dconf/db/NAME, never the keyfiles in NAME.d/, so keyfiles without a compile change
 * nothing on the laptop. A running machine compiles with its own `dconf update`; for an
 * image the HOST's `dconf compile` turns the image's keyfiles (data, copied out) into the
 * database, which is written back like any file (backed up first): nothing of the image runs.
 */
import { mkdtemp, readFile, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { IncompleteError } from "../../errors.js";
import { run } from "../../targets/exec.js";
import type { Target } from "../../targets/types.js";
import type { ChangeHandler } from "../apply.js";

/** Copy the regular files of `dir` in the target (no subdirectories) to `into` on the host. */
async function copyOut(target: Target, dir: string, into: string): Promise<void> {
  await mkdir(into, { recursive: true });
  for (const name of (await target.readDir(dir)) ?? []) {
    if (name.includes("/") || name === "." || name === "..") continue;
    const info = await target.lstat?.(`${dir}/${name}`);
    if (info !== undefined && info?.type !== "file") continue;
    const bytes = await target.readFile(`${dir}/${name}`);
    if (bytes !== null) await writeFile(join(into, name), bytes);
  }
}

export function dconfCompileHandler(): ChangeHandler {
  return async (change, target, runContext) => {
    if (change.kind !== "compile-dconf") throw new Error("unreachable");
    const dbPath = `/etc/dconf/db/${change.database}`;
    if (target.kind !== "root") {
      await runContext.backup(dbPath);
      const result = await target.exec("dconf", ["update"]);
      if (result.exitCode !== 0)
        throw new IncompleteError("E_DCONF", `dconf update failed: ${result.stderr.trim()}`);
      return "applied";
    }
    const work = await mkdtemp(join(tmpdir(), "koffer-dconf-"));
    try {
      const keyfiles = join(work, `${change.database}.d`);
      await copyOut(target, `${dbPath}.d`, keyfiles);
      await copyOut(target, `${dbPath}.d/locks`, join(keyfiles, "locks"));
      const out = join(work, change.database);
      const result = await run("dconf", ["compile", out, keyfiles]);
      if (result.exitCode !== 0)
        throw new IncompleteError(
          "E_DCONF",
          `dconf compile of ${dbPath}.d failed: ${result.stderr.trim()}`,
        );
      await runContext.backup(dbPath);
      await target.writeFileAtomic(dbPath, await readFile(out), { mode: 0o644, uid: 0, gid: 0 });
      return "applied";
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  };
}
