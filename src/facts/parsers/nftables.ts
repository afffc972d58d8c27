/**
 * A parser for the subset of the nft(8) language found in /etc/nftables.conf:
 * `include` (with globs), `define` / `$var`, `flush ruleset`, `table { chain { … } }` blocks
 * (sets, maps, flowtables and other objects are skipped), and the command forms
 * `add|create table`, `add|create chain … { … }`, `add|insert rule …`.
 * It reads the file as written; it does not run nft.
 */
import type { NftChain } from "../types.js";
import { expandGlob, IncludeBudget, joinPath, type FileSource } from "./common.js";

interface Token {
  /** "word", "string", or the punctuation itself: "{", "}", ";", "\n", ",", "=". */
  kind: string;
  value: string;
  where: string; // "path:line"
  /** 1-based column of the token's first character. */
  col?: number;
  /** Whitespace (or a line break) preceded the token in the source; used to render rules as written. */
  spaced?: boolean;
}

/** Split nft source into tokens; newlines are tokens because they end statements. */
export function tokenizeNft(text: string, path: string): { tokens: Token[]; errors: string[] } {
  const tokens: Token[] = [];
  const errors: string[] = [];
  let line = 1;
  let lineStart = 0;
  let i = 0;
  let spaced = true;
  const at = () => `${path}:${line}`;
  const push = (t: Token) => {
    tokens.push({ ...t, spaced, col: i - lineStart + 1 });
    spaced = false;
  };
  while (i < text.length) {
    const c = text[i] as string;
    if (c === "\\" && text[i + 1] === "\n") {
      i += 2;
      line++;
      lineStart = i;
      spaced = true;
      continue;
    }
    if (c === "\n") {
      push({ kind: "\n", value: "\n", where: at() });
      spaced = true;
      line++;
      i++;
      lineStart = i;
      continue;
    }
    if (c === " " || c === "\t" || c === "\r") {
      spaced = true;
      i++;
      continue;
    }
    if (c === "#") {
      while (i < text.length && text[i] !== "\n") i++;
      continue;
    }
    if (c === '"') {
      const end = text.indexOf('"', i + 1);
      if (end === -1 || text.slice(i, end).includes("\n")) {
        errors.push(`${at()}: unterminated string`);
        const nl = text.indexOf("\n", i);
        i = nl === -1 ? text.length : nl;
        continue;
      }
      push({ kind: "string", value: text.slice(i + 1, end), where: at() });
      i = end + 1;
      continue;
    }
    if ("{};,=".includes(c)) {
      push({ kind: c, value: c, where: at() });
      i++;
      continue;
    }
    let j = i;
    while (j < text.length && !/[\s{};,="#]/.test(text[j] as string)) j++;
    // `#` inside a word is not a comment only when glued (e.g. none seen in practice); stop there.
    push({ kind: "word", value: text.slice(i, j), where: at() });
    i = j;
  }
  return { tokens, errors };
}

function dirOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash <= 0 ? "/" : path.slice(0, slash);
}

/** Tokenize a file and splice in the files its top-level `include` statements name. */
async function tokensWithIncludes(
  source: FileSource,
  path: string,
  errors: string[],
  budget: IncludeBudget,
  from: string | null,
): Promise<Token[]> {
  let tokens: Token[] = [];
  await budget.visit(path, from, async () => {
    tokens = await tokensOfFile(source, path, errors, budget);
  });
  return tokens;
}

async function tokensOfFile(
  source: FileSource,
  path: string,
  errors: string[],
  budget: IncludeBudget,
): Promise<Token[]> {
  const text = await source.readText(path);
  if (text === null) {
    errors.push(`${path}: not found`);
    return [];
  }
  const { tokens, errors: lexErrors } = tokenizeNft(text, path);
  errors.push(...lexErrors);
  const out: Token[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as Token;
    const next = tokens[i + 1];
    const startOfStatement = i === 0 || ["\n", ";", "{", "}"].includes(tokens[i - 1]?.kind ?? "");
    if (t.kind === "word" && t.value === "include" && startOfStatement && next?.kind === "string") {
      i++;
      const pattern = next.value;
      const candidates = pattern.startsWith("/")
        ? [pattern]
        : [joinPath(dirOf(path), pattern), joinPath("/etc", pattern)];
      let found = false;
      for (const candidate of candidates) {
        const files = await expandGlob(source, candidate);
        const existing: string[] = [];
        for (const f of files) if ((await source.readText(f)) !== null) existing.push(f);
        if (existing.length === 0 && /[*?[]/.test(candidate)) {
          found = true; // an empty glob is not an error for nft
          break;
        }
        if (existing.length === 0) continue;
        for (const f of existing)
          // Not out.push(...tokens): spreading a large file's tokens overflows the call stack.
          for (const token of await tokensWithIncludes(source, f, errors, budget, t.where))
            out.push(token);
        found = true;
        break;
      }
      if (!found) errors.push(`${t.where}: include "${pattern}" not found`);
      continue;
    }
    out.push(t);
  }
  return out;
}

/** Render rule tokens back to text with the spacing they were written with (line breaks become spaces). */
function renderTokens(tokens: Token[]): string {
  return tokens
    .map((t, i) => {
      const text = t.kind === "string" ? `"${t.value}"` : t.value;
      return i > 0 && t.spaced !== false ? ` ${text}` : text;
    })
    .join("");
}

const tableObjects = new Set([
  "set",
  "map",
  "flowtable",
  "counter",
  "quota",
  "ct",
  "limit",
  "secmark",
  "synproxy",
]);
const families = new Set(["ip", "ip6", "inet", "arp", "bridge", "netdev"]);

class NftParser {
  private pos = 0;
  readonly chains = new Map<string, NftChain>();
  /** Where each rule of a chain was written, for errors the kernel would report at load. */
  readonly ruleSites = new Map<NftChain, Token[][]>();
  private readonly defines = new Map<string, Token[]>();

  private addRule(chain: NftChain, words: Token[], first = false): void {
    const sites = this.ruleSites.get(chain) ?? [];
    this.ruleSites.set(chain, sites);
    if (first) {
      chain.rules.unshift(renderTokens(words));
      sites.unshift(words);
    } else {
      chain.rules.push(renderTokens(words));
      sites.push(words);
    }
  }

  constructor(
    private readonly tokens: Token[],
    readonly errors: string[],
  ) {}

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  private skipSeparators(): void {
    while (this.peek() && (this.peek()?.kind === "\n" || this.peek()?.kind === ";")) this.pos++;
  }

  /** Tokens up to the end of the statement (newline or `;` outside braces). */
  private statement(): Token[] {
    const out: Token[] = [];
    let depth = 0;
    for (;;) {
      const t = this.peek();
      if (!t) break;
      if (depth === 0 && (t.kind === "\n" || t.kind === ";" || t.kind === "}")) break;
      if (t.kind === "{") depth++;
      if (t.kind === "}") depth--;
      this.pos++;
      if (t.kind === "\n") continue;
      out.push(t);
    }
    return out;
  }

  /** Skip a `{ … }` block whose opening brace is the next token. */
  private skipBlock(): void {
    let depth = 0;
    for (;;) {
      const t = this.tokens[this.pos++];
      if (!t) {
        this.errors.push("unexpected end of input: missing }");
        return;
      }
      if (t.kind === "{") depth++;
      if (t.kind === "}" && --depth === 0) return;
    }
  }

  private expand(tokens: Token[]): Token[] {
    return tokens.flatMap((t) => {
      if (t.kind === "word" && t.value.startsWith("$")) {
        const value = this.defines.get(t.value.slice(1));
        if (value) {
          const expanded = this.expand(value);
          return expanded.map((v, i) => (i === 0 ? { ...v, spaced: t.spaced } : v));
        }
        this.errors.push(`${t.where}: undefined variable ${t.value}`);
      }
      return [t];
    });
  }

  private chain(family: string, table: string, name: string): NftChain {
    const key = `${family}\u0000${table}\u0000${name}`;
    let chain = this.chains.get(key);
    if (!chain) {
      chain = { family, table, name, hook: null, policy: null, rules: [] };
      this.chains.set(key, chain);
    }
    return chain;
  }

  /** `[family] name` at the current position. */
  private tableSpec(): { family: string; table: string } | null {
    const a = this.tokens[this.pos];
    const b = this.tokens[this.pos + 1];
    if (a?.kind !== "word") return null;
    if (families.has(a.value) && b?.kind === "word") {
      this.pos += 2;
      return { family: a.value, table: b.value };
    }
    this.pos += 1;
    return { family: "ip", table: a.value };
  }

  /** Statements of a chain body (after `{`, through `}`). */
  private chainBody(chain: NftChain): void {
    for (;;) {
      this.skipSeparators();
      const t = this.peek();
      if (!t) {
        this.errors.push(`missing } closing chain ${chain.name}`);
        return;
      }
      if (t.kind === "}") {
        this.pos++;
        return;
      }
      this.chainStatement(chain, this.expand(this.statement()));
    }
  }

  private chainStatement(chain: NftChain, words: Token[]): void {
    const first = words[0]?.value;
    if (first === undefined) return;
    if (first === "type") {
      const hookAt = words.findIndex((w) => w.value === "hook");
      if (hookAt !== -1) chain.hook = words[hookAt + 1]?.value ?? null;
      // `type filter hook input priority 0; policy drop;` may arrive on one line after `;` splitting.
      return;
    }
    if (first === "policy") {
      chain.policy = words[1]?.value ?? null;
      return;
    }
    if (first === "comment" || first === "devices" || first === "device") return;
    this.addRule(chain, words);
  }

  private tableBody(family: string, table: string): void {
    for (;;) {
      this.skipSeparators();
      const t = this.peek();
      if (!t) {
        this.errors.push(`missing } closing table ${table}`);
        return;
      }
      if (t.kind === "}") {
        this.pos++;
        return;
      }
      if (t.value === "chain") {
        this.pos++;
        const name = this.peek();
        if (name?.kind !== "word" && name?.kind !== "string") {
          this.errors.push(`${t.where}: chain without a name`);
          this.statement();
          continue;
        }
        this.pos++;
        if (this.peek()?.kind !== "{") {
          this.errors.push(`${t.where}: expected { after chain ${name.value}`);
          this.statement();
          continue;
        }
        this.pos++;
        this.chainBody(this.chain(family, table, name.value));
        continue;
      }
      if (tableObjects.has(t.value)) {
        const words = this.statement();
        // The object's block, if any, was consumed by statement() as a nested brace group.
        void words;
        continue;
      }
      const words = this.statement();
      if (words[0]?.value === "flags" || words[0]?.value === "comment") continue;
      if (words.length > 0)
        this.errors.push(`${t.where}: unexpected "${renderTokens(words)}" in table ${table}`);
    }
  }

  parse(): void {
    for (;;) {
      this.skipSeparators();
      const t = this.peek();
      if (!t) return;
      if (t.kind === "}") {
        this.errors.push(`${t.where}: unbalanced }`);
        this.pos++;
        continue;
      }
      const verb = t.value;
      if (verb === "define" || verb === "redefine") {
        this.pos++;
        const words = this.statement();
        const name = words[0]?.value;
        if (name === undefined || words[1]?.kind !== "=") {
          this.errors.push(`${t.where}: malformed define`);
          continue;
        }
        this.defines.set(name, this.expand(words.slice(2)));
        continue;
      }
      if (verb === "undefine") {
        this.pos++;
        const words = this.statement();
        if (words[0]) this.defines.delete(words[0].value);
        continue;
      }
      if (verb === "flush" && this.tokens[this.pos + 1]?.value === "ruleset") {
        this.statement();
        this.chains.clear();
        continue;
      }
      if (verb === "table") {
        this.pos++;
        const spec = this.tableSpec();
        if (!spec) {
          this.errors.push(`${t.where}: table without a name`);
          this.statement();
          continue;
        }
        if (this.peek()?.kind === "{") {
          this.pos++;
          this.tableBody(spec.family, spec.table);
        } else this.statement();
        continue;
      }
      if (verb === "add" || verb === "create" || verb === "insert") {
        this.pos++;
        const object = this.peek()?.value;
        if (object === "table") {
          this.pos++;
          const spec = this.tableSpec();
          if (spec && this.peek()?.kind === "{") {
            this.pos++;
            this.tableBody(spec.family, spec.table);
          } else this.statement();
          continue;
        }
        if (object === "chain" || object === "rule") {
          this.pos++;
          const spec = this.tableSpec();
          const name = this.peek();
          if (!spec || name?.kind !== "word") {
            this.errors.push(`${t.where}: malformed ${verb} ${object}`);
            this.statement();
            continue;
          }
          this.pos++;
          const chain = this.chain(spec.family, spec.table, name.value);
          if (object === "chain") {
            if (this.peek()?.kind === "{") {
              this.pos++;
              this.chainBody(chain);
            } else this.statement();
            continue;
          }
          let words = this.expand(this.statement());
          // `add rule … position N` / `handle N` / `index N` put the rule elsewhere; order is kept as written.
          if (["position", "handle", "index"].includes(words[0]?.value ?? ""))
            words = words.slice(2);
          this.addRule(chain, words, verb === "insert");
          continue;
        }
        this.statement();
        continue;
      }
      if (verb === "delete" || verb === "flush" || verb === "destroy" || verb === "reset") {
        // Deleting objects at load time is rare in nftables.conf; recorded, not modelled.
        this.statement();
        continue;
      }
      const words = this.statement();
      if (words.length > 0) this.errors.push(`${t.where}: unexpected "${renderTokens(words)}"`);
      else this.pos++;
    }
  }
}

/** Hooks in which the kernel refuses `meta ipsec` (secpath): only a received packet has one. */
const noSecpathHooks = new Set(["output", "postrouting"]);

/**
 * Expressions `nft -c` accepts but the kernel rejects when the ruleset is loaded (nft -c
 * does not run the kernel's per-hook validation), so the whole file fails and nothing of it
 * filters: `meta ipsec` / `meta secpath` in an output or postrouting base chain
 * (`rt ipsec` is the form for locally generated packets).
 */
function kernelRejections(parser: NftParser, errors: string[]): void {
  for (const [chain, sites] of parser.ruleSites) {
    if (chain.hook === null || !noSecpathHooks.has(chain.hook)) continue;
    for (const words of sites)
      words.forEach((w, i) => {
        const next = words[i + 1]?.value;
        if (w.value === "meta" && (next === "ipsec" || next === "secpath"))
          errors.push(
            `${w.where}:${w.col ?? 1}: "meta ${next}" is valid only in prerouting, input and ` +
              `forward chains, not in ${chain.hook} chain ${chain.name}; the kernel rejects the ` +
              `whole ruleset (use "rt ipsec exists" for outgoing packets)`,
          );
      });
  }
}

/** Transport headers whose ports nft accepts as service names. */
const portProtocols = new Set(["tcp", "udp", "udplite", "sctp", "dccp", "th"]);
/** Protocol names nft knows itself; any other name it looks up in /etc/protocols. */
const builtinProtocols = new Set([
  "icmp",
  "icmpv6",
  "tcp",
  "udp",
  "udplite",
  "sctp",
  "dccp",
  "esp",
  "ah",
  "comp",
  "igmp",
]);

/**
 * The names (and aliases) of /etc/services or /etc/protocols, or null when the file is
 * missing: nft resolves a port written as a name (`udp dport domain`) with getaddrinfo and a
 * protocol it has no keyword for (`meta l4proto ipv6-icmp`) with getprotobyname, which read
 * those files (package netbase), and fails the whole file on a name it cannot resolve.
 */
export function parseNetbaseNames(text: string | null): Set<string> | null {
  if (text === null) return null;
  const names = new Set<string>();
  for (const line of text.split("\n")) {
    const words = (line.split("#")[0] ?? "").trim().split(/\s+/);
    // services: "domain 53/udp"; protocols: "ipv6-icmp 58 IPv6-ICMP"
    if (words.length < 2 || !/^\d+(\/\w+)?$/.test(words[1] ?? "")) continue;
    names.add(words[0] as string);
    for (const alias of words.slice(2)) names.add(alias);
  }
  return names;
}

/** The names nft resolves through netbase's files, as the target has them. */
export interface NetbaseNames {
  services: Set<string> | null;
  protocols: Set<string> | null;
}

/** Ports and protocols written as names that the target's netbase files do not resolve. */
function unresolvedNames(parser: NftParser, netbase: NetbaseNames, errors: string[]): void {
  for (const sites of parser.ruleSites.values())
    for (const words of sites)
      words.forEach((w, i) => {
        const before = words[i - 1]?.value ?? "";
        let kind: "service" | "protocol";
        if ((w.value === "dport" || w.value === "sport") && portProtocols.has(before))
          kind = "service";
        else if (
          (w.value === "l4proto" && before === "meta") ||
          (w.value === "protocol" && before === "ip") ||
          (w.value === "nexthdr" && before === "ip6")
        )
          kind = "protocol";
        else return;
        let j = i + 1;
        while (/^([!=<>]+|eq|ne|lt|gt|le|ge)$/.test(words[j]?.value ?? "")) j++;
        const values: Token[] = [];
        if (words[j]?.value === "{")
          for (j++; j < words.length && words[j]?.value !== "}"; j++) values.push(words[j]!);
        else if (words[j] !== undefined) values.push(words[j]!);
        const file = kind === "service" ? "/etc/services" : "/etc/protocols";
        const known = kind === "service" ? netbase.services : netbase.protocols;
        for (const v of values) {
          if (v.kind !== "word" || !/^[A-Za-z][\w.+-]*$/.test(v.value)) continue;
          if (kind === "protocol" && builtinProtocols.has(v.value)) continue;
          if (known?.has(v.value) === true) continue;
          errors.push(
            `${v.where}:${v.col ?? 1}: nft resolves the ${kind} name "${v.value}" through ` +
              (known === null
                ? `${file}, which is missing (package netbase)`
                : `${file}, which does not list it`) +
              "; it rejects the whole ruleset",
          );
        }
      });
}

/**
 * Parse nft source already split into tokens; `netbase` checks port and protocol names as
 * nft resolves them, undefined skips that check.
 */
function parseTokens(tokens: Token[], errors: string[], netbase?: NetbaseNames): NftChain[] {
  const parser = new NftParser(tokens, errors);
  parser.parse();
  kernelRejections(parser, errors);
  if (netbase !== undefined) unresolvedNames(parser, netbase, errors);
  // Where each rule was written ("FILE:LINE"), for evidence that names the rule's line.
  for (const chain of parser.chains.values())
    chain.sites = (parser.ruleSites.get(chain) ?? []).map((words) => words[0]?.where ?? "");
  return [...parser.chains.values()];
}

/** Parse one nft file's text (includes are reported as unresolved). */
export function parseNftables(
  text: string,
  path: string,
): { chains: NftChain[]; parseErrors: string[] } {
  const { tokens, errors } = tokenizeNft(text, path);
  for (const [i, t] of tokens.entries()) {
    if (t.value === "include" && tokens[i + 1]?.kind === "string") {
      errors.push(`${t.where}: include "${tokens[i + 1]?.value}" not followed (no file source)`);
    }
  }
  const kept = tokens.filter(
    (t, i) =>
      !(t.value === "include" && tokens[i + 1]?.kind === "string") &&
      !(t.kind === "string" && tokens[i - 1]?.value === "include"),
  );
  return { chains: parseTokens(kept, errors), parseErrors: errors };
}

/** Read an nft file through a file source, following `include` statements. */
export async function readNftables(
  source: FileSource,
  path = "/etc/nftables.conf",
): Promise<{ chains: NftChain[]; parseErrors: string[] }> {
  const errors: string[] = [];
  // nft itself stops at 16 nested includes (MAX_INCLUDE_DEPTH).
  const tokens = await tokensWithIncludes(
    source,
    path,
    errors,
    new IncludeBudget(errors, 16),
    null,
  );
  const netbase = {
    services: parseNetbaseNames(await source.readText("/etc/services")),
    protocols: parseNetbaseNames(await source.readText("/etc/protocols")),
  };
  return { chains: parseTokens(tokens, errors, netbase), parseErrors: errors };
}

/** meta keys nft prints without the `meta` prefix. */
const bareMetaKeys = new Set(["iif", "oif", "iifname", "oifname", "mark", "skuid", "skgid"]);
const quotedMetaKeys = new Set(["iif", "oif", "iifname", "oifname"]);

function renderValue(value: unknown, quote = false): string {
  if (Array.isArray(value)) return value.map((v) => renderValue(v, quote)).join(",");
  if (value !== null && typeof value === "object") {
    const o = value as Record<string, unknown>;
    if ("set" in o)
      return `{ ${(o["set"] as unknown[]).map((v) => renderValue(v, quote)).join(", ")} }`;
    if ("prefix" in o) {
      const p = o["prefix"] as { addr: unknown; len: number };
      return `${renderValue(p.addr)}/${p.len}`;
    }
    if ("range" in o) {
      const [a, b] = o["range"] as unknown[];
      return `${renderValue(a)}-${renderValue(b)}`;
    }
    return JSON.stringify(value);
  }
  return quote && typeof value === "string" ? `"${value}"` : String(value);
}

/**
 * nft's JSON gives a protocol a rule names by number (`meta l4proto 50`) where its text
 * form, and so /etc/nftables.conf, has the name (`esp`): render the names, so a live
 * ruleset reads like the file it was loaded from and the checks judge one form.
 */
const protocolKeys = new Set(["meta l4proto", "ip protocol", "ip6 nexthdr"]);
const protocolNames: Readonly<Record<number, string>> = {
  1: "icmp",
  6: "tcp",
  17: "udp",
  50: "esp",
  51: "ah",
  58: "ipv6-icmp",
  132: "sctp",
  136: "udplite",
};

function protocolName(value: unknown): unknown {
  if (typeof value === "number") return protocolNames[value] ?? value;
  if (value !== null && typeof value === "object" && "set" in value)
    return { set: ((value as { set: unknown[] }).set ?? []).map(protocolName) };
  return value;
}

function renderLeft(left: unknown): { text: string; quote: boolean } {
  const o = (left ?? {}) as Record<string, Record<string, unknown>>;
  if (o["payload"])
    return { text: `${o["payload"]["protocol"]} ${o["payload"]["field"]}`, quote: false };
  if (o["meta"]) {
    const key = String(o["meta"]["key"]);
    return { text: bareMetaKeys.has(key) ? key : `meta ${key}`, quote: quotedMetaKeys.has(key) };
  }
  if (o["ct"]) return { text: `ct ${o["ct"]["key"]}`, quote: false };
  if (o["rt"]) return { text: `rt ${o["rt"]["key"]}`, quote: false };
  return { text: JSON.stringify(left), quote: false };
}

/** Render one statement of nft's JSON rule `expr` list as nft text; unknown ones as JSON. */
export function renderNftStatement(stmt: Record<string, unknown>): string {
  const [kind, body] = Object.entries(stmt)[0] ?? ["", null];
  const b = (body ?? {}) as Record<string, unknown>;
  switch (kind) {
    case "match": {
      const left = renderLeft(b["left"]);
      // Boolean keys (`meta ipsec`, `rt ipsec`): nft prints true as exists, false as missing.
      if (typeof b["right"] === "boolean" && b["op"] === "==")
        return `${left.text} ${b["right"] ? "exists" : "missing"}`;
      const op = b["op"] === "==" || b["op"] === "in" ? "" : `${String(b["op"])} `;
      const right = protocolKeys.has(left.text) ? protocolName(b["right"]) : b["right"];
      return `${left.text} ${op}${renderValue(right, left.quote)}`;
    }
    case "accept":
    case "drop":
    case "continue":
    case "return":
      return kind;
    case "reject": {
      // nft prints the family's default (port-unreachable) as a bare `reject`.
      const type = b["type"] === undefined ? undefined : String(b["type"]);
      const expr = b["expr"] === undefined ? undefined : String(b["expr"]);
      if (type === undefined || expr === "port-unreachable") return "reject";
      if (type === "tcp reset") return "reject with tcp reset";
      return `reject with ${type} type ${expr ?? ""}`.trim();
    }
    case "jump":
    case "goto":
      return `${kind} ${String(b["target"])}`;
    case "counter":
      return "counter";
    case "log":
      return body === null
        ? "log"
        : `log ${Object.entries(b)
            .map(([k, v]) => `${k} ${typeof v === "string" ? `"${v}"` : renderValue(v)}`)
            .join(" ")}`;
    default:
      return JSON.stringify(stmt);
  }
}

/** Chains of `nft -j list ruleset` output, with rules rendered as nft text. */
export function parseNftJson(json: string): { chains: NftChain[]; parseErrors: string[] } {
  const parseErrors: string[] = [];
  let doc: { nftables?: Record<string, Record<string, unknown>>[] };
  try {
    doc = JSON.parse(json) as typeof doc;
  } catch (error) {
    return { chains: [], parseErrors: [`nft -j: ${(error as Error).message}`] };
  }
  const chains = new Map<string, NftChain>();
  const key = (f: unknown, t: unknown, n: unknown) =>
    `${String(f)}\u0000${String(t)}\u0000${String(n)}`;
  for (const item of doc.nftables ?? []) {
    const c = item["chain"];
    if (c) {
      chains.set(key(c["family"], c["table"], c["name"]), {
        family: String(c["family"]),
        table: String(c["table"]),
        name: String(c["name"]),
        hook: typeof c["hook"] === "string" ? c["hook"] : null,
        policy: typeof c["policy"] === "string" ? c["policy"] : null,
        rules: [],
      });
    }
    const r = item["rule"];
    if (r) {
      const chain = chains.get(key(r["family"], r["table"], r["chain"]));
      if (!chain) {
        parseErrors.push(`rule for unknown chain ${String(r["chain"])}`);
        continue;
      }
      chain.rules.push(
        ((r["expr"] as Record<string, unknown>[]) ?? []).map(renderNftStatement).join(" "),
      );
    }
  }
  return { chains: [...chains.values()], parseErrors };
}
