/**
 * Validating many profiles at once (`koffer validate`): one report per file, and the
 * two output forms (problem lines, JSON for CI).
 */
import { formatProblem, type Problem } from "../errors.js";
import { loadProfile, type LoadOptions } from "./loader.js";

/** The outcome for one file: valid when it has no error (warnings allowed). */
export interface FileReport {
  file: string;
  valid: boolean;
  problems: Problem[];
}

/** Validate one profile file (and what it extends). */
export async function validateProfile(
  file: string,
  options: LoadOptions = {},
): Promise<FileReport> {
  const { profile, problems } = await loadProfile(file, options);
  return { file, valid: profile !== null, problems };
}

/** Validate every file, in order; never throws for bad input. */
export async function validateProfiles(
  files: string[],
  options: LoadOptions = {},
): Promise<FileReport[]> {
  const reports: FileReport[] = [];
  for (const file of files) reports.push(await validateProfile(file, options));
  return reports;
}

/**
 * Text output: problem lines `FILE:LINE:COLUMN: message (at /path) [rule-id]` (stderr) and one
 * `FILE: ok` per valid file (stdout).
 */
export function renderText(reports: FileReport[]): { stdout: string; stderr: string } {
  let stdout = "";
  let stderr = "";
  for (const report of reports) {
    // The rule id lets a reader look the rule up and silence nothing by accident.
    for (const problem of report.problems)
      stderr += `${formatProblem(problem)} [${problem.rule}]\n`;
    if (report.valid) stdout += `${report.file}: ok\n`;
  }
  return { stdout, stderr };
}

/** JSON output for CI: `{ files: [{ file, valid, problems }] }`. */
export function renderJson(reports: FileReport[]): string {
  return JSON.stringify({ files: reports }, null, 2) + "\n";
}
