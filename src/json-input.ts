/**
 * Reading koffer's own JSON documents back in — a saved facts snapshot, a result — as
 * untrusted input: every problem is an InputError (exit 78) with FILE:LINE:COLUMN and the
 * JSON path, never a crash further down.
 */
import { readFile } from "node:fs/promises";
import { InputError, type Problem } from "./errors.js";
import type { Facts } from "./facts/types.js";
import type { SourceFile } from "./profiles/source.js";
import type { Result } from "./report/types.js";

const resultSchemaUrl = new URL("../schema/result.schema.json", import.meta.url);

/** Line and column (1-based) of a character offset. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  return { line: before.split("\n").length, column: offset - before.lastIndexOf("\n") };
}

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    throw new InputError(
      `${file}: cannot read ${what}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}

function parseJson(file: string, text: string, what: string): { text: string; value: unknown } {
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

/** A saved facts snapshot (`koffer facts --out`). */
export async function readFactsFile(file: string): Promise<Facts> {
  const { text, value } = parseJson(file, await readText(file, "facts"), "facts");
  expectSchemaId(file, text, value, "koffer/facts/v1", "facts");
  return value as Facts;
}

let resultValidator: Promise<import("ajv").ValidateFunction> | undefined;

/** A saved result, checked against the published schema/result.schema.json. */
export async function readResultFile(file: string): Promise<Result> {
  return parseResult(file, await readText(file, "result"));
}

/** A result from bytes already read (so a hash and the parsed result describe the same bytes). */
export async function parseResult(file: string, bytes: string | Buffer): Promise<Result> {
  const { text, value } = parseJson(file, bytes.toString("utf8"), "result");
  expectSchemaId(file, text, value, "koffer/result/v1", "result");
  resultValidator ??= (async () => {
    const [{ Ajv2020 }, formats] = await Promise.all([
      import("ajv/dist/2020.js"),
      import("ajv-formats"),
    ]);
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    formats.default.default(ajv);
    return ajv.compile(JSON.parse(await readFile(resultSchemaUrl, "utf8")) as object);
  })();
  const validate = await resultValidator;
  if (validate(value)) return value as Result;
  throw new InputError(
    `${file}: not a valid koffer result`,
    await placeErrors(file, text, value, validate.errors ?? []),
  );
}

/** Schema errors as problems at the line and column of the offending JSON value. */
async function placeErrors(
  file: string,
  text: string,
  value: unknown,
  errors: import("ajv").ErrorObject[],
): Promise<Problem[]> {
  const [{ LineCounter, parseDocument }, { positionOf, pointer }, { schemaFindings }] =
    await Promise.all([
      import("yaml"),
      import("./profiles/source.js"),
      import("./profiles/schema.js"),
    ]);
  // JSON is YAML: the yaml parser gives every node its source range.
  const lineCounter = new LineCounter();
  const source: SourceFile = {
    display: file,
    abs: file,
    sha256: "",
    doc: parseDocument(text, { lineCounter, uniqueKeys: false }),
    lineCounter,
    value,
  };
  return schemaFindings(errors, value).map((finding) => {
    const { exact: _exact, ...position } = positionOf(source, finding.path, { key: finding.atKey });
    return {
      severity: "error" as const,
      rule: finding.rule.replace(/^schema\//, "result/"),
      message: finding.message,
      path: pointer(finding.path),
      position,
    };
  });
}
