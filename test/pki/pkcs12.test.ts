import { generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { der, parseDer } from "../../src/pki/der.js";
import { createPkcs12, readPkcs12 } from "../../src/pki/pkcs12.js";

const caPem = readFileSync(
  new URL("../../examples/certs/test-vpn-ca.pem", import.meta.url),
  "utf8",
);

describe("PKCS#12", () => {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-384" });
  const pfx = createPkcs12(privateKey, [caPem], "geheim", "test");

  it("reads back what it wrote, and refuses a wrong passphrase", () => {
    expect(readPkcs12(pfx, "geheim").certificates[0]?.trim()).toBe(caPem.trim());
    expect(() => readPkcs12(pfx, "falsch")).toThrow(/wrong passphrase/);
  });

  it("refuses an absurd iteration count from the file before spending time on it", () => {
    // Same file, the MAC's iteration count replaced by 2^31 - 1.
    const [version, authSafe, macData] = parseDer(pfx).children;
    const [digestInfo, salt] = macData!.children;
    const crafted = der.seq(
      version!.raw,
      authSafe!.raw,
      der.seq(digestInfo!.raw, salt!.raw, der.int(2 ** 31 - 1)),
    );
    const started = performance.now();
    expect(() => readPkcs12(crafted, "geheim")).toThrow(
      /Expected an iteration count from 1 to 10000000, found 2147483647/,
    );
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});
