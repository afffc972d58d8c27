/**
 * Shared helpers for the configuration parsers. Parsers are pure functions on text;
 * where a format includes other files (sshd Include, sudoers @includedir, nftables
 * include) the resolver takes a {@link FileSource}, which a Target satisfies.
 */
import { normalize } from "node:path/posix";
import { KofferError, ExitCode } from "../../errors.js";
import type { Setting } from "../types.js";

/** The read side of a Target, enough for parsers that follow includes. */
export interface FileSource {
  readText(path: string): Promise<string | null>;
  readDir(path: string): Promise<string[] | null>;
}

/** A logical line with its 1-based number in the file. */
export interface NumberedLine {
  text: string;
  line: number;
}

/** Split text into trimmed, non-empty lines with `#` comments removed (comment must start the line). */
export function contentLines(text: string, commentChars = "#"): NumberedLine[] {
  const out: NumberedLine[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const trimmed = raw.trim();
    if (trimmed === "" || commentChars.includes(trimmed[0] ?? "")) return;
    out.push({ text: trimmed, line: index + 1 });
  });
  return out;
}

/** Build a {@link Setting}. */
export function setting(value: string, path: string, line: number): Setting {
  return { value, source: `${path}:${line}` };
}

/** Join a directory and a name the way target paths are written. */
export function joinPath(dir: string, name: string): string {
  return dir.endsWith("/") ? `${dir}${name}` : `${dir}/${name}`;
}

/** Convert a shell glob (`*`, `?`, `[...]`) in one path component to a RegExp. */
export function globToRegExp(glob: string): RegExp {
  let out = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === "*") out += "[^/]*";
    else if (c === "?") out += "[^/]";
    else if (c === "[") {
      const close = glob.indexOf("]", i + 1);
      if (close === -1) out += "\\[";
      else {
        let body = glob.slice(i + 1, close);
        if (body.startsWith("!")) body = `^${body.slice(1)}`;
        out += `[${body.replace(/\\/g, "\\\\")}]`;
        i = close;
      }
    } else out += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${out}$`);
}

/**
 * Expand a glob whose wildcards are in the last path component only (what sshd_config
 * Include and nftables include use in practice), sorted like glob(3).
 */
export async function expandGlob(source: FileSource, pattern: string): Promise<string[]> {
  if (!/[*?[]/.test(pattern)) return [pattern];
  const slash = pattern.lastIndexOf("/");
  const dir = slash <= 0 ? "/" : pattern.slice(0, slash);
  const re = globToRegExp(pattern.slice(slash + 1));
  const names = (await source.readDir(dir)) ?? [];
  return names
    .filter((n) => re.test(n) && !n.startsWith("."))
    .sort(compareC)
    .map((n) => joinPath(dir, n));
}

/** Byte-order comparison, as C's strcmp / `LC_ALL=C sort` (what systemd and glob use). */
export function compareC(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Remove one level of matching single or double quotes. */
export function unquote(value: string): string {
  if (value.length >= 2) {
    const first = value[0];
    if ((first === '"' || first === "'") && value.endsWith(first)) return value.slice(1, -1);
  }
  return value;
}

/** A {@link FileSource} over an in-memory map of path → content (tests, saved snapshots). */
export function memorySource(files: Record<string, string>): FileSource {
  return {
    async readText(path) {
      return files[path] ?? null;
    },
    async readDir(path) {
      const prefix = path.endsWith("/") ? path : `${path}/`;
      const names = new Set<string>();
      for (const p of Object.keys(files)) {
        if (p.startsWith(prefix)) names.add(p.slice(prefix.length).split("/")[0] as string);
      }
      return names.size === 0 ? null : [...names];
    },
  };
}

/** Most files one configuration may pull in through includes, whatever their nesting. */
export const maxIncludedFiles = 256;

/** An include tree koffer will not read to the end (exit 78: the target's files are bad input). */
export class IncludeBudgetError extends KofferError {
  constructor(message: string) {
    super("E_INCLUDE_BUDGET", message, ExitCode.config);
    this.name = "IncludeBudgetError";
  }
}

/**
 * The include budget of one configuration read: a file that includes itself (directly or
 * through others) is a loop and is not entered again; nesting deeper than the consuming
 * program allows and more than {@link maxIncludedFiles} files in all are refused. Each
 * refusal is a problem at the including directive, so a hostile include tree ends with
 * evidence instead of an endless read (a file including itself twice doubles the work per
 * level). Where the parse has its own error list that reaches the checks (nftables,
 * swanctl), refusals are recorded there; otherwise (`throwOnRefusal`: sudoers, sshd) they
 * throw an {@link IncludeBudgetError}, and the area's controls report `error` with it.
 */
export class IncludeBudget {
  private readonly stack: string[] = [];
  private files = 0;

  /**
   * @param errors where refusals are recorded ("FILE:LINE: …").
   * @param maxDepth how deeply includes nest at most (sshd and nft: 16; strongSwan: 10).
   */
  constructor(
    private readonly errors: string[],
    private readonly maxDepth: number,
    private readonly throwOnRefusal = false,
    private readonly maxFiles = maxIncludedFiles,
  ) {}

  private refuse(message: string): void {
    if (this.throwOnRefusal) throw new IncludeBudgetError(message);
    this.errors.push(message);
  }

  /**
   * Read `file` (the top-level one with `where` null) with `read`, unless that would loop or
   * exceed the budget.
   */
  async visit(file: string, where: string | null, read: () => Promise<void>): Promise<void> {
    const at = where ?? file;
    // "conf.d/../swanctl.conf" is swanctl.conf: compare paths without "." and "..".
    file = normalize(file);
    const loop = this.stack.indexOf(file);
    if (loop !== -1) {
      this.refuse(`${at}: include loop: ${[...this.stack.slice(loop), file].join(" -> ")}`);
      return;
    }
    if (this.stack.length > this.maxDepth) {
      this.refuse(`${at}: includes nested deeper than ${this.maxDepth} levels`);
      return;
    }
    if (++this.files > this.maxFiles) {
      if (this.files === this.maxFiles + 1)
        this.refuse(`${at}: more than ${this.maxFiles} included files; the rest is not read`);
      return;
    }
    this.stack.push(file);
    try {
      await read();
    } finally {
      this.stack.pop();
    }
  }
}
