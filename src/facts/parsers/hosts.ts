/**
 * /etc/hosts (hosts(5)): one address per line, then its canonical name and aliases; `#` starts
 * a comment anywhere on a line. Lines whose first field is no IP address are ignored, as the
 * resolver ignores them.
 */
import { isIP } from "node:net";

export interface HostsEntry {
  address: string;
  names: string[];
  /** "FILE:LINE". */
  source: string;
}

export function parseHosts(text: string, path: string): HostsEntry[] {
  const out: HostsEntry[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const fields = (raw.split("#")[0] ?? "").trim().split(/\s+/);
    const [address, ...names] = fields;
    if (address === undefined || isIP(address) === 0 || names.length === 0) return;
    out.push({ address, names, source: `${path}:${index + 1}` });
  });
  return out;
}

/** The addresses `name` resolves to from these entries (case-insensitive, every match). */
export function hostsAddresses(entries: readonly HostsEntry[], name: string): string[] {
  const wanted = name.toLowerCase().replace(/\.$/, "");
  const out: string[] = [];
  for (const e of entries)
    if (
      e.names.some((n) => n.toLowerCase().replace(/\.$/, "") === wanted) &&
      !out.includes(e.address)
    )
      out.push(e.address);
  return out;
}
