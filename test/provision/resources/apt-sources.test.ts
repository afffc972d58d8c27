import { describe, expect, it } from "vitest";
import { parseDeb822Sources, parseOneLineSources } from "../../../src/facts/parsers/apt-sources.js";
import {
  debianArchiveKeyring,
  planAptSources,
  signDeb822Sources,
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

  it("drops trusted=yes, keeps other options, comments and signed foreign sources; switches unsigned foreign ones off", () => {
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
    expect(lines).toContain(
      "# koffer (APP-03): switched off, apt cannot check its signature (no signed-by): deb http://repo.other.example/apt stable main",
    );
    expect(parseOneLineSources(lines.join("\n"), "/x").map((x) => x.uris[0])).toEqual([
      "https://security.debian.org/debian-security",
      "https://repo.vendor.example/apt",
    ]);
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

  it("plans the parts too: a .list and a .sources file in sources.list.d, and apt.conf's global switch; nothing once done", () => {
    const profile = makeProfile();
    const list = "deb [trusted=yes] http://vendor.example/apt stable main\n";
    const deb822 = [
      "Types: deb",
      "URIs: https://deb.debian.org/debian",
      "Suites: bookworm",
      "Components: main",
      "",
      "Types: deb",
      "URIs: https://signed.example/apt",
      "Suites: stable",
      "Components: main",
      "Signed-By: /etc/apt/keyrings/signed.gpg",
      "Allow-Insecure: yes",
      "",
      "Types: deb",
      "URIs: https://foreign.example/apt",
      "Suites: stable",
      "Components: main",
      "Enabled: yes",
      "",
    ].join("\n");
    const withParts = (l: string, d: string, global: boolean): Facts => {
      const facts = hardenedFacts();
      const files = [
        { path: "/etc/apt/sources.list.d/vendor.list", format: "one-line" as const, text: l },
        { path: "/etc/apt/sources.list.d/x.sources", format: "deb822" as const, text: d },
      ].map((f) => ({ ...f, mode: 0o644, uid: 0, gid: 0 }));
      return {
        ...facts,
        apps: {
          ...facts.apps,
          aptSources: [
            ...parseOneLineSources(l, files[0]!.path),
            ...parseDeb822Sources(d, files[1]!.path),
          ],
          aptSourceFiles: files,
          aptAuthentication: global
            ? {
                "Acquire::AllowInsecureRepositories": {
                  value: "true",
                  source: "/etc/apt/apt.conf.d/99insecure:2",
                },
              }
            : {},
        },
      };
    };
    const changes = planAptSources({
      profile,
      facts: withParts(list, deb822, true),
      now,
      willHave: () => true,
    });
    expect(changes.map((c) => [c.kind, "path" in c ? c.path : ""])).toEqual([
      ["write-file", "/etc/apt/sources.list.d/vendor.list"],
      ["write-file", "/etc/apt/sources.list.d/x.sources"],
      ["disable-lines", "/etc/apt/apt.conf.d/99insecure"],
    ]);
    expect(changes[2]).toMatchObject({
      lines: [{ line: 2, key: "AllowInsecureRepositories" }],
      comment: "//",
    });
    const l2 = (changes[0] as { content: string }).content;
    const d2 = (changes[1] as { content: string }).content;
    expect(l2).toMatch(/^# koffer \(APP-03\): switched off.*vendor\.example/m);
    const after = parseDeb822Sources(d2, "/x.sources");
    expect(after.map((x) => [x.uris[0], x.signedBy, x.weakened ?? []])).toEqual([
      ["https://deb.debian.org/debian", debianArchiveKeyring, []],
      ["https://signed.example/apt", "/etc/apt/keyrings/signed.gpg", []],
    ]);
    expect(d2).toMatch(/^# koffer \(APP-03\): no unsigned packages: Allow-Insecure: yes$/m);
    expect(d2).not.toMatch(/^Enabled: yes$/m);
    // Idempotent: the rewritten files plan nothing, and rewriting them again changes nothing.
    expect(signSourcesList(l2)).toBe(l2);
    expect(signDeb822Sources(d2)).toBe(d2);
    expect(
      planAptSources({ profile, facts: withParts(l2, d2, false), now, willHave: () => true }),
    ).toEqual([]);
  });
});
