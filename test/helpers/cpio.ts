/**
 * Build cpio "newc" archives byte by byte for the lister's tests: well-formed ones, and the
 * hostile ones a real `cpio` refuses to write (names with `..`, sizes that lie).
 */

export interface CpioFile {
  name: string;
  /** Default: a regular file 0644 (symlink: 0o120777, directory: 0o040755). */
  mode?: number;
  data?: Buffer | string;
  /** Override the size field (a header that lies about its data). */
  sizeField?: number;
  /** Override the namesize field. */
  nameSizeField?: number;
}

const hex = (n: number) => n.toString(16).padStart(8, "0");
const pad4 = (n: number) => (4 - (n % 4)) % 4;

/** One archive with TRAILER!!!, optionally padded to `align` bytes (the kernel pads to 512). */
export function newc(files: CpioFile[], align = 4): Buffer {
  const parts: Buffer[] = [];
  let length = 0;
  const push = (b: Buffer) => {
    parts.push(b);
    length += b.length;
  };
  let ino = 1;
  for (const file of [...files, { name: "TRAILER!!!", mode: 0 } as CpioFile]) {
    const data = Buffer.from(file.data ?? "");
    const name = Buffer.from(`${file.name}\0`);
    const fields = [
      ino++,
      file.mode ?? 0o100644,
      0,
      0,
      1,
      0,
      file.sizeField ?? data.length,
      0,
      0,
      0,
      0,
      file.nameSizeField ?? name.length,
      0,
    ];
    push(Buffer.from(`070701${fields.map(hex).join("")}`, "latin1"));
    push(name);
    push(Buffer.alloc(pad4(length)));
    push(data);
    push(Buffer.alloc(pad4(length)));
  }
  const tail = (align - (length % align)) % align;
  push(Buffer.alloc(tail));
  return Buffer.concat(parts);
}
