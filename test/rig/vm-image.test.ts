/**
 * The laptop VM's image recipe by release (test/vm/image.ts): Debian 12 keeps the cache name
 * it had before releases (CI's cached VM base), Debian 13 gets its own, and the Debian 13
 * profile is the Debian 12 one with only the platform changed. No build, no VM.
 */
import { createHash } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { debianMirror, debianRootPath } from "../../src/demo/debian-root.js";
import { loadProfileOrThrow } from "../../src/profiles/loader.js";
import { aptLayerScript } from "./laptop-root.js";
import { vmBasePackages, vmBasePath, vmProfilePath, vmRelease } from "../vm/image.js";

const saved = process.env.KOFFER_VM_RELEASE;
afterEach(() => {
  if (saved === undefined) delete process.env.KOFFER_VM_RELEASE;
  else process.env.KOFFER_VM_RELEASE = saved;
});

describe("laptop VM image: the release", () => {
  it("Debian 12's base root keeps the path of the recipe as it was before releases", () => {
    // The recipe exactly as image.ts wrote it when only Debian 12 existed.
    const script = aptLayerScript(
      vmBasePackages,
      `echo koffer-vm > /etc/hostname
printf '127.0.0.1\\tlocalhost\\n127.0.1.1\\tkoffer-vm\\n::1\\tlocalhost ip6-localhost ip6-loopback\\n' > /etc/hosts
: > /etc/machine-id
`,
    );
    const before = createHash("sha256")
      .update(
        JSON.stringify({
          base: debianRootPath(),
          packages: [...vmBasePackages].sort(),
          mirror: debianMirror(),
          script,
        }),
      )
      .digest("hex")
      .slice(0, 12);
    expect(vmBasePath("debian-12")).toMatch(new RegExp(`/vm-12-${before}$`));
  });

  it("Debian 13 has a base root of its own, on the trixie root", () => {
    const path = vmBasePath("debian-13");
    expect(basename(path)).toMatch(/^vm-13-[0-9a-f]{12}$/);
    expect(basename(path).slice(6)).not.toBe(basename(vmBasePath("debian-12")).slice(6));
    expect(debianRootPath({ release: "debian-13" })).toMatch(/\/debian-13-[0-9a-f]{12}$/);
  });

  it("KOFFER_VM_RELEASE selects the release, Debian 12 without it, and refuses an unknown one", () => {
    delete process.env.KOFFER_VM_RELEASE;
    expect(vmRelease()).toBe("debian-12");
    process.env.KOFFER_VM_RELEASE = "debian-13";
    expect(vmRelease()).toBe("debian-13");
    process.env.KOFFER_VM_RELEASE = "debian-14";
    expect(() => vmRelease()).toThrow(/KOFFER_VM_RELEASE=debian-14: expected one of debian-12/);
  });

  it("the Debian 13 profile differs from Debian 12's in the platform only", async () => {
    const twelve = await loadProfileOrThrow(join(dirname(vmProfilePath), "vm-laptop.yaml"));
    const thirteen = await loadProfileOrThrow(join(vmProfilePath, "..", "vm-laptop-13.yaml"));
    expect(twelve.spec.platform).toBe("debian-12");
    expect(thirteen.spec.platform).toBe("debian-13");
    expect({ ...thirteen.spec, platform: "debian-12" }).toEqual(twelve.spec);
  });
});
