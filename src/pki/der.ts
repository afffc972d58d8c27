/**
 * A small, strict DER reader and writer.
 *
 * Why our own: path validation has to see the exact bytes (the signed TBS, the raw names,
 * every extension with its critical flag, duplicate extensions, fractional times), and it has
 * to reject what is not DER. node-forge's ASN.1 is lenient and its X.509 layer has no EC keys;
 * node:crypto's X509Certificate hides the structure. Signatures themselves are verified by
 * node:crypto (OpenSSL), never here.
 */

export interface DerNode {
  /** Tag class: 0 universal, 1 application, 2 context-specific, 3 private. */
  cls: number;
  constructed: boolean;
  /** Tag number. */
  tag: number;
  /** Content octets. */
  value: Uint8Array;
  /** The whole encoding (header and content). */
  raw: Uint8Array;
  /** Children when constructed. */
  children: DerNode[];
}

/** Thrown on anything that is not well-formed DER. */
export class DerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DerError";
  }
}

function readOne(buf: Uint8Array, start: number, depth: number): { node: DerNode; end: number } {
  if (depth > 64) throw new DerError("ASN.1 nesting too deep");
  let i = start;
  if (i >= buf.length) throw new DerError("truncated ASN.1 header");
  const first = buf[i++]!;
  const cls = first >> 6;
  const constructed = (first & 0x20) !== 0;
  let tag = first & 0x1f;
  if (tag === 0x1f) {
    tag = 0;
    let b: number;
    let n = 0;
    do {
      if (i >= buf.length) throw new DerError("truncated ASN.1 tag");
      b = buf[i++]!;
      if (n === 0 && b === 0x80) throw new DerError("non-minimal ASN.1 tag");
      tag = tag * 128 + (b & 0x7f);
      if (++n > 4) throw new DerError("ASN.1 tag too large");
    } while (b & 0x80);
    if (tag < 0x1f) throw new DerError("non-minimal ASN.1 tag");
  }
  if (i >= buf.length) throw new DerError("truncated ASN.1 length");
  let len = buf[i++]!;
  if (len === 0x80) throw new DerError("indefinite length is not DER");
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n > 4) throw new DerError("ASN.1 length too large");
    len = 0;
    for (let k = 0; k < n; k++) {
      if (i >= buf.length) throw new DerError("truncated ASN.1 length");
      const b = buf[i++]!;
      if (k === 0 && b === 0) throw new DerError("non-minimal ASN.1 length");
      len = len * 256 + b;
    }
    if (len < 0x80) throw new DerError("non-minimal ASN.1 length");
  }
  const end = i + len;
  if (end > buf.length) throw new DerError("ASN.1 value runs past its container");
  const value = buf.subarray(i, end);
  const children: DerNode[] = [];
  if (constructed) {
    let p = i;
    while (p < end) {
      const r = readOne(buf.subarray(0, end), p, depth + 1);
      children.push(r.node);
      p = r.end;
    }
  }
  return { node: { cls, constructed, tag, value, raw: buf.subarray(start, end), children }, end };
}

/** Parse exactly one DER element; trailing bytes are an error. */
export function parseDer(buf: Uint8Array): DerNode {
  const { node, end } = readOne(buf, 0, 0);
  if (end !== buf.length) throw new DerError("trailing data after ASN.1 element");
  return node;
}

/** Universal tag numbers used here. */
export const Tag = {
  BOOLEAN: 1,
  INTEGER: 2,
  BIT_STRING: 3,
  OCTET_STRING: 4,
  NULL: 5,
  OID: 6,
  ENUMERATED: 10,
  UTF8String: 12,
  SEQUENCE: 16,
  SET: 17,
  PrintableString: 19,
  T61String: 20,
  IA5String: 22,
  UTCTime: 23,
  GeneralizedTime: 24,
  UniversalString: 28,
  BMPString: 30,
} as const;

export function isUniversal(n: DerNode | undefined, tag: number): n is DerNode {
  return n !== undefined && n.cls === 0 && n.tag === tag;
}

export function isContext(n: DerNode | undefined, tag: number): n is DerNode {
  return n !== undefined && n.cls === 2 && n.tag === tag;
}

export function expect(n: DerNode | undefined, tag: number, what: string): DerNode {
  if (!isUniversal(n, tag)) throw new DerError(`expected ${what}`);
  return n;
}

export function decodeOid(n: DerNode): string {
  const v = n.value;
  if (v.length === 0) throw new DerError("empty OID");
  const parts: number[] = [];
  let acc = 0;
  let started = false;
  for (const b of v) {
    if (!started && b === 0x80) throw new DerError("non-minimal OID arc");
    started = true;
    acc = acc * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      parts.push(acc);
      acc = 0;
      started = false;
    }
  }
  if (started) throw new DerError("truncated OID");
  const first = parts.shift()!;
  const a = first < 40 ? 0 : first < 80 ? 1 : 2;
  return [a, first - a * 40, ...parts].join(".");
}

export function decodeBoolean(n: DerNode): boolean {
  if (n.value.length !== 1) throw new DerError("bad BOOLEAN");
  if (n.value[0] === 0xff) return true;
  if (n.value[0] === 0) return false;
  throw new DerError("BOOLEAN is not DER (must be 00 or FF)");
}

/** INTEGER as a bigint (two's complement). */
export function decodeInteger(n: DerNode): bigint {
  const v = n.value;
  if (v.length === 0) throw new DerError("empty INTEGER");
  if (v.length > 1 && ((v[0] === 0 && !(v[1]! & 0x80)) || (v[0] === 0xff && v[1]! & 0x80))) {
    throw new DerError("non-minimal INTEGER");
  }
  let x = 0n;
  for (const b of v) x = (x << 8n) | BigInt(b);
  if (v[0]! & 0x80) x -= 1n << BigInt(v.length * 8);
  return x;
}

export function decodeBitString(n: DerNode): { unused: number; bytes: Uint8Array } {
  const v = n.value;
  if (v.length === 0) throw new DerError("empty BIT STRING");
  const unused = v[0]!;
  if (unused > 7 || (v.length === 1 && unused !== 0)) throw new DerError("bad BIT STRING");
  return { unused, bytes: v.subarray(1) };
}

const decoder = new TextDecoder("utf-8", { fatal: true });
const latin1 = new TextDecoder("latin1");

/** A directory string of any of the usual types, as text. */
export function decodeString(n: DerNode): string {
  switch (n.tag) {
    case Tag.UTF8String:
      return decoder.decode(n.value);
    case Tag.BMPString: {
      let s = "";
      for (let i = 0; i + 1 < n.value.length; i += 2)
        s += String.fromCharCode((n.value[i]! << 8) | n.value[i + 1]!);
      return s;
    }
    case Tag.UniversalString: {
      let s = "";
      for (let i = 0; i + 3 < n.value.length; i += 4) {
        const cp =
          ((n.value[i]! << 24) |
            (n.value[i + 1]! << 16) |
            (n.value[i + 2]! << 8) |
            n.value[i + 3]!) >>>
          0;
        s += String.fromCodePoint(cp);
      }
      return s;
    }
    default:
      return latin1.decode(n.value);
  }
}

/** UTCTime / GeneralizedTime in the strict RFC 5280 forms (Z, seconds, no fractions). */
export function decodeTime(n: DerNode): Date {
  const s = latin1.decode(n.value);
  let m: RegExpExecArray | null;
  let year: number;
  if (n.tag === Tag.UTCTime) {
    m = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s);
    if (!m) throw new DerError(`UTCTime not in YYMMDDHHMMSSZ form: ${s}`);
    const yy = Number(m[1]);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
  } else if (n.tag === Tag.GeneralizedTime) {
    m = /^(\d\d\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s);
    if (!m) throw new DerError(`GeneralizedTime not in YYYYMMDDHHMMSSZ form: ${s}`);
    year = Number(m[1]);
  } else {
    throw new DerError("expected a time");
  }
  const [mo, d, h, mi, se] = [m[2], m[3], m[4], m[5], m[6]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const t = Date.UTC(year, mo - 1, d, h, mi, se);
  const back = new Date(t);
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || se > 59) {
    throw new DerError(`invalid date: ${s}`);
  }
  // Date.UTC maps years 0–99 to 1900–1999; set the year explicitly.
  back.setUTCFullYear(year);
  return back;
}

// ─── writer ──────────────────────────────────────────────────────────────────

function encodeLength(len: number): Uint8Array {
  if (len < 0x80) return Uint8Array.of(len);
  const bytes: number[] = [];
  let l = len;
  while (l > 0) {
    bytes.unshift(l & 0xff);
    l = Math.floor(l / 256);
  }
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const total = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** An element from an identifier octet (tag < 31) and content. */
export function tlv(identifier: number, ...content: Uint8Array[]): Uint8Array {
  const body = concat(content);
  return concat([Uint8Array.of(identifier), encodeLength(body.length), body]);
}

export const der = {
  seq: (...c: Uint8Array[]) => tlv(0x30, ...c),
  set: (...c: Uint8Array[]) => {
    // DER: SET OF elements sorted by their encodings.
    const sorted = [...c].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    return tlv(0x31, ...sorted);
  },
  null: () => Uint8Array.of(0x05, 0x00),
  bool: (v: boolean) => Uint8Array.of(0x01, 0x01, v ? 0xff : 0x00),
  int: (v: bigint | number): Uint8Array => {
    let x = BigInt(v);
    const bytes: number[] = [];
    if (x === 0n) bytes.push(0);
    const neg = x < 0n;
    while (x !== 0n && x !== -1n) {
      bytes.unshift(Number(x & 0xffn));
      x >>= 8n;
    }
    if (!neg && bytes[0]! & 0x80) bytes.unshift(0);
    if (neg && (bytes.length === 0 || !(bytes[0]! & 0x80))) bytes.unshift(0xff);
    return tlv(0x02, Uint8Array.from(bytes));
  },
  /** Unsigned big-endian magnitude as a positive INTEGER. */
  uint: (magnitude: Uint8Array): Uint8Array => {
    let i = 0;
    while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
    const m = magnitude.subarray(i);
    return tlv(0x02, m[0]! & 0x80 ? concat([Uint8Array.of(0), m]) : m);
  },
  oid: (dotted: string): Uint8Array => {
    const arcs = dotted.split(".").map((a) => BigInt(a));
    const out: number[] = [];
    const push = (v: bigint) => {
      const tmp = [Number(v & 0x7fn)];
      v >>= 7n;
      while (v > 0n) {
        tmp.unshift(Number(v & 0x7fn) | 0x80);
        v >>= 7n;
      }
      out.push(...tmp);
    };
    push(arcs[0]! * 40n + arcs[1]!);
    for (const a of arcs.slice(2)) push(a);
    return tlv(0x06, Uint8Array.from(out));
  },
  octets: (v: Uint8Array) => tlv(0x04, v),
  bits: (v: Uint8Array, unused = 0) => tlv(0x03, Uint8Array.of(unused), v),
  utf8: (s: string) => tlv(0x0c, new TextEncoder().encode(s)),
  printable: (s: string) => tlv(0x13, new TextEncoder().encode(s)),
  ia5: (s: string) => tlv(0x16, new TextEncoder().encode(s)),
  time: (d: Date): Uint8Array => {
    // RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
    const iso = d.toISOString();
    const digits = iso.slice(0, 19).replace(/[-:T]/g, "");
    const y = d.getUTCFullYear();
    return y < 2050 && y >= 1950
      ? tlv(0x17, new TextEncoder().encode(digits.slice(2) + "Z"))
      : tlv(0x18, new TextEncoder().encode(digits + "Z"));
  },
  /** Context-specific constructed [n]. */
  ctx: (n: number, ...c: Uint8Array[]) => tlv(0xa0 | n, ...c),
  /** Context-specific primitive [n] IMPLICIT. */
  ctxPrim: (n: number, v: Uint8Array) => tlv(0x80 | n, v),
  raw: (...c: Uint8Array[]) => concat(c),
};

/** Strip PEM armour of one block (the first with this label). */
export function pemToDer(pem: string, label?: string): Uint8Array {
  const re = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
  for (const m of pem.matchAll(re)) {
    if (label === undefined || m[1] === label) {
      return new Uint8Array(Buffer.from(m[2]!.replace(/[^A-Za-z0-9+/=]/g, ""), "base64"));
    }
  }
  throw new DerError(`no PEM block${label ? ` labelled ${label}` : ""}`);
}

export function derToPem(bytes: Uint8Array, label: string): string {
  const b64 = Buffer.from(bytes).toString("base64");
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}
