/**
 * Reading one profile file: size, binary and encoding checks, YAML with source
 * positions, and the lookup from a JSON path to the line and column of its node.
 */
import { createHash } from "node:crypto";
import { closeSync, fstatSync, openSync, readFileSync } from "node:fs";
import type { Document, LineCounter, Node as YamlNode } from "yaml";
import type { Problem, SourcePosition } from "../errors.js";
import { findMisindentedKey } from "./indentation.js";

/** Profiles are small; anything bigger is a mistake or an attack, refused before parsing. */
export const maxProfileBytes = 256 * 1024;
/** Alias expansions tolerated before a document counts as an alias bomb. */
export const maxAliasCount = 100;

export type PathSegment = string | number;

/** A parsed profile file. `value` is undefined when the file could not be parsed. */
export interface SourceFile {
  /** The name problems are reported under (as the user wrote it, or joined from the extending file). */
  display: string;
  abs: string;
  sha256: string;
  doc?: Document.Parsed;
  lineCounter?: LineCounter;
  value?: unknown;
  /** False when the text does not even claim to be a profile: then nothing of it is quoted. */
  profileLike?: boolean;
}

/**
 * Whether a text claims to be a koffer profile (`apiVersion: koffer/…`, block or flow style),
 * or is empty (comments aside). A file that does not — a private key, /etc/shadow reached through `extends` —
 * gets one problem naming only its position and what was expected, never its content.
 */
export function looksLikeProfile(text: string): boolean {
  const content = text.replace(/^\s*#.*$/gm, "").trim(); // comments alone show nothing
  return content === "" || /apiVersion["']?\s*:\s*["']?koffer\//.test(text);
}

/** The one problem for a file that is not a profile: a position and the expectation, no content. */
export function notAProfile(display: string, at?: SourcePosition): Problem {
  return problemAt(
    display,
    at?.line ?? 1,
    at?.column ?? 1,
    "input/not-a-profile",
    "Expected a koffer profile (a YAML mapping with apiVersion: koffer/v1), found a file that is not one; its content is not shown",
  );
}

/** JSON Pointer (RFC 6901) for a path. */
export function pointer(path: readonly PathSegment[]): string {
  return path.map((s) => "/" + String(s).replace(/~/g, "~0").replace(/\//g, "~1")).join("");
}

export function problemAt(
  file: string,
  line: number,
  column: number,
  rule: string,
  message: string,
  path = "",
  severity: Problem["severity"] = "error",
): Problem {
  return { severity, rule, message, path, position: { file, line, column } };
}

/** Read and parse a profile. Never throws for bad input: problems come back instead. */
export async function readSource(
  abs: string,
  display: string,
): Promise<{ source?: SourceFile; problems: Problem[] }> {
  let bytes: Buffer;
  // Synchronous on purpose: profiles are tiny, and a thread-pool round trip per call
  // costs more than the read (validating 1,000 files in one process is a target).
  let fd: number | undefined;
  try {
    fd = openSync(abs, "r");
    const stat = fstatSync(fd);
    if (!stat.isFile()) {
      return {
        problems: [
          problemAt(
            display,
            1,
            1,
            "input/not-a-file",
            "Expected a profile file, found a directory or special file",
          ),
        ],
      };
    }
    if (stat.size > maxProfileBytes) {
      const kib = Math.ceil(stat.size / 1024);
      return {
        problems: [
          problemAt(
            display,
            1,
            1,
            "input/too-large",
            `Expected a profile of at most ${maxProfileBytes / 1024} KiB, found ${kib} KiB`,
          ),
        ],
      };
    }
    bytes = readFileSync(fd);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const found =
      code === "ENOENT"
        ? "no such file"
        : code === "EACCES"
          ? "a file that cannot be read"
          : String(code ?? error);
    return {
      problems: [
        problemAt(
          display,
          1,
          1,
          "input/not-found",
          `Expected a readable profile file, found ${found}`,
        ),
      ],
    };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  const sha256 = createHash("sha256").update(bytes).digest("hex");

  const nul = bytes.indexOf(0);
  if (nul !== -1) {
    const { line, column } = positionOfByte(bytes, nul);
    return {
      problems: [
        problemAt(
          display,
          line,
          column,
          "input/binary",
          "Expected a YAML text file, found binary data (a NUL byte)",
        ),
      ],
    };
  }
  const invalid = firstInvalidUtf8(bytes);
  if (invalid !== -1) {
    const { line, column } = positionOfByte(bytes, invalid);
    const hex = bytes[invalid]!.toString(16).padStart(2, "0");
    return {
      problems: [
        problemAt(
          display,
          line,
          column,
          "input/encoding",
          `Expected UTF-8 text, found the byte 0x${hex}`,
        ),
      ],
    };
  }
  let text = bytes.toString("utf8");
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);

  const { parseDocument, LineCounter, isAlias, visit } = await import("yaml");
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const source: SourceFile = {
    display,
    abs,
    sha256,
    doc,
    lineCounter,
    profileLike: looksLikeProfile(text),
  };
  const problems: Problem[] = [];
  // One mis-indented key makes yaml report a cascade at the wrong lines; name the one line instead.
  const misindented = doc.errors.length > 0 ? findMisindentedKey(text) : undefined;
  if (misindented) {
    const { line, column, message } = misindented;
    return { source, problems: [problemAt(display, line, column, "yaml/indentation", message)] };
  }
  for (const error of [...doc.errors, ...doc.warnings]) {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    problems.push(
      problemAt(
        display,
        line,
        col,
        yamlRule(error.code),
        yamlMessage(error.code, error.message, text, error.pos),
      ),
    );
  }
  if (problems.length > 0) return { source, problems };

  try {
    source.value = doc.toJS({ maxAliasCount });
  } catch (error) {
    if (!(error instanceof ReferenceError)) throw error;
    let first = 0;
    visit(doc, {
      Alias(_key, node) {
        if (isAlias(node) && node.range) first = node.range[0];
        return visit.BREAK;
      },
    });
    const { line, col } = lineCounter.linePos(first);
    problems.push(
      problemAt(
        display,
        line,
        col,
        "yaml/alias-limit",
        `Expected at most ${maxAliasCount} alias expansions, found aliases that expand without bound`,
      ),
    );
  }
  return { source, problems };
}

function yamlRule(code: string): string {
  if (code === "DUPLICATE_KEY") return "yaml/duplicate-key";
  if (code === "TAG_RESOLVE_FAILED") return "yaml/tag";
  if (code === "MULTIPLE_DOCS") return "yaml/multiple-documents";
  return "yaml/syntax";
}

function yamlMessage(code: string, message: string, text: string, pos: [number, number]): string {
  if (code === "DUPLICATE_KEY") {
    const key = text.slice(pos[0]).split(/[:\n]/)[0]!.trim();
    return `Expected unique keys in a mapping, found "${key}" twice`;
  }
  if (code === "MULTIPLE_DOCS") return "Expected one YAML document, found several";
  if (code === "TAG_RESOLVE_FAILED")
    return `Expected plain YAML without custom tags, found ${text.slice(pos[0], pos[1])}`;
  // yaml's own wording, without its trailing "at line …" (the position is in front already).
  const detail = message.replace(/ at line \d+, column \d+:?[\s\S]*$/, "").replace(/\.$/, "");
  return `Expected valid YAML, found a syntax error: ${detail}`;
}

function positionOfByte(bytes: Buffer, index: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < index; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  // Columns count characters, so decode the valid prefix of the line.
  const column = bytes.subarray(lineStart, index).toString("utf8").length + 1;
  return { line, column };
}

/** Index of the first byte that breaks UTF-8, or -1. */
function firstInvalidUtf8(bytes: Buffer): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    let extra: number;
    let min: number;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) [extra, min] = [1, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [extra, min] = [2, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [extra, min] = [3, 0x10000];
    else return i;
    if (i + extra >= bytes.length) return i;
    let cp = b & (0x3f >> extra);
    for (let k = 1; k <= extra; k++) {
      const c = bytes[i + k]!;
      if ((c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += extra + 1;
  }
  return -1;
}

/**
 * The position of the node at `path`: for `key: true`, the key itself (unknown keys);
 * otherwise the value. Walks as deep as the document goes and reports the deepest
 * node found, so a missing key points at its parent mapping.
 */
export function positionOf(
  source: SourceFile,
  path: readonly PathSegment[],
  options: { key?: boolean } = {},
): SourcePosition & { exact: boolean } {
  const fallback = { file: source.display, line: 1, column: 1, exact: false };
  const { doc, lineCounter } = source;
  if (!doc || !lineCounter) return fallback;
  let node: unknown = doc.contents;
  let keyNode: unknown = undefined;
  let found = 0;
  for (const segment of path) {
    const next = child(node, segment);
    if (!next) break;
    node = next.value;
    keyNode = next.key;
    found++;
  }
  const exact = found === path.length;
  const target = exact && options.key && keyNode ? keyNode : (node ?? keyNode);
  const offset = rangeStart(target) ?? rangeStart(keyNode);
  if (offset === undefined) return fallback;
  const { line, col } = lineCounter.linePos(offset);
  return { file: source.display, line, column: col, exact };
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as YamlNode | undefined)?.range;
  return range ? range[0] : undefined;
}

interface Child {
  key?: unknown;
  value: unknown;
}

function child(node: unknown, segment: PathSegment): Child | undefined {
  const items = (node as { items?: unknown[] } | null)?.items;
  if (!Array.isArray(items)) return undefined;
  const first = items[0] as { key?: unknown } | undefined;
  const isMapping =
    items.length > 0 && first !== null && typeof first === "object" && "key" in first;
  if (isMapping || (items.length === 0 && typeof segment === "string")) {
    for (const pair of items as { key: unknown; value: unknown }[]) {
      const key = pair.key as { value?: unknown } | null;
      const name = key !== null && typeof key === "object" && "value" in key ? key.value : key;
      if (String(name) === String(segment)) return { key: pair.key, value: pair.value ?? pair.key };
    }
    return undefined;
  }
  const index = typeof segment === "number" ? segment : Number(segment);
  const item = items[index];
  return item === undefined ? undefined : { value: item };
}
