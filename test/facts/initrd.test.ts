/**
 * The initrd lister (src/facts/parsers/cpio.ts, src/facts/initrd.ts): against real initrds
 * that Debian's own initramfs-tools built in the cached kernel roots (test/rig/kernel-root.ts),
 * checked against the host's `cpio -t`, and against hostile input — truncated archives, sizes
 * that lie, `..` in names, compression bombs — which must end in an InitrdFormatError with
 * its reason, never a crash, a hang or an unbounded allocation.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { debianRootPath } from "../../src/demo/debian-root.js";
import {
  compareKernelVersions,
  gatherInitrds,
  initrdCapabilities,
  InitrdFormatError,
  listInitrd,
} from "../../src/facts/initrd.js";
import { CpioLister, normaliseCpioName } from "../../src/facts/parsers/cpio.js";
import { openTarget } from "../../src/targets/index.js";
import { newc } from "../helpers/cpio.js";
import { buildRoot } from "../helpers/root-tree.js";
import { kernelRoot, kernelRootSkipReason } from "../rig/kernel-root.js";

async function compress(tool: "zstd" | "xz", data: Buffer): Promise<Buffer> {
  const { stdout } = await execa(tool, ["-c", "-q"], {
    input: data,
    encoding: "buffer",
    stripFinalNewline: false,
  });
  return Buffer.from(stdout);
}

async function formatError(promise: Promise<unknown>): Promise<InitrdFormatError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InitrdFormatError);
  return error as InitrdFormatError;
}

const early = newc(
  [
    { name: "kernel", mode: 0o040755 },
    { name: "kernel/x86/microcode/GenuineIntel.bin", data: "microcode" },
  ],
  512,
);
const main = newc([
  { name: ".", mode: 0o040755 },
  { name: "usr/lib/systemd/systemd-cryptsetup", data: "ELF", mode: 0o100755 },
  { name: "usr/lib/x86_64-linux-gnu/cryptsetup/libcryptsetup-token-systemd-tpm2.so", data: "x" },
  { name: "usr/lib/x86_64-linux-gnu/libtss2-esys.so.0.0.0", data: "x" },
  { name: "usr/lib/x86_64-linux-gnu/libtss2-tcti-device.so.0", data: "x" },
  { name: "lib", mode: 0o120777, data: "usr/lib" },
  { name: "usr/lib/dracut/modules.txt", data: "systemd\ncrypt\ntpm2-tss\n" },
  { name: "etc/crypttab", data: "root UUID=1234 none luks,discard,tpm2-device=auto\n" },
]);

describe("initrd lister: well-formed archives", () => {
  it.each(["zstd", "xz", "gzip"] as const)(
    "lists an early uncompressed cpio followed by a %s main archive",
    async (kind) => {
      const body = kind === "gzip" ? gzipSync(main) : await compress(kind, main);
      const listing = await listInitrd(Buffer.concat([early, body]));
      expect(listing.parts).toEqual(["none", kind]);
      expect(listing.entries.map((e) => e.name)).toEqual([
        "kernel",
        "kernel/x86/microcode/GenuineIntel.bin",
        ".",
        "usr/lib/systemd/systemd-cryptsetup",
        "usr/lib/x86_64-linux-gnu/cryptsetup/libcryptsetup-token-systemd-tpm2.so",
        "usr/lib/x86_64-linux-gnu/libtss2-esys.so.0.0.0",
        "usr/lib/x86_64-linux-gnu/libtss2-tcti-device.so.0",
        "lib",
        "usr/lib/dracut/modules.txt",
        "etc/crypttab",
      ]);
      expect(listing.entries.find((e) => e.name === "lib")?.data?.toString()).toBe("usr/lib");
    },
  );

  it("lists an uncompressed initrd, and archives split across many small chunks", async () => {
    const all = Buffer.concat([early, main]);
    expect((await listInitrd(all)).entries).toHaveLength(10);
    const lister = new CpioLister();
    for (let i = 0; i < all.length; i += 3) lister.push(all.subarray(i, i + 3));
    expect(lister.finish().map((e) => e.name)).toContain("etc/crypttab");
    expect(lister.archives).toBe(2);
  });

  it("reads capabilities, generator and crypttab of a dracut-shaped initrd on a root target", async () => {
    const body = await compress("zstd", main);
    const root = await buildRoot({
      files: { "/boot/initrd.img-6.1.0-28-cloud-amd64": { content: Buffer.concat([early, body]) } },
    });
    const facts = await initrdCapabilities(
      await openTarget({ root }),
      "/boot/initrd.img-6.1.0-28-cloud-amd64",
    );
    expect(facts).toMatchObject({
      kver: "6.1.0-28-cloud-amd64",
      generator: "dracut",
      parts: ["none", "zstd"],
      entries: 10,
      capabilities: {
        systemdCryptsetup: "usr/lib/systemd/systemd-cryptsetup",
        tpm2TokenPlugin: "usr/lib/x86_64-linux-gnu/cryptsetup/libcryptsetup-token-systemd-tpm2.so",
        tss2Esys: "usr/lib/x86_64-linux-gnu/libtss2-esys.so.0.0.0",
        tss2TctiDevice: "usr/lib/x86_64-linux-gnu/libtss2-tcti-device.so.0",
      },
      crypttab: {
        path: "/etc/crypttab",
        entries: [{ name: "root", options: ["luks", "discard", "tpm2-device=auto"] }],
      },
    });
    expect(facts.error).toBeUndefined();
  });

  it("marks the default kernel: Debian's /initrd.img link, else the newest version", async () => {
    const image = { content: Buffer.concat([early, main]) };
    const files = {
      "/boot/initrd.img-6.1.0-28-amd64": image,
      "/boot/initrd.img-6.1.0-9-amd64": image,
    };
    const newest = await gatherInitrds(await openTarget({ root: await buildRoot({ files }) }));
    expect(newest.map((i) => [i.kver, i.default])).toEqual([
      ["6.1.0-9-amd64", false],
      ["6.1.0-28-amd64", true],
    ]);
    const linked = await buildRoot({
      files,
      symlinks: { "/initrd.img": "boot/initrd.img-6.1.0-9-amd64" },
    });
    const byLink = await gatherInitrds(await openTarget({ root: linked }));
    expect(byLink.find((i) => i.default)?.kver).toBe("6.1.0-9-amd64");
    expect(compareKernelVersions("6.12.9-amd64", "6.1.0-28-amd64")).toBeGreaterThan(0);
  });
});

describe("initrd lister: hostile input ends in a reasoned error", () => {
  it("a truncated archive (cut anywhere inside) is 'truncated', never a crash", async () => {
    const all = Buffer.concat([early, main]);
    // Every cut that does not fall on an archive boundary (or in the padding after one).
    const boundaries = new Set([early.length, all.length]);
    for (let cut = 1; cut < all.length; cut += 7) {
      if (boundaries.has(cut)) continue;
      const error = await listInitrd(all.subarray(0, cut)).then(
        () => null,
        (e: unknown) => e,
      );
      if (error === null) {
        // Cutting inside the zero padding after the early archive still leaves it complete.
        expect(cut).toBeGreaterThan(early.length - 512);
        expect(cut).toBeLessThanOrEqual(early.length);
        continue;
      }
      expect(error).toBeInstanceOf(InitrdFormatError);
      expect(["truncated", "malformed"]).toContain((error as InitrdFormatError).problem);
    }
    const zst = await compress("zstd", main);
    const cut = Buffer.concat([early, zst.subarray(0, zst.length - 40)]);
    expect(["truncated", "tool"]).toContain((await formatError(listInitrd(cut))).problem);
  });

  it("a size field that lies (4 GiB of data announced) is 'truncated', not an allocation", async () => {
    const lying = newc([{ name: "etc/crypttab", data: "x", sizeField: 0xffffffff }]);
    const error = await formatError(listInitrd(lying));
    expect(error.problem).toBe("truncated");
    expect(error.message).toMatch(/etc\/crypttab/);
  });

  it("an absurd name size is 'malformed'", async () => {
    const error = await formatError(listInitrd(newc([{ name: "a", nameSizeField: 0xfffffff0 }])));
    expect(error.problem).toBe("malformed");
    expect(error.message).toMatch(/name of 4294967280 bytes/);
  });

  it("non-hex header fields, foreign magic and garbage are refused with the offset", async () => {
    const bad = Buffer.from(newc([{ name: "x" }]));
    bad.write("zzzzzzzz", 6, "latin1");
    expect((await formatError(listInitrd(bad))).message).toMatch(/not hexadecimal/);
    const odc = Buffer.from(newc([{ name: "x" }]));
    odc.write("070707", 0, "latin1");
    expect((await formatError(listInitrd(odc))).problem).toBe("unsupported");
    const garbage = Buffer.concat([early, Buffer.from("this is no archive at all")]);
    const error = await formatError(listInitrd(garbage));
    expect(error.problem).toBe("malformed");
    expect(error.message).toMatch(new RegExp(`offset ${early.length}`));
    expect((await formatError(listInitrd(Buffer.alloc(0)))).problem).toBe("truncated");
  });

  it("path traversal names land where the kernel would put them: below /, never above", async () => {
    expect(normaliseCpioName("../../../etc/crypttab")).toBe("etc/crypttab");
    expect(normaliseCpioName("/./usr//lib/../lib/x")).toBe("usr/lib/x");
    expect(normaliseCpioName("..")).toBe(".");
    const listing = await listInitrd(
      newc([
        { name: "../../etc/crypttab", data: "root UUID=1 none luks\n" },
        { name: "/usr/lib/../../../../usr/lib/systemd/systemd-cryptsetup", data: "x" },
      ]),
    );
    expect(listing.entries.map((e) => e.name)).toEqual([
      "etc/crypttab",
      "usr/lib/systemd/systemd-cryptsetup",
    ]);
  });

  it.each(["zstd", "xz", "gzip"] as const)(
    "a %s compression bomb stops at the decompression budget",
    async (kind) => {
      // 32 MiB of zeros after a valid header compress to a few KiB.
      const bomb = Buffer.concat([
        // The header and name of one entry announcing 32 MiB, then the 32 MiB.
        newc([{ name: "big", sizeField: 32 * 1024 * 1024 }]).subarray(0, 116),
        Buffer.alloc(32 * 1024 * 1024),
      ]);
      const body = kind === "gzip" ? gzipSync(bomb) : await compress(kind, bomb);
      expect(body.length).toBeLessThan(1024 * 1024);
      const started = Date.now();
      const error = await formatError(
        listInitrd(Buffer.concat([early, body]), { maxDecompressedBytes: 8 * 1024 * 1024 }),
      );
      expect(error.problem).toBe("budget");
      expect(error.message).toMatch(/more than 8388608 bytes/);
      expect(Date.now() - started).toBeLessThan(30_000);
    },
  );

  it("too many entries is a budget error", async () => {
    const many = newc(Array.from({ length: 50 }, (_, i) => ({ name: `f${i}` })));
    expect((await formatError(listInitrd(many, { maxEntries: 10 }))).problem).toBe("budget");
  });

  it("on a target, a hostile initrd becomes the initrd's error, not an exception", async () => {
    const root = await buildRoot({
      files: { "/boot/initrd.img-6.1.0-1-amd64": { content: Buffer.from("garbage") } },
    });
    const [facts] = await gatherInitrds(await openTarget({ root }));
    expect(facts?.error).toMatch(/neither a cpio archive nor a known compression at offset 0/);
    expect(facts?.default).toBe(true);
    expect(facts?.capabilities.tpm2TokenPlugin).toBeNull();
  });
});

const kernelSkip = kernelRootSkipReason();
const releases = (["debian-12", "debian-13"] as const).filter((r) =>
  existsSync(debianRootPath({ release: r })),
);

describe.skipIf(kernelSkip !== null)("initrd lister: real initramfs-tools initrds", () => {
  it.each(releases)(
    "%s: lists the cloud kernel's initrd exactly as `cpio -t` does, and finds no token support",
    async (release) => {
      const root = await kernelRoot(release);
      const initrds = await gatherInitrds(await openTarget({ root }));
      expect(initrds.length).toBeGreaterThan(0);
      const initrd = initrds.find((i) => i.default);
      expect(initrd?.error).toBeUndefined();
      expect(initrd?.generator).toBe("initramfs-tools+cryptsetup");
      expect(initrd?.capabilities).toEqual({
        systemdCryptsetup: null,
        tpm2TokenPlugin: null,
        tss2Esys: null,
        tss2TctiDevice: null,
      });
      // A second opinion: decompress with the host tools and list with cpio.
      const data = await readFile(join(root, initrd!.path));
      const listing = await listInitrd(data);
      const expected = await hostListing(data, listing.parts);
      expect(listing.entries.map((e) => e.name)).toEqual(expected);
      expect(listing.entries.map((e) => e.name)).toContain("scripts/local-top/cryptroot");
    },
    40 * 60_000,
  );
});

/** `cpio -t` over each part of an initrd, names normalised the same way. */
export async function hostListing(data: Buffer, parts: string[]): Promise<string[]> {
  const names: string[] = [];
  let rest = data;
  for (const part of parts) {
    if (part === "none") {
      // cpio -t stops after TRAILER!!!; its block count tells where the archive ended.
      const r = await execa("cpio", ["-t", "-H", "newc", "--quiet"], {
        input: rest,
        encoding: "buffer",
      });
      names.push(...lines(Buffer.from(r.stdout)));
      const lister = new CpioLister();
      const at = lister.push(rest, true);
      rest = at === -1 ? Buffer.alloc(0) : rest.subarray(at);
    } else {
      const tool = part === "gzip" ? "gzip" : part;
      const plain = await execa(tool, ["-dc"], {
        input: rest,
        encoding: "buffer",
        reject: false,
        maxBuffer: 1 << 30,
      });
      const r = await execa("cpio", ["-t", "-H", "newc", "--quiet"], {
        input: Buffer.from(plain.stdout),
        encoding: "buffer",
        maxBuffer: 1 << 30,
      });
      names.push(...lines(Buffer.from(r.stdout)));
    }
  }
  return names;
}

function lines(out: Buffer): string[] {
  return out
    .toString("utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map(normaliseCpioName);
}
