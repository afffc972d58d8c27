/**
 * `koffer rollback <run-id>`: put back, byte for byte, every file a provision run replaced
 * or created, using the run's backup manifest on the target.
 */
import { createHash } from "node:crypto";
import { IncompleteError, InputError, UsageError } from "../errors.js";
import type { Target } from "../targets/types.js";
import { manifestPath } from "./apply.js";
import { BACKUP_DIR, MAX_BACKUP_BYTES, acquireLock, isRunId, newRunId } from "./state.js";
import type { BackupRecord } from "./types.js";

export interface RollbackReport {
  runId: string;
  restored: string[];
  removed: string[];
}

/** Restore the files of run `runId`. Files restored keep their original mode and owner. */
export async function rollback(target: Target, runId: string): Promise<RollbackReport> {
  if (!isRunId(runId))
    throw new UsageError(`Expected a run id like 20261120T213700Z-1a2b3c, found "${runId}"`);
  const text = await target.readText(manifestPath(runId));
  if (text === null) {
    throw new InputError(
      `no backups of run ${runId} on ${target.location} (${manifestPath(runId)} not found)`,
    );
  }
  let files: BackupRecord[];
  try {
    files = (JSON.parse(text) as { files: BackupRecord[] }).files;
  } catch (error) {
    throw new InputError(`${manifestPath(runId)} is not valid JSON: ${(error as Error).message}`);
  }
  const lock = await acquireLock(target, newRunId());
  const report: RollbackReport = { runId, restored: [], removed: [] };
  try {
    // Restore in reverse order of backup, so a file touched twice ends as it was first.
    for (const record of [...files].reverse()) {
      if (!record.existed) {
        if ((await target.stat(record.path)) !== null) {
          await target.remove(record.path);
          report.removed.push(record.path);
        }
        continue;
      }
      if (record.symlink !== undefined) {
        if (target.symlink === undefined)
          throw new IncompleteError(
            "E_ROLLBACK_SYMLINK",
            `cannot restore the symbolic link ${record.path} on ${target.location}`,
          );
        await target.symlink(record.path, record.symlink);
        report.restored.push(record.path);
        continue;
      }
      // A large backup (an initrd) is read with the budget its record names, never above
      // MAX_BACKUP_BYTES whatever a hostile manifest claims.
      const copy = await target.readFile(`${BACKUP_DIR}/${runId}/${record.copy}`, {
        maxBytes:
          typeof record.size === "number" && record.size > 0
            ? Math.min(record.size, MAX_BACKUP_BYTES)
            : undefined,
      });
      if (copy === null)
        throw new IncompleteError("E_BACKUP_MISSING", `backup of ${record.path} is missing`);
      if (createHash("sha256").update(copy).digest("hex") !== record.sha256) {
        throw new IncompleteError(
          "E_BACKUP_CORRUPT",
          `backup of ${record.path} does not match its recorded SHA-256`,
        );
      }
      await target.writeFileAtomic(record.path, copy, {
        mode: record.mode ?? 0o644,
        uid: record.uid ?? 0,
        gid: record.gid ?? 0,
      });
      report.restored.push(record.path);
    }
    return report;
  } finally {
    await lock.release();
  }
}
