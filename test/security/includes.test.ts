/**
 * Include loops and include bombs in the configurations koffer follows: sudoers
 * (@include/@includedir/#include), sshd_config (Include with globs), nftables (include) and
 * swanctl.conf (include). Before, a file including itself twice doubled the work per level up
 * to each parser's depth limit (2^16 reads for sshd and nft) and `koffer verify` never
 * finished. Now a loop is named ("include loop: a -> b -> a"), nesting is capped as the
 * program itself caps it, and at most 256 files are read per configuration.
 *
 * Exit codes: `koffer facts` exits 0 and records the problem; sudoers and sshd loops make
 * their area's controls `error` (verify exits 2), nftables and swanctl loops are parse
 * errors the NET/VPN controls fail on.
 */
import { afterAll, describe, expect, it } from "vitest";
import { rm } from "node:fs/promises";
import { parseSwanctlFile } from "../../src/facts/swanctl.js";
import { readNftables } from "../../src/facts/parsers/nftables.js";
import { IncludeBudget, memorySource } from "../../src/facts/parsers/common.js";
import { openTarget } from "../../src/targets/index.js";
import { koffer } from "../helpers/cli.js";
import { buildRoot } from "../helpers/root-tree.js";
import { treeSnapshot } from "./guard.js";

const roots: string[] = [];
afterAll(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

async function root(files: Record<string, string>): Promise<string> {
  const dir = await buildRoot({ files });
  roots.push(dir);
  return dir;
}

interface FactsOut {
  gatherErrors: { area: string; message: string }[];
  network: { nftables: { parseErrors: string[] } | null };
  vpn: { swanctl: { parseErrors: string[] } };
}

/** `koffer facts` on a root, which must finish, and the tree unchanged afterwards. */
async function factsOf(dir: string): Promise<FactsOut> {
  const before = await treeSnapshot(dir);
  const started = Date.now();
  const run = await koffer(["facts", "--root", dir], { timeoutMs: 60_000 });
  expect(Date.now() - started).toBeLessThan(30_000);
  expect(run.exitCode, run.stderr).toBe(0);
  expect(await treeSnapshot(dir)).toEqual(before);
  return JSON.parse(run.stdout) as FactsOut;
}

/** Files f0 … f{n-1} where each includes the next twice: no loop, 2^n reads without a budget. */
function bomb(n: number, name: (i: number) => string, line: (file: string) => string) {
  const files: Record<string, string> = {};
  for (let i = 0; i < n; i++) {
    files[name(i)] = i + 1 < n ? `${line(name(i + 1))}\n${line(name(i + 1))}\n` : "";
  }
  return files;
}

describe("include budgets", () => {
  it("security: a sudoers include loop through @includedir is named; accounts controls error", async () => {
    const dir = await root({
      "/etc/sudoers": "root ALL=(ALL:ALL) ALL\n@include /etc/sudoers\n@includedir /etc/sudoers.d\n",
      "/etc/sudoers.d/loop": "#include /etc/sudoers\n",
    });
    const facts = await factsOf(dir);
    expect(facts.gatherErrors).toContainEqual({
      area: "accounts",
      message: "/etc/sudoers:2: include loop: /etc/sudoers -> /etc/sudoers",
    });
  });

  it("security: sshd_config including itself through a glob is named; network controls error", async () => {
    const dir = await root({
      "/etc/ssh/sshd_config": "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin no\n",
      "/etc/ssh/sshd_config.d/a.conf":
        "Include /etc/ssh/sshd_config\nInclude /etc/ssh/sshd_config\n",
    });
    const facts = await factsOf(dir);
    expect(facts.gatherErrors).toContainEqual({
      area: "network",
      message:
        "/etc/ssh/sshd_config.d/a.conf:1: include loop: /etc/ssh/sshd_config -> /etc/ssh/sshd_config.d/a.conf -> /etc/ssh/sshd_config",
    });
  });

  it("security: an nftables include loop is a parse error of the ruleset", async () => {
    const dir = await root({
      "/etc/nftables.conf": 'include "/etc/nft.d/*.nft"\ntable inet filter {\n}\n',
      "/etc/nft.d/a.nft": 'include "/etc/nftables.conf"\ninclude "/etc/nft.d/a.nft"\n',
    });
    const facts = await factsOf(dir);
    expect(facts.network.nftables?.parseErrors).toEqual([
      "/etc/nft.d/a.nft:1: include loop: /etc/nftables.conf -> /etc/nft.d/a.nft -> /etc/nftables.conf",
      "/etc/nft.d/a.nft:2: include loop: /etc/nft.d/a.nft -> /etc/nft.d/a.nft",
    ]);
  });

  it("security: a swanctl.conf include loop is a parse error of the VPN configuration", async () => {
    const dir = await root({
      "/etc/swanctl/swanctl.conf": "include conf.d/*.conf\nconnections {\n}\n",
      "/etc/swanctl/conf.d/a.conf": "include ../swanctl.conf\ninclude ../swanctl.conf\n",
    });
    const facts = await factsOf(dir);
    expect(facts.vpn.swanctl.parseErrors).toContain(
      "/etc/swanctl/conf.d/a.conf:1: include loop: /etc/swanctl/swanctl.conf -> /etc/swanctl/conf.d/a.conf -> /etc/swanctl/swanctl.conf",
    );
  });

  it("security: an include bomb without a loop stops at 256 files (nftables, 2^15 reads before)", async () => {
    const dir = await root(
      bomb(
        16,
        (i) => `/etc/nft-${i}.nft`,
        (f) => `include "${f}"`,
      ),
    );
    const target = await openTarget({ root: dir });
    const started = Date.now();
    const nft = await readNftables(target, "/etc/nft-0.nft");
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(nft.parseErrors).toEqual([
      "/etc/nft-12.nft:2: more than 256 included files; the rest is not read",
    ]);
  });

  it("security: an include bomb in swanctl.conf stops at the depth strongSwan allows", async () => {
    const dir = await root(
      bomb(
        16,
        (i) => `/etc/swanctl/s${i}.conf`,
        (f) => `include ${f}`,
      ),
    );
    const target = await openTarget({ root: dir });
    const parse = await parseSwanctlFile("/etc/swanctl/s0.conf", target);
    expect(parse.errors[0]).toBe("/etc/swanctl/s10.conf:1: includes nested deeper than 10 levels");
    expect(parse.files.length).toBeLessThanOrEqual(256);
  });

  it("security: the file budget counts files across the whole include tree, reported once", async () => {
    const errors: string[] = [];
    const budget = new IncludeBudget(errors, 100, false, 3);
    const source = memorySource({});
    let reads = 0;
    const visit = (file: string, from: string | null): Promise<void> =>
      budget.visit(file, from, async () => {
        reads++;
        await source.readText(file);
        for (const next of ["/b", "/c", "/d", "/e"])
          if (next > file) await visit(next, `${file}:1`);
      });
    await visit("/a", null);
    expect(reads).toBe(3);
    expect(errors).toEqual(["/c:1: more than 3 included files; the rest is not read"]);
  });
});
