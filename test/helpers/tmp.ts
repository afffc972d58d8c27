/**
 * Temporary directories that remove themselves: `tempDir("merge")` makes
 * `$TMPDIR/koffer-merge-XXXXXX` and remembers it; test/setup/remove-temp-dirs.ts removes every
 * remembered directory after the test file (also when a test failed). The global guard
 * (test/setup/tmp-guard.ts) fails the run on any `koffer-*` entry still left at its end.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const made = new Set<string>();

/** A new private directory `koffer-<name>-XXXXXX` under the run's TMPDIR, removed after the file. */
export function tempDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `koffer-${name}-`));
  made.add(dir);
  return dir;
}

/** Remove every directory `tempDir` made in this test file. */
export function removeTempDirs(): void {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
  made.clear();
}
