/**
 * The published JSON Schema and the translation of its findings into problems a person
 * can act on ("Expected …, found …", each with a rule id).
 */
import { readFileSync } from "node:fs";
import type { ErrorObject, ValidateFunction } from "ajv";
import type { PathSegment } from "./source.js";

/** Where the schema ships: `schema/profile.schema.json` at the package root. */
export const profileSchemaUrl = new URL("../../schema/profile.schema.json", import.meta.url);

type JsonSchema = Record<string, unknown>;
let schemaCache: JsonSchema | undefined;
let validatorCache: Promise<ValidateFunction> | undefined;

/** The profile JSON Schema (draft 2020-12) as an object. */
export function profileSchema(): JsonSchema {
  schemaCache ??= JSON.parse(readFileSync(profileSchemaUrl, "utf8")) as JsonSchema;
  return schemaCache;
}

/** The compiled validator, built once per process (ajv is loaded only here). */
export function profileValidator(): Promise<ValidateFunction> {
  validatorCache ??= (async () => {
    const { Ajv2020 } = await import("ajv/dist/2020.js");
    const ajv = new Ajv2020({
      allErrors: true,
      strict: true,
      allowUnionTypes: true,
      verbose: true,
      // The schema ships with koffer and a test checks it against the 2020-12 meta-schema;
      // compiling the meta-schema on every run was half of a verify's profile loading.
      validateSchema: false,
    });
    // Annotation only: the keys the merged profile must have (checked by `missingAfterMerge`).
    ajv.addKeyword({ keyword: "x-koffer-required", schemaType: "array" });
    return ajv.compile(profileSchema());
  })();
  return validatorCache;
}

/** A schema finding, not yet placed in a file. */
export interface Finding {
  rule: string;
  message: string;
  path: PathSegment[];
  /** Point at the key rather than its value (unknown keys). */
  atKey?: boolean;
  severity?: "error" | "warning";
}

/** Keys named in `x-koffer-required` that the merged profile lacks, with the parent's path. */
export function missingAfterMerge(value: unknown): Finding[] {
  const root = profileSchema();
  const findings: Finding[] = [];
  const resolve = (node: JsonSchema): JsonSchema => {
    const ref = node.$ref;
    if (typeof ref === "string" && ref.startsWith("#/$defs/")) {
      return (root.$defs as Record<string, JsonSchema>)[ref.slice("#/$defs/".length)]!;
    }
    return node;
  };
  const walk = (schemaNode: JsonSchema, v: unknown, path: PathSegment[]): void => {
    const node = resolve(schemaNode);
    if (isPlainObject(v) && isPlainObject(node.properties)) {
      for (const key of (node["x-koffer-required"] as string[] | undefined) ?? []) {
        if (!(key in v)) findings.push(requiredFinding(path, key));
      }
      for (const [key, child] of Object.entries(v)) {
        const sub = (node.properties as Record<string, JsonSchema>)[key];
        if (sub) walk(sub, child, [...path, key]);
      }
    } else if (Array.isArray(v) && isPlainObject(node.items)) {
      v.forEach((item, i) => walk(node.items as JsonSchema, item, [...path, i]));
    }
  };
  walk(root, value, []);
  return findings;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/**
 * Turn ajv's errors into findings. The schema's `required` lists only what each file must
 * say itself (a waiver's reason, a device's ids); what a parent may supply is in
 * `x-koffer-required` and checked after merging.
 */
export function schemaFindings(errors: ErrorObject[], document: unknown): Finding[] {
  const findings: Finding[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    const path = parsePointer(error.instancePath);
    const finding = translate(error, path, valueAt(document, path));
    const key = `${finding.rule}|${finding.path.join("/")}|${finding.message}`;
    if (!seen.has(key)) findings.push(finding);
    seen.add(key);
  }
  return findings;
}

function parsePointer(p: string): PathSegment[] {
  if (p === "") return [];
  return p
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((s) => (/^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : s));
}

function valueAt(document: unknown, path: PathSegment[]): unknown {
  let v = document;
  for (const s of path) v = (v as Record<string, unknown> | undefined)?.[s as string];
  return v;
}

/** Describe a found value in a message: strings quoted, collections by kind. */
export function describe(v: unknown): string {
  if (v === null || v === undefined) return "nothing";
  if (typeof v === "string") return JSON.stringify(v);
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  return String(v);
}

const typeNames: Record<string, string> = {
  string: "a string",
  boolean: "true or false",
  integer: "a whole number",
  number: "a number",
  array: "a list",
  object: "a mapping",
  null: "nothing",
};

/** Pattern → rule and what a valid value looks like. */
const patternRules: Record<string, [rule: string, expected: string]> = {
  "^[0-9A-Fa-f]{4}:[0-9A-Fa-f]{4}$": ["usb/id", "a USB id vvvv:pppp (four hex digits each)"],
  "^([0-9A-Fa-f]{2}|\\*):([0-9A-Fa-f]{2}|\\*):([0-9A-Fa-f]{2}|\\*)$": [
    "usb/interface",
    "a USB interface class cc:ss:pp (two hex digits or * each)",
  ],
  "^[a-z0-9][a-z0-9+.-]+$": [
    "debian/package-name",
    "a Debian package name (lower-case letters, digits, + . -; at least two characters)",
  ],
  "^[A-Za-z0-9:_.@-]+\\.(service|socket|timer|target|mount|path)$": [
    "systemd/unit-name",
    "a systemd unit name ending in .service, .socket, .timer, .target, .mount or .path",
  ],
  "^[a-z_][a-z0-9_-]{0,31}$": [
    "accounts/name",
    "a local account name (lower-case, at most 32 characters)",
  ],
  "^[A-Z]+-[0-9]{2}$": ["control/id", "a control id of the catalogue such as BOOT-01"],
  "^[0-9]{4}-[0-9]{2}-[0-9]{2}$": ["date/format", "a date YYYY-MM-DD"],
  "^[a-z0-9_-]+$": ["vpn/proposal", "a strongSwan proposal (lower-case keywords joined by -)"],
  "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$": [
    "metadata/name",
    "a short name of lower-case letters, digits and inner hyphens",
  ],
};

function translate(error: ErrorObject, path: PathSegment[], value: unknown): Finding {
  const params = error.params as Record<string, unknown>;
  const at = pointerText(path);
  switch (error.keyword) {
    case "additionalProperties": {
      const key = String(params.additionalProperty);
      return {
        rule: "schema/unknown-key",
        message: `Expected a known key${at}, found unknown key "${key}"${suggest(key, allowedKeys(error))}`,
        path: [...path, key],
        atKey: true,
      };
    }
    case "required": {
      return requiredFinding(path, String(params.missingProperty));
    }
    case "type": {
      const types = Array.isArray(params.type) ? params.type : String(params.type).split(",");
      const expected = types.map((t) => typeNames[String(t)] ?? String(t)).join(" or ");
      return {
        rule: "schema/type",
        message: `Expected ${expected}, found ${describe(value)}`,
        path,
      };
    }
    case "enum":
    case "const": {
      const allowed =
        (error.keyword === "const" ? [params.allowedValue] : (params.allowedValues as unknown[])) ??
        [];
      return enumFinding(path, value, allowed);
    }
    case "pattern": {
      const [rule, expected] = patternRules[String(params.pattern)] ?? [
        "schema/pattern",
        `a value matching ${String(params.pattern)}`,
      ];
      return { rule, message: `Expected ${expected}, found ${describe(value)}`, path };
    }
    case "minimum":
    case "maximum": {
      const bound = error.keyword === "minimum" ? "at least" : "at most";
      const rule = path.at(-1) === "validityDays" ? "vpn/validity" : `schema/${error.keyword}`;
      return {
        rule,
        message: `Expected ${bound} ${String(params.limit)}, found ${describe(value)}`,
        path,
      };
    }
    case "minItems":
      return {
        rule: "schema/min-items",
        message: `Expected at least ${String(params.limit)} item, found none`,
        path,
      };
    case "minLength":
      return { rule: "schema/empty", message: `Expected a non-empty string, found ""`, path };
    case "uniqueItems": {
      const j = Number(params.j);
      const item = Array.isArray(value) ? value[j] : undefined;
      return {
        rule: "schema/duplicate-item",
        message: `Expected unique items, found ${describe(item)} twice`,
        path: [...path, j],
      };
    }
    default:
      return {
        rule: `schema/${error.keyword}`,
        message: `Expected a value that ${error.message ?? "is valid"}, found ${describe(value)}`,
        path,
      };
  }
}

function requiredFinding(path: PathSegment[], key: string): Finding {
  let rule = "schema/required";
  if (path[0] === "waivers" && path.length === 2) rule = "waiver/incomplete";
  if (path[0] === "spec" && path[1] === "attestations" && path.length === 3)
    rule = "attestation/incomplete";
  return {
    rule,
    message: `Expected key "${key}"${pointerText(path)}, found none`,
    path: [...path, key],
  };
}

function pointerText(path: PathSegment[]): string {
  if (path.length === 0) return " at the top level";
  return (
    " in " + path.map((s, i) => (typeof s === "number" ? `[${s}]` : i === 0 ? s : `.${s}`)).join("")
  );
}

function allowedKeys(error: ErrorObject): string[] {
  const schema = (error as ErrorObject & { parentSchema?: { properties?: object } }).parentSchema;
  return schema?.properties ? Object.keys(schema.properties) : [];
}

/** " (did you mean …?)" for a key a typo away from a known one. */
function suggest(key: string, known: string[]): string {
  const close = known.find((k) => distance(k.toLowerCase(), key.toLowerCase()) <= 2);
  return close ? ` (did you mean "${close}"?)` : "";
}

function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length]!;
}

const weakCurves =
  /^(ecdsa-)?(x25519|ed25519|curve25519|x448|ed448|curve448|secp256k1|p-?224|secp224r1|p-?192)$/;

/** Enum findings, refined where a value is a known TR-02102 violation. */
function enumFinding(path: PathSegment[], value: unknown, allowed: unknown[]): Finding {
  const where = path.join(".");
  const list = allowed.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(", ");
  const found = describe(value);
  const text = typeof value === "string" ? value.toLowerCase() : "";
  if (where === "spec.vpn.type") {
    return {
      rule: "tr02102/vpn-type",
      message: `Expected VPN type ipsec (strongSwan IKEv2, the only protocol TR-02102-3 covers), found ${found}`,
      path,
    };
  }
  if (where === "spec.vpn.certificate.key") {
    const rsa = /^rsa-?(\d+)$/.exec(text);
    if (rsa && Number(rsa[1]) < 3000) {
      return {
        rule: "tr02102/rsa-size",
        message: `Expected an RSA key of at least 3000 bits (TR-02102-1), found ${rsa[1]} bits (${found})`,
        path,
      };
    }
    if (weakCurves.test(text)) {
      return {
        rule: "tr02102/curve",
        message: `Expected a TR-02102-1 curve (ecdsa-p256, ecdsa-p384), found ${found}`,
        path,
      };
    }
    return { rule: "tr02102/key-type", message: `Expected one of ${list}, found ${found}`, path };
  }
  const diskRules: Record<string, string> = {
    "spec.disk.cipher": "tr02102/disk-cipher",
    "spec.disk.keyBits": "tr02102/disk-key-size",
    "spec.disk.pbkdf": "tr02102/pbkdf",
  };
  return {
    rule: diskRules[where] ?? "schema/enum",
    message: `Expected one of ${list}, found ${found}`,
    path,
  };
}
