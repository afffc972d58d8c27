/**
 * USBGuard works on bytes: a rules file is read line by line as bytes, a string value may hold
 * any byte (`\xHH`), and the printer escapes every byte outside printable ASCII. koffer keeps rule
 * values as JavaScript strings, so this module maps between the two without loss:
 * valid UTF-8 decodes to its characters and every byte that is not part of valid UTF-8 decodes
 * to a lone surrogate U+DC80..U+DCFF ("surrogateescape", as Python does), which encodes back
 * to the same byte.
 */

/** Decode bytes (a Uint8Array, or a "binary" string of char codes 0..255) without loss. */
export function decodeRuleBytes(bytes: Uint8Array | string): string {
  if (typeof bytes === "string") {
    let ascii = true;
    for (let i = 0; i < bytes.length; i++) {
      if (bytes.charCodeAt(i) >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) return bytes;
  }
  const at =
    typeof bytes === "string" ? (i: number) => bytes.charCodeAt(i) : (i: number) => bytes[i]!;
  const length = bytes.length;
  let out = "";
  let asciiStart = 0;
  let i = 0;
  while (i < length) {
    const b = at(i);
    if (b < 0x80) {
      i++;
      continue;
    }
    if (asciiStart < i) out += sliceAscii(bytes, asciiStart, i);
    const width = utf8SequenceLength(at, i, length);
    if (width === 0) {
      out += String.fromCharCode(0xdc00 + b);
      i++;
    } else {
      let cp = b & (width === 2 ? 0x1f : width === 3 ? 0x0f : 0x07);
      for (let k = 1; k < width; k++) cp = (cp << 6) | (at(i + k) & 0x3f);
      out += String.fromCodePoint(cp);
      i += width;
    }
    asciiStart = i;
  }
  if (asciiStart < length) out += sliceAscii(bytes, asciiStart, length);
  return out;
}

function sliceAscii(bytes: Uint8Array | string, start: number, end: number): string {
  if (typeof bytes === "string") return bytes.slice(start, end);
  // Not String.fromCharCode(...bytes): spreading a large run overflows the call stack.
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString("latin1");
}

/** Length of the valid UTF-8 sequence starting at `i`, or 0 when the byte there starts none. */
function utf8SequenceLength(at: (i: number) => number, i: number, length: number): number {
  const b = at(i);
  let width: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (b >= 0xc2 && b <= 0xdf) width = 2;
  else if (b >= 0xe0 && b <= 0xef) {
    width = 3;
    if (b === 0xe0) lo = 0xa0;
    if (b === 0xed) hi = 0x9f; // no encoded surrogates
  } else if (b >= 0xf0 && b <= 0xf4) {
    width = 4;
    if (b === 0xf0) lo = 0x90;
    if (b === 0xf4) hi = 0x8f;
  } else return 0;
  if (i + width > length) return 0;
  const second = at(i + 1);
  if (second < lo || second > hi) return 0;
  for (let k = 2; k < width; k++) {
    const c = at(i + k);
    if (c < 0x80 || c > 0xbf) return 0;
  }
  return width;
}

/**
 * Encode a string to a "binary" string (one char per byte, codes 0..255): UTF-8, except that a
 * lone surrogate U+DC80..U+DCFF stands for the raw byte it was decoded from.
 */
export function encodeRuleText(text: string): string {
  // Fast path: pure ASCII is its own encoding.
  let ascii = true;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return text;
  // Into a buffer, not `out += ch`: a 9 MB rules file as a rope of concatenations spent
  // most of its time in the garbage collector.
  const out = Buffer.allocUnsafe(text.length * 3);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) out[n++] = c;
    else if (c >= 0xdc80 && c <= 0xdcff) out[n++] = c - 0xdc00;
    else {
      const cp = text.codePointAt(i)!;
      if (cp > 0xffff) i++;
      n += out.write(String.fromCodePoint(cp), n, "utf8");
    }
  }
  return out.toString("latin1", 0, n);
}
