/**
 * A parser for swanctl.conf in strongSwan's settings syntax (strongswan.conf(5)):
 * `name { … }` sections, `key = value` (value to the end of the line, or a double-quoted
 * string with escapes that may span lines), `#` comments, `include PATTERN` statements
 * (glob, relative to the including file, at any nesting level), section templates
 * `name : ref1, ref2 { … }`, and redefinition (a later section or key merges/overrides).
 * Errors carry "file:line" and do not stop the rest of the file.
 */
import { dirname } from "node:path/posix";
import { expandGlob, IncludeBudget, type FileSource } from "./parsers/common.js";
import type { SwanctlChild, SwanctlConnection, SwanctlSection } from "./types.js";

export interface SwanctlParse {
  tree: SwanctlSection;
  /** Files read, in order, includes included. */
  files: string[];
  errors: string[];
  /** Where each section was (last) opened, by dotted path, for evidence. */
  sectionSources: Record<string, string>;
}

const nameChar = /[^\s{}=#:,"]/;
const maxIncludeDepth = 10;

function isSection(v: string | SwanctlSection | undefined): v is SwanctlSection {
  return typeof v === "object" && v !== null;
}

function deepMerge(into: SwanctlSection, from: SwanctlSection): void {
  for (const [k, v] of Object.entries(from)) {
    const existing = into[k];
    if (isSection(v)) {
      if (isSection(existing)) deepMerge(existing, v);
      else into[k] = structuredClone(v);
    } else into[k] = v;
  }
}

function lookup(tree: SwanctlSection, path: string): SwanctlSection | null {
  let node: SwanctlSection = tree;
  for (const part of path.split(".")) {
    const next = node[part];
    if (!isSection(next)) return null;
    node = next;
  }
  return node;
}

class Parser {
  readonly result: SwanctlParse = { tree: {}, files: [], errors: [], sectionSources: {} };
  readonly budget = new IncludeBudget(this.result.errors, maxIncludeDepth);
  constructor(private readonly source: FileSource) {}

  async parseFile(path: string, stack: { node: SwanctlSection; path: string[] }[]): Promise<void> {
    const text = await this.source.readText(path);
    if (text === null) {
      this.result.errors.push(`${path}: cannot read file`);
      return;
    }
    this.result.files.push(path);
    await this.parseText(text, path, stack);
  }

  async parseText(
    text: string,
    file: string,
    outer: { node: SwanctlSection; path: string[] }[],
  ): Promise<void> {
    // Sections opened in this file must be closed in it, as strongSwan requires.
    const stack = [...outer];
    const base = stack.length;
    let pos = 0;
    let line = 1;
    const error = (message: string, at = line) =>
      this.result.errors.push(`${file}:${at}: ${message}`);
    const peek = () => text[pos] ?? "";
    const skipSpaces = (newlines: boolean) => {
      for (;;) {
        const c = peek();
        if (c === "\n") {
          if (!newlines) return;
          line++;
          pos++;
        } else if (c === " " || c === "\t" || c === "\r") pos++;
        else if (c === "#") while (pos < text.length && peek() !== "\n") pos++;
        else return;
      }
    };
    const skipLine = () => {
      while (pos < text.length && peek() !== "\n") pos++;
    };
    const readName = () => {
      const start = pos;
      while (pos < text.length && nameChar.test(peek())) pos++;
      return text.slice(start, pos);
    };
    const readValue = (): string | null => {
      skipSpaces(false);
      if (peek() === '"') {
        pos++;
        let out = "";
        const startLine = line;
        for (;;) {
          if (pos >= text.length) {
            error("unterminated quoted string", startLine);
            return null;
          }
          const c = peek();
          pos++;
          if (c === '"') break;
          if (c === "\n") line++;
          if (c === "\\" && pos < text.length) {
            const e = peek();
            pos++;
            out += e === "n" ? "\n" : e === "t" ? "\t" : e === "r" ? "\r" : e;
            if (e === "\n") line++;
          } else out += c;
        }
        skipSpaces(false);
        if (pos < text.length && peek() !== "\n" && peek() !== "}") {
          error("unexpected text after quoted value");
          skipLine();
        }
        return out;
      }
      const start = pos;
      // As in strongSwan's lexer, "}" ends an unquoted value: `local { auth = pubkey }`.
      while (pos < text.length && peek() !== "\n" && peek() !== "#" && peek() !== "}") pos++;
      return text.slice(start, pos).trim();
    };

    for (;;) {
      skipSpaces(true);
      if (pos >= text.length) break;
      const current = stack[stack.length - 1] as { node: SwanctlSection; path: string[] };
      if (peek() === "}") {
        pos++;
        if (stack.length <= base) error("unexpected '}'");
        else stack.pop();
        continue;
      }
      const nameLine = line;
      const name = readName();
      if (name === "") {
        error(`unexpected character '${peek()}'`);
        pos++;
        skipLine();
        continue;
      }
      skipSpaces(false);
      const c = peek();
      if (name === "include" && c !== "=" && c !== "{" && c !== ":" && c !== "\n" && c !== "") {
        const pattern = readValue();
        if (pattern) await this.include(pattern, file, stack, nameLine);
        continue;
      }
      if (c === "=") {
        pos++;
        const value = readValue();
        if (value === null) continue;
        if (isSection(current.node[name])) {
          error(`'${name}' is a section and cannot take a value`, nameLine);
          continue;
        }
        current.node[name] = value;
        continue;
      }
      let refs: string[] = [];
      if (c === ":") {
        pos++;
        const start = pos;
        while (pos < text.length && peek() !== "{" && peek() !== "\n") pos++;
        refs = text
          .slice(start, pos)
          .split(",")
          .map((r) => r.trim())
          .filter((r) => r !== "");
        skipSpaces(false);
      }
      if (peek() === "{") {
        pos++;
        let section = current.node[name];
        if (!isSection(section)) {
          if (section !== undefined) error(`'${name}' was a value and becomes a section`, nameLine);
          section = {};
          current.node[name] = section;
        }
        for (const ref of refs) {
          const from = lookup(this.result.tree, ref) ?? lookup(current.node, ref);
          if (from) deepMerge(section, from);
          else error(`section '${name}' refers to unknown section '${ref}'`, nameLine);
        }
        const path = [...current.path, name];
        this.result.sectionSources[path.join(".")] = `${file}:${nameLine}`;
        stack.push({ node: section, path });
        continue;
      }
      error(`expected '=' or '{' after '${name}'`, nameLine);
      skipLine();
    }
    if (stack.length > base)
      error(`missing '}' for section '${stack[stack.length - 1]?.path.join(".")}'`);
  }

  async include(
    pattern: string,
    from: string,
    stack: { node: SwanctlSection; path: string[] }[],
    at: number,
  ): Promise<void> {
    const absolute = pattern.startsWith("/") ? pattern : `${dirname(from)}/${pattern}`;
    const files = await expandGlob(this.source, absolute);
    // A glob that matches nothing is fine (an empty conf.d); a plain missing file is not.
    if (files.length === 1 && files[0] === absolute && !/[*?[]/.test(absolute)) {
      if ((await this.source.readText(absolute)) === null) {
        this.result.errors.push(`${from}:${at}: included file ${absolute} not found`);
        return;
      }
    }
    for (const file of files)
      await this.budget.visit(file, `${from}:${at}`, () => this.parseFile(file, stack));
  }
}

/** Parse swanctl.conf text (with includes resolved through `source`). */
export async function parseSwanctlConf(
  text: string,
  file: string,
  source: FileSource,
): Promise<SwanctlParse> {
  const parser = new Parser(source);
  parser.result.files.push(file);
  await parser.budget.visit(file, null, () =>
    parser.parseText(text, file, [{ node: parser.result.tree, path: [] }]),
  );
  return parser.result;
}

/** Parse a file and everything it includes. */
export async function parseSwanctlFile(path: string, source: FileSource): Promise<SwanctlParse> {
  const parser = new Parser(source);
  await parser.budget.visit(path, null, () =>
    parser.parseFile(path, [{ node: parser.result.tree, path: [] }]),
  );
  return parser.result;
}

/** swanctl list values are comma (and blank) separated. */
export function swanctlList(value: string | SwanctlSection | undefined): string[] {
  if (typeof value !== "string") return [];
  return value
    .split(/[,\s]+/)
    .map((v) => v.trim())
    .filter((v) => v !== "");
}

function str(value: string | SwanctlSection | undefined): string | null {
  return typeof value === "string" ? value : null;
}

/** The connections of a parsed swanctl.conf, in the shape the checks read. */
export function swanctlConnections(parse: SwanctlParse): SwanctlConnection[] {
  const connections = parse.tree.connections;
  if (!isSection(connections)) return [];
  const out: SwanctlConnection[] = [];
  for (const [name, conn] of Object.entries(connections)) {
    if (!isSection(conn)) continue;
    const local: SwanctlConnection["local"] = [];
    const remote: SwanctlConnection["remote"] = [];
    const children: SwanctlChild[] = [];
    for (const [key, sub] of Object.entries(conn)) {
      if (!isSection(sub)) continue;
      // Authentication rounds are "local", "local-1", "local-eap" … (any suffix).
      if (key === "local" || key.startsWith("local-")) {
        local.push({ auth: str(sub.auth), certs: swanctlList(sub.certs), id: str(sub.id) });
      } else if (key === "remote" || key.startsWith("remote-")) {
        remote.push({ auth: str(sub.auth), id: str(sub.id), cacerts: swanctlList(sub.cacerts) });
      } else if (key === "children") {
        for (const [childName, child] of Object.entries(sub)) {
          if (!isSection(child)) continue;
          children.push({
            name: childName,
            localTs: swanctlList(child.local_ts),
            remoteTs: swanctlList(child.remote_ts),
            espProposals: swanctlList(child.esp_proposals),
            startAction: str(child.start_action),
            dpdAction: str(child.dpd_action),
            mode: str(child.mode),
          });
        }
      }
    }
    out.push({
      name,
      version: str(conn.version),
      remoteAddrs: swanctlList(conn.remote_addrs),
      proposals: swanctlList(conn.proposals),
      local,
      remote,
      children,
      source: parse.sectionSources[`connections.${name}`] ?? "",
    });
  }
  return out;
}
