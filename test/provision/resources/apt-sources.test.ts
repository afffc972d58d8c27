import { describe, expect, it } from "vitest";
import { parseOneLineSources } from "../../../src/facts/parsers/apt-sources.js";
import {
  debianArchiveKeyring,
  planAptSources,
  signSourcesList,
} from "../../../src/provision/resources/apt-sources.js";
import { planProvision } from "../../../src/provision/plan.js";
import type { Facts } from "../../../src/facts/types.js";
import { hardenedFacts } from "../../helpers/facts.js";
import { makeProfile } from "../../helpers/profile.js";

const debootstrapped = "deb http://deb.debian.org/debian bookworm main\n";
const now = new Date("2026-11-20T12:00:00Z");

function factsWith(text: string): Facts {
  const facts = hardenedFacts();
  return {
    ...facts,
    apps: { ...facts.apps, aptSources: parseOneLineSources(text, "/etc/apt/sources.list") },
    managedFiles: {
      ...facts.managedFiles,
      "/etc/apt/sources.list": { sha256: "x", mode: 0o644, uid: 0, gid: 0, text },
    },
  };
}

describe("apt-sources resource (APP-03)", () => {
  it("pins Debian archives to the archive keyring, so the parser then sees Signed-By", () => {
    const signed = signSourcesList(debootstrapped);
    expect(signed).toBe(
      "# koffer: signed-by the Debian archive keyring, no trusted=yes (APP-03)\n" +
        `deb [signed-by=${debianArchiveKeyring}] http://deb.debian.org/debian bookworm main\n`,
    );
    const [source] = parseOneLineSources(signed, "/etc/apt/sources.list");
    expect(source).toMatchObject({ signedBy: debianArchiveKeyring, trusted: false });
  });

  it("drops trusted=yes, keeps other options, comments and foreign sources untouched", () => {
    const text = [
      "# the town's mirror",
      "deb [arch=amd64 trusted=yes] https://security.debian.org/debian-security bookworm-security main",
      "deb [signed-by=/etc/apt/keyrings/vendor.gpg] https://repo.vendor.example/apt stable main",
      "deb http://repo.other.example/apt stable main",
      "",
    ].join("\n");
    const lines = signSourcesList(text).split("\n");
    expect(lines).toContain(
      `deb [arch=amd64 signed-by=${debianArchiveKeyring}] https://security.debian.org/debian-security bookworm-security main`,
    );
    expect(lines).toContain(
      "deb [signed-by=/etc/apt/keyrings/vendor.gpg] https://repo.vendor.example/apt stable main",
    );
    expect(lines).toContain("deb http://repo.other.example/apt stable main");
    expect(lines[0]).toBe("# the town's mirror");
  });

  it("plans one rewrite for an unsigned debootstrap sources.list, and nothing once it is signed", () => {
    const profile = makeProfile();
    const changes = planAptSources({
      profile,
      facts: factsWith(debootstrapped),
      now,
      willHave: () => true,
    });
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({
      kind: "write-file",
      path: "/etc/apt/sources.list",
      controls: ["APP-03"],
    });
    const after = factsWith(signSourcesList(debootstrapped));
    expect(planAptSources({ profile, facts: after, now, willHave: () => true })).toEqual([]);
    expect(
      planProvision(profile, after, { now }).filter((c) => c.resource === "apt-sources"),
    ).toEqual([]);
  });
});
