import { describe, expect, it } from "vitest";
import { packageFor, requiredPluginPackages } from "../../src/profiles/strongswan-plugins.js";

describe("requiredPluginPackages", () => {
  it("hands apt only Debian package names: no ML-KEM plugin package exists (trixie profile)", () => {
    // Before: "strongswan ≥ 6.0 built with the ml plugin …" went to apt-get install, which
    // failed with exit 100 and stopped the whole provision run of the Debian 13 profile.
    const packages = requiredPluginPackages(
      {
        ike: ["aes256gcm16-prfsha384-ecp384-ke1_mlkem768", "aes256gcm16-prfsha384-ecp384"],
        esp: ["aes256gcm16-ecp384-ke1_mlkem768", "aes256gcm16-ecp384"],
      },
      "ecdsa-p384",
    );
    expect(packages).toEqual(["libstrongswan-standard-plugins"]);
    for (const p of packages) expect(p).toMatch(/^[a-z0-9][a-z0-9+.-]+$/);
  });

  it("a message still names what Debian lacks for ML-KEM", () => {
    expect(packageFor({ what: "ke1_mlkem768", anyOf: ["ml"] })).toMatch(/ml plugin/);
    expect(packageFor({ what: "aes128ccm16", anyOf: ["ccm", "openssl"] })).toBe(
      "libstrongswan-extra-plugins",
    );
  });
});
