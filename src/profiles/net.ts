/** Host names, addresses, networks and identities as a profile may name them. */
import { isIP } from "node:net";

const label = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** RFC 1123 host name (letters, digits, inner hyphens; labels ≤ 63; total ≤ 253). */
export function isHostname(value: string): boolean {
  const name = value.endsWith(".") ? value.slice(0, -1) : value;
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split(".");
  // An all-numeric last label would be read as an IPv4 address.
  if (/^[0-9]+$/.test(labels.at(-1)!)) return false;
  return labels.every((l) => label.test(l));
}

/** A host name or an IP address. */
export function isHost(value: string): boolean {
  return isIP(value) !== 0 || isHostname(value);
}

/** Why a CIDR is not one, or undefined when it is a network address with a valid prefix. */
export function cidrProblem(value: string): string | undefined {
  const slash = value.indexOf("/");
  if (slash === -1) return "no /prefix";
  const address = value.slice(0, slash);
  const prefixText = value.slice(slash + 1);
  const version = isIP(address);
  if (version === 0) return "no IP address before the /";
  const max = version === 4 ? 32 : 128;
  if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText) || Number(prefixText) > max) {
    return `a prefix outside 0–${max}`;
  }
  const bits = addressBits(address, version);
  const prefix = Number(prefixText);
  if (bits !== undefined && prefix < max && (bits & ((1n << BigInt(max - prefix)) - 1n)) !== 0n) {
    return "host bits set after the prefix";
  }
  return undefined;
}

function addressBits(address: string, version: number): bigint | undefined {
  if (version === 4)
    return address.split(".").reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
  let text = address;
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hextets.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = addressBits(v4[1]!, 4)!;
    text =
      text.slice(0, -v4[1]!.length) + `${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.split("::") as [string, string | undefined];
  const h = head === "" ? [] : head.split(":");
  const t = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups =
    tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t];
  if (groups.length !== 8) return undefined;
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

const rdn = /^([A-Za-z][A-Za-z0-9-]*|[0-9]+(\.[0-9]+)+)\s*=\s*\S.*$/;

/** A distinguished name such as `CN=vpn.example, O=Stadt, C=DE` (commas may be escaped). */
export function isDistinguishedName(value: string): boolean {
  const parts = value.split(/(?<!\\),/).map((p) => p.trim());
  return parts.length > 0 && parts.every((p) => rdn.test(p));
}

/** A strongSwan identity for the gateway: a DN, an FQDN (optionally `@fqdn`) or an address. */
export function isGatewayId(value: string): boolean {
  if (value.includes("=")) return isDistinguishedName(value);
  const name = value.startsWith("@") ? value.slice(1) : value;
  return isIP(name) !== 0 || (isHostname(name) && name.includes("."));
}

/** A log collector: host, host:port, or an http(s) URL (systemd-journal-upload). */
export function isLogTarget(value: string): boolean {
  if (/^https?:\/\//.test(value)) {
    try {
      return isHost(new URL(value).hostname.replace(/^\[|\]$/g, ""));
    } catch {
      return false;
    }
  }
  const m = /^(.+?)(?::([0-9]{1,5}))?$/.exec(value);
  return m !== null && isHost(m[1]!) && (m[2] === undefined || Number(m[2]) <= 65535);
}
