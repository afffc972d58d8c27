/**
 * Exit codes (sysexits where one fits), the contract with CI in ARCHITECTURE.md.
 */
export const ExitCode = {
  ok: 0,
  /** Non-compliant, or a verification (signature, chain) that failed. */
  failed: 1,
  /** Could not complete: a tool is missing, a target is unreachable, a control errored. */
  incomplete: 2,
  usage: 64,
  /** Invalid profile or input file (EX_CONFIG). */
  config: 78,
  /** Interrupted by the user (Ctrl-C): 128 + SIGINT, as shells report it. */
  interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** A position in a source file, 1-based. */
export interface SourcePosition {
  file: string;
  line: number;
  column: number;
}

/** One problem found in an input file. */
export interface Problem {
  severity: "error" | "warning";
  /** Stable id of the rule that found it, e.g. `schema/additional-properties`, `tr02102/rsa-size`. */
  rule: string;
  message: string;
  /** JSON Pointer into the document, e.g. `/spec/vpn/certificate/key`. */
  path: string;
  position: SourcePosition;
}

/** `FILE:LINE:COLUMN: message (at /json/path)` — the one format every problem is printed in. */
export function formatProblem(p: Problem): string {
  const where = `${p.position.file}:${p.position.line}:${p.position.column}`;
  const tag = p.severity === "warning" ? "warning: " : "";
  return `${where}: ${tag}${p.message} (at ${p.path === "" ? "/" : p.path})`;
}

/**
 * Every error koffer raises carries a code and the exit code it maps to.
 * Library functions throw these and never exit; only bin/koffer.js sets the exit code.
 */
export class KofferError extends Error {
  readonly code: string;
  readonly exitCode: ExitCodeValue;
  constructor(
    code: string,
    message: string,
    exitCode: ExitCodeValue,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "KofferError";
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** Input that cannot be used: a profile, a rules file, a result file. Exit 78. */
export class InputError extends KofferError {
  readonly problems: Problem[];
  constructor(message: string, problems: Problem[] = []) {
    super("E_INPUT", message, ExitCode.config);
    this.name = "InputError";
    this.problems = problems;
  }
}

/**
 * A file koffer refuses to read: not a regular file (a FIFO, a device node, a socket, a
 * link where none may be), or over a size cap or the run's read budget. It is hostile or
 * broken input, so exit 78; in a gatherer it becomes that area's error with this reason.
 */
export class FileRefusedError extends KofferError {
  readonly reason: "type" | "size" | "budget";
  readonly path: string;
  constructor(reason: "type" | "size" | "budget", path: string, detail: string) {
    super("E_FILE_REFUSED", `${path}: not read: ${detail}`, ExitCode.config);
    this.name = "FileRefusedError";
    this.reason = reason;
    this.path = path;
  }
}

/** Wrong use of the command line. Exit 64. */
export class UsageError extends KofferError {
  constructor(message: string) {
    super("E_USAGE", message, ExitCode.usage);
    this.name = "UsageError";
  }
}

/** A command a target needs is not installed. Exit 2, naming the Debian package. */
export class MissingToolError extends KofferError {
  readonly tool: string;
  readonly debianPackage: string;
  constructor(tool: string, debianPackage: string) {
    super(
      "E_MISSING_TOOL",
      `${tool} is not installed; install the Debian package ${debianPackage} (apt-get install ${debianPackage})`,
      ExitCode.incomplete,
    );
    this.name = "MissingToolError";
    this.tool = tool;
    this.debianPackage = debianPackage;
  }
}

/** The user interrupted a dialogue (Ctrl-C); nothing was written. Exit 130. */
export class AbortedError extends KofferError {
  constructor() {
    super("E_ABORTED", "abgebrochen / aborted", ExitCode.interrupted);
    this.name = "AbortedError";
  }
}

/** The run could not complete for another reason (target unreachable, tool failed). Exit 2. */
export class IncompleteError extends KofferError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, ExitCode.incomplete, options);
    this.name = "IncompleteError";
  }
}

/** A verification failed: bad signature, untrusted chain. Exit 1. */
export class VerificationError extends KofferError {
  constructor(code: string, message: string) {
    super(code, message, ExitCode.failed);
    this.name = "VerificationError";
  }
}
