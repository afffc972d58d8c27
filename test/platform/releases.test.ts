import { describe, expect, it } from "vitest";
import { detectRelease, findRelease, platformIds, releases } from "../../src/platform/releases.js";
import { profileSchema } from "../../src/profiles/schema.js";

const os = (id: string, version: string, codename: string) => ({
  ID: id,
  VERSION_ID: version,
  VERSION_CODENAME: codename,
  PRETTY_NAME: `Debian GNU/Linux ${version} (${codename})`,
});

describe("Debian releases as data", () => {
  it("the profile schema accepts exactly the known platforms", () => {
    const spec = (
      profileSchema() as { $defs: { spec: { properties: { platform: { enum: string[] } } } } }
    ).$defs.spec;
    expect(spec.properties.platform.enum).toEqual(platformIds);
  });

  it("recognises Debian 12 and 13 from os-release and debian_version", () => {
    expect(detectRelease(os("debian", "12", "bookworm"), "12.12\n").platform).toBe("debian-12");
    expect(detectRelease(os("debian", "13", "trixie"), "13.2").platform).toBe("debian-13");
    expect(detectRelease(os("debian", "13", "trixie"), null).debianVersion).toBeNull();
  });

  it("refuses what only looks like a stable release", () => {
    // testing: debian_version says trixie/sid although os-release may name the codename
    expect(detectRelease(os("debian", "13", "trixie"), "trixie/sid").platform).toBeNull();
    expect(detectRelease(os("debian", "13", "bookworm"), "13.1").platform).toBeNull();
    expect(detectRelease(os("ubuntu", "24.04", "noble"), null).platform).toBeNull();
    expect(detectRelease({}, null)).toMatchObject({ platform: null, id: null });
  });

  it("finds a release by codename or platform id", () => {
    expect(findRelease("trixie")?.platform).toBe("debian-13");
    expect(findRelease("debian-12")?.codename).toBe("bookworm");
    expect(findRelease("sid")).toBeUndefined();
  });

  it("keeps what differs between the releases in one record each", () => {
    expect(releases["debian-13"].packages.systemdCryptsetup).toBe("systemd-cryptsetup");
    expect(releases["debian-12"].packages.systemdCryptsetup).toBe("systemd");
    expect(releases["debian-13"].files.coredumpLimits).toContain(
      "/etc/security/limits.d/10-coredump-debian.conf",
    );
    expect(releases["debian-12"].additionalKeyExchanges).toBe(false);
    expect(releases["debian-13"].additionalKeyExchanges).toBe(true);
  });
});
