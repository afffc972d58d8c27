/**
 * The one shape of an effective value (ARCHITECTURE.md: facts are the effective state):
 * a {@link Setting} whose `chain` records every place that assigned it, in the order the
 * consuming program reads them, and the places it did not read. Readers of every area
 * (sysctl, grub, usbguard-daemon.conf …) build their settings with these helpers so the
 * evidence reads the same everywhere: "0 from /etc/sysctl.d/10-x.conf:1, overriding
 * /etc/sysctl.conf:3 (not read: /etc/sysctl.d/99-sysctl.conf missing)".
 */
import type { ChainLink, Setting } from "./types.js";

/** Record an assignment of `key`: the new value wins, earlier ones stay in its chain. */
export function assign(
  record: Record<string, Setting>,
  key: string,
  value: string,
  file: string,
  line: number,
  notes: readonly ChainLink[] = [],
): void {
  const before = record[key];
  const chain: ChainLink[] = [
    ...(before?.chain ?? notes),
    { file, line, value, note: before === undefined ? "set" : "overrides the line before" },
  ];
  record[key] = { value, source: `${file}:${line}`, chain };
}

/** A place the consuming program does not read, and why (kept in every chain built after). */
export function notRead(file: string, reason: string): ChainLink {
  return { file, note: `not read: ${reason}` };
}

/** Add places not read to every setting of a record (so each chain tells the whole story). */
export function withNotes(record: Record<string, Setting>, notes: readonly ChainLink[]): void {
  if (notes.length === 0) return;
  for (const s of Object.values(record)) {
    const chain = s.chain ?? [];
    const missing = notes.filter((n) => !chain.some((c) => c.file === n.file && c.note === n.note));
    s.chain = [...chain, ...missing];
  }
}

function place(link: ChainLink): string {
  return link.line === undefined ? link.file : `${link.file}:${link.line}`;
}

/**
 * One line of evidence for an effective value: the value and where it comes from, what it
 * overrides, and the places not read. Without a chain, the plain source.
 */
export function explain(s: Setting | undefined, fallback = "(not set)"): string {
  if (s === undefined) return fallback;
  const chain = s.chain ?? [];
  const set = chain.filter((c) => c.value !== undefined);
  const winner = set[set.length - 1];
  const overridden = set.slice(0, -1).reverse();
  const skipped = chain.filter((c) => c.value === undefined);
  let text = `${s.value} from ${winner === undefined ? s.source : place(winner)}`;
  if (overridden.length > 0)
    text += `, overriding ${overridden.map((c) => `${c.value ?? ""} (${place(c)})`).join(", ")}`;
  if (skipped.length > 0) text += ` (${skipped.map((c) => `${c.file} ${c.note}`).join("; ")})`;
  return text;
}

/** The same for a value that no place sets: the default, and the places not read. */
export function explainUnset(notes: readonly ChainLink[], what = "not set"): string {
  return notes.length === 0
    ? what
    : `${what} (${notes.map((c) => `${c.file} ${c.note}`).join("; ")})`;
}
