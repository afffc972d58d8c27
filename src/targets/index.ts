/**
 * Opening a target from the command line's choice: `--root DIR` (with `--disk PATH`…),
 * `--ssh [USER@]HOST`, or nothing for the local machine.
 */
import { IncompleteError, UsageError } from "../errors.js";
import { LocalTarget } from "./local.js";
import { RootTarget } from "./root.js";
import type { Target } from "./types.js";

export interface OpenTargetOptions {
  root?: string;
  disks?: string[];
  ssh?: string;
}

/**
 * Open the target the options name. Throws {@link UsageError} for contradictory options,
 * {@link IncompleteError} (exit 2) when the target cannot be reached.
 */
export async function openTarget(options: OpenTargetOptions = {}): Promise<Target> {
  if (options.root !== undefined && options.ssh !== undefined) {
    throw new UsageError("--root and --ssh name different targets; give one of them");
  }
  if (options.ssh !== undefined) {
    throw new IncompleteError(
      "E_SSH_UNSUPPORTED",
      `the ssh target (${options.ssh}) is not yet supported in this version; gather on the laptop with \`koffer facts --out FILE\` and verify with \`koffer verify --facts FILE\``,
    );
  }
  if (options.root !== undefined) {
    return RootTarget.open({ root: options.root, disks: options.disks ?? [] });
  }
  return new LocalTarget({ disks: options.disks ?? [] });
}

export { LocalTarget } from "./local.js";
export { RootTarget } from "./root.js";
