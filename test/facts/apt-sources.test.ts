/**
 * APT sources as apt reads them (issue 11, APP-03): which files of the parts directory apt
 * takes, deb822 `Enabled: no`, a parts directory moved with Dir::Etc::sourceparts. The truth
 * is the real apt-get of this machine: `apt-get update --print-uris` on the same tree prints
 * the repositories it would fetch, without fetching; koffer's sources must be exactly those.
 */
import { execa } from "execa";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { gatherApps } from "../../src/facts/apps.js";
import { aptSourcePart, parseDeb822Sources } from "../../src/facts/parsers/apt-sources.js";
import {
  insecureSource,
  signDeb822Sources,
  signSourcesList,
} from "../../src/provision/resources/apt-sources.js";
import { RootTarget } from "../../src/targets/root.js";

const keyring = "/usr/share/keyrings/debian-archive-keyring.gpg";
const stanza = (uri: string, extra = "") =>
  `Types: deb\nURIs: ${uri}\nSuites: stable\nComponents: main\n${extra}`;

/** A tree with sources apt reads and sources it skips, each on a repository of its own. */
const tree: Record<string, string> = {
  "/etc/apt/sources.list": `deb [signed-by=${keyring}] http://deb.debian.org/debian bookworm main\n`,
  "/etc/apt/sources.list.d/vendor.list":
    "deb [trusted=yes] http://vendor.example/apt stable main\n",
  "/etc/apt/sources.list.d/insecure.list":
    "deb [signed-by=/k.gpg allow-insecure=yes] https://insecure.example/apt stable main\n",
  "/etc/apt/sources.list.d/x.sources": [
    stanza("https://off.example/apt", "Enabled: no\n"),
    stanza("https://on.example/apt", "Trusted: yes\n"),
    "# a comment between stanzas\n" + stanza("https://weak.example/apt", "Allow-Weak: yes\n"),
  ].join("\n"),
  "/etc/apt/sources.list.d/old.list.save": "deb http://saved.example/apt stable main\n",
  "/etc/apt/sources.list.d/off.list.disabled": "deb http://disabled.example/apt stable main\n",
  "/etc/apt/sources.list.d/a.list.dpkg-old": "deb http://dpkg-old.example/apt stable main\n",
  "/etc/apt/sources.list.d/.hidden.list": "deb http://hidden.example/apt stable main\n",
  "/etc/apt/sources.list.d/bad name.list": "deb http://bad-name.example/apt stable main\n",
  "/etc/apt/sources.list.d/notes.txt": "deb http://txt.example/apt stable main\n",
};

const roots: string[] = [];
afterAll(async () => {
  for (const r of roots) await rm(r, { recursive: true, force: true });
});

async function makeRoot(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "kof-aptsrc-"));
  roots.push(root);
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  }
  for (const d of ["var/lib/apt/lists/partial", "var/cache/apt/archives/partial", "var/lib/dpkg"])
    await mkdir(join(root, d), { recursive: true });
  await writeFile(join(root, "var/lib/dpkg/status"), "");
  return root;
}

/** The repositories the real apt-get would fetch for a tree, from `update --print-uris`. */
async function aptRepositories(root: string): Promise<string[]> {
  // apt reads its own apt.conf.d before -o; the tree's configuration files come with -c.
  const confDir = join(root, "etc/apt/apt.conf.d");
  const confs = (await readdir(confDir).catch(() => [] as string[])).sort();
  const r = await execa(
    "apt-get",
    [
      ...confs.flatMap((c) => ["-c", join(confDir, c)]),
      "-o",
      `Dir=${root}`,
      "-o",
      `Dir::State::status=${join(root, "var/lib/dpkg/status")}`,
      "-o",
      "Debug::NoLocking=1",
      "update",
      "--print-uris",
    ],
    { env: { LC_ALL: "C" }, reject: false },
  );
  expect(r.exitCode, r.stderr).toBe(0);
  const repos = [...r.stdout.matchAll(/^'(\S+?)\/dists\/[^']*InRelease'/gm)].map((m) => m[1]);
  return [...new Set(repos as string[])].sort();
}

async function ourRepositories(root: string) {
  const target = await RootTarget.open({ root, disks: [] });
  try {
    const apps = await gatherApps(target, { profile: null, now: new Date() });
    return {
      apps,
      repos: [...new Set(apps.aptSources.flatMap((s) => s.uris))]
        .map((u) => u.replace(/\/$/, ""))
        .sort(),
    };
  } finally {
    await target.close();
  }
}

const hasApt = (await execa("apt-get", ["--version"], { reject: false })).exitCode === 0;

describe.skipIf(!hasApt)("apt sources: koffer reads what apt-get reads", () => {
  it("parts apt skips (.save, .disabled, .dpkg-old, dot-files, bad names, other extensions) and Enabled: no are no sources", async () => {
    const root = await makeRoot(tree);
    const { apps, repos } = await ourRepositories(root);
    expect(repos).toEqual(await aptRepositories(root));
    expect(repos).toEqual([
      "http://deb.debian.org/debian",
      "http://vendor.example/apt",
      "https://insecure.example/apt",
      "https://on.example/apt",
      "https://weak.example/apt",
    ]);
    expect(apps.aptSourcesIgnored).toEqual([
      "/etc/apt/sources.list.d/.hidden.list",
      "/etc/apt/sources.list.d/a.list.dpkg-old",
      "/etc/apt/sources.list.d/bad name.list",
      "/etc/apt/sources.list.d/notes.txt",
      "/etc/apt/sources.list.d/off.list.disabled",
      "/etc/apt/sources.list.d/old.list.save",
    ]);
    const by = (uri: string) => apps.aptSources.find((s) => s.uris.includes(uri));
    expect(by("http://vendor.example/apt")?.trusted).toBe(true);
    expect(by("https://on.example/apt")).toMatchObject({
      trusted: true,
      source: "/etc/apt/sources.list.d/x.sources:7",
    });
    expect(by("https://insecure.example/apt")?.weakened).toEqual(["allow-insecure"]);
    expect(by("https://weak.example/apt")).toMatchObject({
      weakened: ["allow-weak"],
      source: "/etc/apt/sources.list.d/x.sources:14",
    });
  });

  it("the files as provision rewrites them: apt reads the Debian and signed sources, not the switched-off ones, and none unsigned", async () => {
    const rewritten = Object.fromEntries(
      Object.entries(tree).map(([path, text]) => [
        path,
        aptSourcePart(path.split("/").pop() as string) === "deb822"
          ? signDeb822Sources(text)
          : path.startsWith("/etc/apt/sources.list")
            ? signSourcesList(text)
            : text,
      ]),
    );
    const root = await makeRoot(rewritten);
    const { apps, repos } = await ourRepositories(root);
    expect(repos).toEqual(await aptRepositories(root));
    // vendor.example, on.example and weak.example have no key: switched off; insecure.example
    // has one and loses allow-insecure=yes.
    expect(repos).toEqual(["http://deb.debian.org/debian", "https://insecure.example/apt"]);
    expect(apps.aptSources.filter(insecureSource)).toEqual([]);
  });

  it("a parts directory moved with Dir::Etc::sourceparts: the old one is not read, the new one is", async () => {
    const root = await makeRoot({
      "/etc/apt/sources.list": `deb [signed-by=${keyring}] http://deb.debian.org/debian bookworm main\n`,
      "/etc/apt/apt.conf.d/50parts": 'Dir::Etc::sourceparts "sources.d";\n',
      "/etc/apt/sources.list.d/stale.list":
        "deb [trusted=yes] http://stale.example/apt stable main\n",
      "/etc/apt/sources.d/moved.list": "deb [trusted=yes] http://moved.example/apt stable main\n",
    });
    const { apps, repos } = await ourRepositories(root);
    expect(repos).toEqual(await aptRepositories(root));
    expect(repos).toEqual(["http://deb.debian.org/debian", "http://moved.example/apt"]);
    expect(apps.aptSourceFiles?.map((f) => f.path)).toEqual([
      "/etc/apt/sources.list",
      "/etc/apt/sources.d/moved.list",
    ]);
  });
});

describe("apt sources parser", () => {
  it("takes the names apt takes", () => {
    expect(
      ["a.list", "b.sources", "c:d_e-f.list", "x.list.save", ".h.list", "a b.list", "y.conf"].map(
        aptSourcePart,
      ),
    ).toEqual(["one-line", "deb822", "one-line", null, null, null, null]);
  });
  it("reads apt's booleans in deb822 (Enabled: off is disabled, Trusted: on is trusted)", () => {
    const s = parseDeb822Sources(
      [stanza("http://a/", "Enabled: off\n"), stanza("http://b/", "Trusted: on\n")].join("\n"),
      "/x.sources",
    );
    expect(s.map((x) => [x.uris[0], x.trusted])).toEqual([["http://b/", true]]);
  });
});
