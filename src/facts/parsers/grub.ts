/**
 * /etc/default/grub as grub-mkconfig reads it: a POSIX shell file, sourced, followed by
 * /etc/default/grub.d/*.cfg in glob (C) order. So a drop-in's
 * `GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX apparmor=0"` appends to what the main file set,
 * and a plain assignment replaces it. This reader evaluates the subset of sh those files
 * use — assignments (also after `export`), single and double quotes, backslash escapes,
 * `$VAR`, `${VAR}`, `${VAR:-word}`, `${VAR-word}`, line continuations, comments — and
 * skips every other command (they do not change the variables in practice).
 */
import type { ChainLink, Setting } from "../types.js";
import { assign } from "../effective.js";
import { compareC, joinPath, type FileSource } from "./common.js";

/** Expand `$…` references at `text[i]` (pointing at `$`); returns the value and the next index. */
function expandDollar(text: string, i: number, vars: Record<string, Setting>): [string, number] {
  const get = (name: string) => vars[name]?.value;
  if (text[i + 1] === "{") {
    const close = text.indexOf("}", i + 2);
    if (close === -1) return ["$", i + 1];
    const body = text.slice(i + 2, close);
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(:?-)?(.*)$/s.exec(body);
    if (m === null) return ["", close + 1];
    const value = get(m[1] as string);
    if (m[2] === ":-")
      return [value === undefined || value === "" ? (m[3] as string) : value, close + 1];
    if (m[2] === "-") return [value === undefined ? (m[3] as string) : value, close + 1];
    return [value ?? "", close + 1];
  }
  const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + 1));
  if (m === null) return ["$", i + 1];
  return [get(m[0]) ?? "", i + 1 + m[0].length];
}

/**
 * Evaluate one shell word starting at `i` (quotes removed, variables expanded); stops at
 * unquoted whitespace, `;` or a comment. Returns the word and the index after it.
 */
export function shellWord(
  text: string,
  start: number,
  vars: Record<string, Setting>,
): [string, number] {
  let out = "";
  let i = start;
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s|;/.test(c)) break;
    if (c === "'") {
      const close = text.indexOf("'", i + 1);
      const end = close === -1 ? text.length : close;
      out += text.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      i++;
      while (i < text.length && text[i] !== '"') {
        const d = text[i] as string;
        if (d === "\\" && i + 1 < text.length && '$`"\\\n'.includes(text[i + 1] as string)) {
          if (text[i + 1] !== "\n") out += text[i + 1];
          i += 2;
        } else if (d === "$") {
          const [v, next] = expandDollar(text, i, vars);
          out += v;
          i = next;
        } else {
          out += d;
          i++;
        }
      }
      i++;
    } else if (c === "\\") {
      if (text[i + 1] !== "\n") out += text[i + 1] ?? "";
      i += 2;
    } else if (c === "$") {
      const [v, next] = expandDollar(text, i, vars);
      out += v;
      i = next;
    } else {
      out += c;
      i++;
    }
  }
  return [out, i];
}

/** Split a file into logical commands (joining `\`-newline continuations and quoted newlines), with their first line. */
function commands(text: string): { text: string; line: number }[] {
  const out: { text: string; line: number }[] = [];
  let current = "";
  let startLine = 1;
  let line = 1;
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (current === "" && /\s/.test(c) && c !== "\n") continue;
    if (current === "") startLine = line;
    if (
      quote === null &&
      c === "#" &&
      (current === "" || /\s/.test(current[current.length - 1] ?? ""))
    ) {
      while (i < text.length && text[i] !== "\n") i++;
      i--;
      continue;
    }
    if (c === "\\" && quote !== "'" && text[i + 1] === "\n") {
      i++;
      line++;
      continue;
    }
    if (c === "\\" && quote !== "'") {
      current += c + (text[i + 1] ?? "");
      i++;
      continue;
    }
    if ((c === "'" || c === '"') && (quote === null || quote === c))
      quote = quote === null ? c : null;
    if (c === "\n") {
      line++;
      if (quote === null) {
        if (current.trim() !== "") out.push({ text: current.trim(), line: startLine });
        current = "";
        continue;
      }
    }
    current += c;
  }
  if (current.trim() !== "") out.push({ text: current.trim(), line: startLine });
  return out;
}

/**
 * Split a command line at unquoted `;`, `&&`, `||` into simple commands, and drop the
 * reserved words that may lead one (`if`, `then`, `else`, `elif`, `do`, `{`, `!`): an
 * assignment in `[ -d /x ] && A=…` or `if …; then A=…; fi` is made by sh. Conditions are
 * not evaluated — such an assignment is taken as made, so a conditional `apparmor=0` is seen.
 */
function simpleCommands(text: string): string[] {
  const out: string[] = [];
  let current = "";
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote === null && c === "\\") {
      current += c + (text[i + 1] ?? "");
      i++;
      continue;
    }
    if (quote !== null) {
      if (c === "\\" && quote === '"') {
        current += c + (text[i + 1] ?? "");
        i++;
        continue;
      }
      if (c === quote) quote = null;
      current += c;
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    const two = text.slice(i, i + 2);
    if (c === ";" || two === "&&" || two === "||") {
      out.push(current);
      current = "";
      if (c !== ";") i++;
      continue;
    }
    current += c;
  }
  out.push(current);
  return out
    .map((cmd) => cmd.trim().replace(/^((if|then|else|elif|do|\{|!)\s+)+/, ""))
    .filter((cmd) => cmd !== "");
}

/** Apply the assignments of one file to `vars` (in place). */
export function sourceShellFile(text: string, path: string, vars: Record<string, Setting>): void {
  for (const cmd of commands(text).flatMap((c) =>
    simpleCommands(c.text).map((t) => ({ text: t, line: c.line })),
  )) {
    let rest = cmd.text;
    // `export A=… B=…` and plain `A=…` assignments; anything else is another command.
    if (/^export\s+/.test(rest)) rest = rest.replace(/^export\s+/, "");
    let i = 0;
    while (i < rest.length) {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(rest.slice(i));
      if (m === null) break;
      const [value, next] = shellWord(rest, i + m[0].length, vars);
      assign(vars, m[1] as string, value, path, cmd.line);
      i = next;
      while (i < rest.length && /[\s;]/.test(rest[i] as string)) i++;
    }
  }
}

export interface GrubDefaults {
  /** Every variable the files set, with its chain. */
  vars: Record<string, Setting>;
  /** The files read, in order. */
  files: string[];
}

/** /etc/default/grub, then /etc/default/grub.d/*.cfg, as grub-mkconfig sources them. */
export async function readGrubDefaults(source: FileSource): Promise<GrubDefaults | null> {
  const files = ["/etc/default/grub"];
  const names = ((await source.readDir("/etc/default/grub.d")) ?? []).filter((n) =>
    n.endsWith(".cfg"),
  );
  for (const name of names.sort(compareC)) files.push(joinPath("/etc/default/grub.d", name));
  const vars: Record<string, Setting> = {};
  const read: string[] = [];
  for (const file of files) {
    const text = await source.readText(file);
    if (text === null) continue;
    read.push(file);
    sourceShellFile(text, file, vars);
  }
  return read.length === 0 ? null : { vars, files: read };
}

/**
 * The kernel command line update-grub writes for the default entry:
 * GRUB_CMDLINE_LINUX then GRUB_CMDLINE_LINUX_DEFAULT, split into words, with the chain of both.
 */
export function grubCmdline(defaults: GrubDefaults): { value: string[]; chain: ChainLink[] } {
  const parts = ["GRUB_CMDLINE_LINUX", "GRUB_CMDLINE_LINUX_DEFAULT"].map((k) => defaults.vars[k]);
  const value = parts
    .map((p) => p?.value ?? "")
    .join(" ")
    .split(/\s+/)
    .filter((w) => w !== "");
  const chain = parts.flatMap((p) => p?.chain ?? []);
  return { value, chain };
}

/** The last `name=` parameter on a command line (the kernel keeps the last one), or undefined. */
export function lastParam(args: readonly string[], name: string): string | undefined {
  const found = args.filter((a) => a.startsWith(`${name}=`));
  const last = found[found.length - 1];
  return last === undefined ? undefined : last.slice(name.length + 1);
}

/** kstrtoul(str, 0): a number in C notation (0x… hex, 0… octal), an optional "+"; else null. */
function kernelUlong(v: string): number | null {
  const t = v.replace(/^\+/, "").replace(/\n$/, "");
  if (/^0x[0-9a-f]+$/i.test(t)) return parseInt(t.slice(2), 16);
  if (/^0[0-7]*$/.test(t)) return parseInt(t, 8);
  if (/^[1-9]\d*$/.test(t)) return Number(t);
  return null;
}

/** kstrtobool: y/Y/t/T/1 and "on" are true, n/N/f/F/0 and "off" false; else null. */
function kernelBool(v: string): boolean | null {
  if (/^[yYtT1]/.test(v)) return true;
  if (/^[nNfF0]/.test(v)) return false;
  if (/^[oO][nN]/.test(v)) return true;
  if (/^[oO][fF]/.test(v)) return false;
  return null;
}

/**
 * Whether a command line leaves AppArmor on, for a Debian kernel (CONFIG_LSM lists it,
 * apparmor.enabled defaults to 1). The kernel reads its parameters in order, and two of them
 * set AppArmor's boot flag (security/apparmor/lsm.c): `apparmor=` through kstrtoul, so only a
 * number counts (`apparmor=0x0` turns it off, `apparmor=off` is ignored and leaves it on), and
 * the module parameter `apparmor.enabled=` through kstrtobool (0, n, off …). Then `security=`
 * naming another major LSM, or an `lsm=` list without apparmor (lsm= overrides security=),
 * leaves it out. Returns the parameter that turns it off, or null.
 */
export function apparmorOffBy(args: readonly string[]): string | null {
  let off: string | null = null;
  for (const a of args) {
    if (a.startsWith("apparmor=")) {
      const n = kernelUlong(a.slice("apparmor=".length));
      if (n !== null) off = n === 0 ? a : null;
    } else if (a.startsWith("apparmor.enabled=")) {
      const b = kernelBool(a.slice("apparmor.enabled=".length));
      if (b !== null) off = b ? null : a;
    }
  }
  if (off !== null) return off;
  const lsm = lastParam(args, "lsm");
  if (lsm !== undefined) {
    if (!lsm.split(",").includes("apparmor")) return `lsm=${lsm}`;
    return null; // lsm= overrides security=
  }
  const security = lastParam(args, "security");
  if (security !== undefined && security !== "apparmor") return `security=${security}`;
  return null;
}
