import { describe, expect, it } from "vitest";
import type { Facts } from "../../../src/facts/types.js";
import { managedPath } from "../../../src/facts/managed.js";
import { releases } from "../../../src/platform/releases.js";
import {
  crypttabWithTpm2,
  dracutTpm2Conf,
  planInitrd,
} from "../../../src/provision/resources/initrd.js";
import { planProvision } from "../../../src/provision/plan.js";
import { sha256 } from "../../../src/provision/resources/common.js";
import { hardenedFacts, hardenedInitrd, stockInitrd } from "../../helpers/facts.js";
import { makeProfile } from "../../helpers/profile.js";

const now = new Date("2026-12-01T12:00:00Z");
const stock = stockInitrd({ crypttab: { path: "/cryptroot/crypttab", entries: [] } });

/** Hardened facts with the given crypttab text and initrds, managed files known byte for byte. */
function laptop(crypttab: string, initrds = [hardenedInitrd()], packages?: string[]): Facts {
  const facts = hardenedFacts({ boot: { initrds } });
  return {
    ...facts,
    apps: {
      ...facts.apps,
      packages:
        packages === undefined
          ? facts.apps.packages
          : facts.apps.packages.filter((p) => !packages.includes(p.name)),
    },
    managedFiles: {
      ...facts.managedFiles,
      [managedPath.crypttab]: {
        sha256: sha256(crypttab),
        mode: 0o644,
        uid: 0,
        gid: 0,
        text: crypttab,
      },
      [managedPath.dracutTpm2]: {
        sha256: sha256(dracutTpm2Conf()),
        mode: 0o644,
        uid: 0,
        gid: 0,
      },
    },
  };
}

const plan = (facts: Facts, platform: "debian-12" | "debian-13" = "debian-12") =>
  planInitrd({
    profile: makeProfile({ spec: { platform } }),
    facts,
    now,
    willHave: (p) => facts.apps.packages.some((x) => x.name === p && x.status === "ii"),
  });

describe("crypttab: tpm2-device=auto on LUKS lines", () => {
  it("adds the option, keeps the others, comments, swap/tmp and key-file lines as they are", () => {
    const text = [
      "# <target name> <source device> <key file> <options>",
      "cryptroot UUID=1111 none luks,discard",
      "crypthome\tUUID=2222\tnone\tluks",
      "cryptswap /dev/sda3 /dev/urandom swap,cipher=aes-xts-plain64",
      "data UUID=3333 /etc/keys/data.key luks",
      "bare UUID=4444",
      "done UUID=5555 none luks,tpm2-device=auto",
      "",
    ].join("\n");
    expect(crypttabWithTpm2(text)).toBe(
      [
        "# <target name> <source device> <key file> <options>",
        "cryptroot UUID=1111 none luks,discard,tpm2-device=auto",
        "crypthome UUID=2222 none luks,tpm2-device=auto",
        "cryptswap /dev/sda3 /dev/urandom swap,cipher=aes-xts-plain64",
        "data UUID=3333 /etc/keys/data.key luks",
        "bare UUID=4444 none tpm2-device=auto",
        "done UUID=5555 none luks,tpm2-device=auto",
        "",
      ].join("\n"),
    );
    expect(crypttabWithTpm2(crypttabWithTpm2(text))).toBe(crypttabWithTpm2(text));
  });
});

describe("initrd resource (DISK-04)", () => {
  const line = "cryptroot UUID=1111 none luks,discard\n";

  it("the stock initrd: crypttab, the dracut drop-in and initrd-tpm2 with the release's packages", () => {
    const facts = laptop(line, [stock], [...releases["debian-13"].initrd.packages]);
    for (const platform of ["debian-12", "debian-13"] as const) {
      const changes = plan(
        { ...facts, managedFiles: { ...facts.managedFiles, [managedPath.dracutTpm2]: null } },
        platform,
      );
      expect(changes.map((c) => c.kind)).toEqual(["write-file", "write-file", "initrd-tpm2"]);
      expect(changes[0]).toMatchObject({
        path: "/etc/crypttab",
        content: "cryptroot UUID=1111 none luks,discard,tpm2-device=auto\n",
      });
      expect(changes[1]).toMatchObject({
        path: "/etc/dracut.conf.d/50-koffer-tpm2.conf",
        content: dracutTpm2Conf(),
      });
      expect(changes[2]).toMatchObject({
        summary: "initrd: dracut with systemd-cryptsetup + tpm2-tss",
        packages: releases[platform].initrd.packages,
        kernels: ["6.1.0-28-amd64"],
        controls: ["DISK-04"],
      });
    }
    expect(releases["debian-13"].initrd.packages).toContain("systemd-cryptsetup");
  });

  it("plans nothing on a laptop whose initrd already uses the token", () => {
    expect(plan(laptop("cryptroot UUID=1111 none luks,discard,tpm2-device=auto\n"))).toEqual([]);
  });

  it("a stale dracut initrd (crypttab changed since) is regenerated, nothing else", () => {
    const facts = laptop("cryptroot UUID=1111 none luks,discard,tpm2-device=auto\n", [
      hardenedInitrd({
        crypttab: { path: "/etc/crypttab", entries: [{ name: "cryptroot", options: ["luks"] }] },
      }),
    ]);
    expect(plan(facts).map((c) => c.kind)).toEqual(["initrd-tpm2"]);
  });

  it("a missing package alone is installed through initrd-tpm2", () => {
    const facts = laptop("cryptroot UUID=1111 none luks,discard,tpm2-device=auto\n", undefined, [
      "libtss2-tcti-device0",
    ]);
    expect(plan(facts).map((c) => c.kind)).toEqual(["initrd-tpm2"]);
  });

  it("nothing for a passphrase profile, a tree without kernels, or no encrypted volume", () => {
    const facts = laptop(line, [stock]);
    expect(
      planInitrd({
        profile: makeProfile({ spec: { disk: { unlock: "passphrase" } } }),
        facts,
        now,
        willHave: () => true,
      }),
    ).toEqual([]);
    expect(plan(laptop(line, []))).toEqual([]);
    expect(plan({ ...facts, disk: { ...facts.disk, crypttab: [] } })).toEqual([]);
  });

  it("in the whole plan, initrd-tpm2 comes after the crypttab it copies in and before the enrolment", () => {
    const facts = laptop(line, [stock]);
    const kinds = planProvision(makeProfile(), facts, { now, tpm2Device: "swtpm:" })
      .filter((c) => c.resource === "initrd" || c.kind === "tpm2-enrol")
      .map((c) => c.kind);
    expect(kinds.indexOf("initrd-tpm2")).toBeGreaterThan(kinds.indexOf("write-file"));
  });
});
