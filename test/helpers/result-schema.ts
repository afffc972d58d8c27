/**
 * The published Result schema (schema/result.schema.json) compiled once with ajv (draft
 * 2020-12, strict, formats checked), for tests that produce Results.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Ajv2020, type ErrorObject } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

export const resultSchemaPath = fileURLToPath(
  new URL("../../schema/result.schema.json", import.meta.url),
);
export const resultSchema = JSON.parse(readFileSync(resultSchemaPath, "utf8")) as object;

const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
(addFormats as unknown as (a: Ajv2020) => void)(ajv);
const validate = ajv.compile(resultSchema);

/** Schema violations of `value` as "instancePath message" lines; empty when it is valid. */
export function resultSchemaErrors(value: unknown): string[] {
  if (validate(value)) return [];
  return (validate.errors ?? []).map(
    (e: ErrorObject) => `${e.instancePath || "/"} ${e.message ?? ""} ${JSON.stringify(e.params)}`,
  );
}
