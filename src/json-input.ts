/**
 * Reading koffer's own JSON documents back in — a saved facts snapshot, a result — as
 * untrusted input: every problem is an InputError (exit 78) with FILE:LINE:COLUMN and the
 * JSON path, never a crash further down.
 */
import { readFile } from "node:fs/promises";
import { FileRefusedError, InputError, type Problem } from "./errors.js";
import type { Facts } from "./facts/types.js";
import { readInputFile } from "./targets/files.js";
import type { Result } from "./report/types.js";

const resultSchemaUrl = new URL("../schema/result.schema.json", import.meta.url);

/** Line and column (1-based) of a character offset. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  return { line: before.split("\n").length, column: offset - before.lastIndexOf("\n") };
}

/**
 * Budgets for an untrusted JSON document, checked before it is parsed or validated: koffer's
 * own results and facts are a few MB and nest about ten levels deep. Without them a 2 MB
 * document of nested arrays took 16 s and 1.2 GB to be refused.
 */
export const jsonBudget = {
  /** Largest file, in bytes (a full facts snapshot of a big desktop is ~10 MB). */
  maxBytes: 64 * 1024 * 1024,
  /** Deepest nesting of arrays and objects. */
  maxDepth: 64,
  /** Most schema problems placed and reported (the rest are counted). */
  maxProblems: 100,
} as const;

/**
 * Refuse a JSON text nested deeper than {@link jsonBudget.maxDepth}, naming FILE:LINE:COLUMN
 * of the first bracket too deep. One pass over the text, strings skipped, nothing built.
 */
export function checkJsonDepth(file: string, text: string, what: string): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > jsonBudget.maxDepth) {
        throw new InputError(`${file}: ${what} is nested too deeply`, [
          {
            severity: "error",
            rule: "json/depth",
            message: `Expected at most ${jsonBudget.maxDepth} levels of nesting, found more`,
            path: "",
            position: { file, ...lineColumn(text, i) },
          },
        ]);
      }
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
}

async function readText(file: string, what: string): Promise<string> {
  try {
    return (await readInputFile(file, jsonBudget.maxBytes)).toString("utf8");
  } catch (error) {
    if (error instanceof FileRefusedError) throw new InputError(error.message);
    throw new InputError(
      `${file}: cannot read ${what}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}

function parseJson(file: string, text: string, what: string): { text: string; value: unknown } {
  if (text.length > jsonBudget.maxBytes)
    throw new InputError(
      `${file}: ${what} not read: expected at most ${jsonBudget.maxBytes} bytes, found ${text.length}`,
    );
  checkJsonDepth(file, text, what);
  try {
    return { text, value: JSON.parse(text) as unknown };
  } catch (error) {
    const message = (error as Error).message;
    const at = /position (\d+)/.exec(message);
    throw new InputError(`${file}: ${what} is not valid JSON`, [
      {
        severity: "error",
        rule: "json/syntax",
        message: `Expected valid JSON, found a syntax error: ${message}`,
        path: "",
        position: { file, ...(at ? lineColumn(text, Number(at[1])) : { line: 1, column: 1 }) },
      },
    ]);
  }
}

function expectSchemaId(
  file: string,
  text: string,
  value: unknown,
  id: string,
  what: string,
): void {
  const found = (value as { schema?: unknown } | null)?.schema;
  if (typeof value === "object" && value !== null && !Array.isArray(value) && found === id) return;
  const offset = text.indexOf('"schema"');
  throw new InputError(`${file}: not a koffer ${what}`, [
    {
      severity: "error",
      rule: `${what}/schema`,
      message: `Expected schema "${id}", found ${JSON.stringify(found ?? null)}`,
      path: "/schema",
      position: { file, ...(offset >= 0 ? lineColumn(text, offset) : { line: 1, column: 1 }) },
    },
  ]);
}

/**
 * The `startedAt` of a result's bytes, or undefined when they hold none: the earliest time a
 * signature over them can plausibly have been made (see `verifyDetached`).
 */
export function resultStartedAt(bytes: Buffer | string): Date | undefined {
  try {
    const text = bytes.toString("utf8");
    checkJsonDepth("", text, "result");
    const value = (JSON.parse(text) as { startedAt?: unknown } | null)?.startedAt;
    const at = typeof value === "string" ? new Date(value) : undefined;
    return at && !Number.isNaN(at.getTime()) ? at : undefined;
  } catch {
    return undefined;
  }
}

/** A saved facts snapshot (`koffer facts --out`). */
export async function readFactsFile(file: string): Promise<Facts> {
  const { text, value } = parseJson(file, await readText(file, "facts"), "facts");
  expectSchemaId(file, text, value, "koffer/facts/v1", "facts");
  return value as Facts;
}

/** Above this size only the first schema problem is looked for (all of them cost time and memory). */
const allProblemsBelowBytes = 1024 * 1024;

const validators = new Map<boolean, Promise<import("ajv").ValidateFunction>>();

/** The result schema's validator, reporting all problems or stopping at the first. */
function resultValidator(allErrors: boolean): Promise<import("ajv").ValidateFunction> {
  let validator = validators.get(allErrors);
  if (validator === undefined) {
    validator = (async () => {
      const [{ Ajv2020 }, formats] = await Promise.all([
        import("ajv/dist/2020.js"),
        import("ajv-formats"),
      ]);
      const ajv = new Ajv2020({ allErrors, strict: false });
      formats.default.default(ajv);
      return ajv.compile(JSON.parse(await readFile(resultSchemaUrl, "utf8")) as object);
    })();
    validators.set(allErrors, validator);
  }
  return validator;
}

/** A saved result, checked against the published schema/result.schema.json. */
export async function readResultFile(file: string): Promise<Result> {
  return parseResult(file, await readText(file, "result"));
}

/** A result from bytes already read (so a hash and the parsed result describe the same bytes). */
export async function parseResult(file: string, bytes: string | Buffer): Promise<Result> {
  const { text, value } = parseJson(file, bytes.toString("utf8"), "result");
  expectSchemaId(file, text, value, "koffer/result/v1", "result");
  const validate = await resultValidator(text.length < allProblemsBelowBytes);
  if (validate(value)) {
    const result = value as Result;
    // Results written before the `pending` status existed have no count for it.
    result.summary.pending ??= 0;
    return result;
  }
  const errors = validate.errors ?? [];
  const problems = await placeErrors(file, text, value, errors.slice(0, jsonBudget.maxProblems));
  if (errors.length > jsonBudget.maxProblems) {
    problems.push({
      severity: "error",
      rule: "result/too-many-problems",
      message: `Expected a valid result, found ${errors.length - jsonBudget.maxProblems} more problems`,
      path: "",
      position: { file, line: 1, column: 1 },
    });
  }
  throw new InputError(`${file}: not a valid koffer result`, problems);
}

/** Schema errors as problems at the line and column of the offending JSON value. */
async function placeErrors(
  file: string,
  text: string,
  value: unknown,
  errors: import("ajv").ErrorObject[],
): Promise<Problem[]> {
  const [{ pointer }, { schemaFindings }] = await Promise.all([
    import("./profiles/source.js"),
    import("./profiles/schema.js"),
  ]);
  return schemaFindings(errors, value).map((finding) => ({
    severity: "error" as const,
    rule: finding.rule.replace(/^schema\//, "result/"),
    message: finding.message,
    path: pointer(finding.path),
    position: { file, ...lineColumn(text, offsetOf(text, finding.path, finding.atKey ?? false)) },
  }));
}

/**
 * Where the value at `path` starts in a JSON text (its key, with `atKey`), or the deepest
 * value on the way that exists. One pass without building anything, so placing a problem in a
 * large document costs no more than reading it (the text has passed the depth budget).
 */
export function offsetOf(text: string, path: readonly (string | number)[], atKey: boolean): number {
  let i = 0;
  const space = () => {
    while (i < text.length && " \t\r\n".includes(text[i] as string)) i++;
  };
  const skipString = () => {
    for (i++; i < text.length; i++) {
      if (text[i] === "\\") i++;
      else if (text[i] === '"') {
        i++;
        return;
      }
    }
  };
  const skipValue = () => {
    space();
    const open = text[i];
    if (open === '"') return skipString();
    if (open !== "{" && open !== "[") {
      while (i < text.length && !",]} \t\r\n".includes(text[i] as string)) i++;
      return;
    }
    let depth = 0;
    while (i < text.length) {
      const c = text[i];
      if (c === '"') {
        skipString();
        continue;
      }
      if (c === "{" || c === "[") depth++;
      else if ((c === "}" || c === "]") && --depth === 0) {
        i++;
        return;
      }
      i++;
    }
  };
  /** Past a value and its comma, to the next member or the closing bracket. */
  const skipMember = () => {
    skipValue();
    space();
    if (text[i] === ",") i++;
    space();
  };
  space();
  let keyAt: number | undefined;
  for (const segment of path) {
    const valueAt = i;
    const open = text[i];
    let found = false;
    i++;
    if (open === "{") {
      for (space(); i < text.length && text[i] === '"';) {
        const keyStart = i;
        skipString();
        const key = JSON.parse(text.slice(keyStart, i)) as string;
        space();
        i++; // ":"
        space();
        if (key === String(segment)) {
          keyAt = keyStart;
          found = true;
          break;
        }
        skipMember();
      }
    } else if (open === "[" && typeof segment === "number") {
      let index = 0;
      for (space(); i < text.length && text[i] !== "]"; index++) {
        if (index === segment) {
          found = true;
          break;
        }
        skipMember();
      }
      keyAt = undefined;
    }
    if (!found) return valueAt;
  }
  return atKey && keyAt !== undefined ? keyAt : i;
}
