/**
 * What every security test asserts after an attack: nothing outside the target changed.
 * A snapshot lists every path below a directory with its type, size, mode and mtime (not
 * following links), so a write, a removal or a new file anywhere below it shows.
 */
import { lstat, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { tempDir } from "../helpers/tmp.js";

export async function treeSnapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (path: string, rel: string): Promise<void> => {
    const s = await lstat(path);
    const kind = s.isDirectory() ? "d" : s.isSymbolicLink() ? "l" : s.isFile() ? "f" : "o";
    out[rel === "" ? "." : rel] = `${kind} ${s.mode.toString(8)} ${s.size} ${s.mtimeMs}`;
    if (s.isDirectory()) {
      for (const name of (await readdir(path)).sort())
        await walk(join(path, name), `${rel}/${name}`);
    }
  };
  await walk(dir, "");
  return out;
}

/** A directory on the host with one canary file an attack must neither read nor change. */
export async function hostCanary(text: string): Promise<{ dir: string; file: string }> {
  const dir = tempDir("canary");
  const file = join(dir, "canary");
  await writeFile(file, text, { mode: 0o600 });
  return { dir, file };
}
