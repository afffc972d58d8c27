/**
 * Every mutation of generate.ts, judged offline: a copy of the hardened laptop's root with
 * one flaw, gathered and evaluated through verify's library API. Each affected control must
 * get the verdict the running system implies, and no control may end in `error` — neither the
 * expected ones nor any other judged from the areas gathered for them.
 */
import { execa } from "execa";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadProfileOrThrow } from "../../src/index.js";
import type { Profile } from "../../src/profiles/types.js";
import { buildHardenedLaptop, type Laptop } from "../helpers/laptop.js";
import { generateMutations, type Mutation } from "./generate.js";
import { judge, judgeWithMessages } from "./judge.js";

const mutations = generateMutations();
let laptop: Laptop;
let profile: Profile;
let scratch: string;

beforeAll(async () => {
  laptop = await buildHardenedLaptop();
  profile = await loadProfileOrThrow(laptop.profilePath);
  scratch = await mkdtemp(join(tmpdir(), "koffer-mutations-"));
}, 120_000);
afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

async function judgeMutation(
  m: Mutation,
  index: number,
): Promise<{
  agree: boolean;
  got: Record<string, string>;
  wrongReason: string[];
  errors: string[];
}> {
  const root = join(scratch, `m${index}`);
  await execa("cp", ["-a", laptop.root, root]);
  try {
    await m.apply(root);
    const detailed = await judgeWithMessages(root, Object.keys(m.expect), profile, {
      siblings: true,
    });
    // Every control judged from the facts gathered, not only the expected ones: none errors.
    const errors = Object.entries(detailed)
      .filter(([, r]) => r.status === "error")
      .map(([id, r]) => `${id}: ${r.message}`);
    const got = Object.fromEntries(
      Object.keys(m.expect).map((id) => [id, detailed[id]?.status ?? "(not judged)"]),
    );
    const agree = Object.entries(m.expect).every(([id, v]) => got[id] === v);
    const wrongReason = Object.entries(m.reason ?? {})
      .filter(([id, re]) => !re.test(detailed[id]?.message ?? ""))
      .map(([id, re]) => `${id} message ${JSON.stringify(detailed[id]?.message)} !~ ${re}`);
    return { agree, got, wrongReason, errors };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** Map with at most `limit` calls in flight, keeping the order. */
async function pool<T, R>(
  items: T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

describe("mutations judged offline (issue 11)", () => {
  it("has at least 150 mutations, unique ids, several per control", () => {
    expect(mutations.length).toBeGreaterThanOrEqual(150);
    expect(new Set(mutations.map((m) => m.id)).size).toBe(mutations.length);
    for (const m of mutations) expect(m.liveProbe.length).toBeGreaterThan(0);
  });

  it("the unmutated laptop passes every control the mutations touch", async () => {
    const ids = [...new Set(mutations.flatMap((m) => Object.keys(m.expect)))];
    const got = await judge(laptop.root, ids, profile);
    expect(Object.entries(got).filter(([, s]) => s !== "pass")).toEqual([]);
  }, 60_000);

  it("every offline verdict is the expected one, and none is error", async () => {
    const disagree: string[] = [];
    let agreeing = 0;
    const only = process.env.KOFFER_MUTATIONS;
    const chosen = mutations.filter((m) => only === undefined || new RegExp(only).test(m.id));
    // Copies and gathers wait on the disk and on systemctl: a few at a time keeps both busy.
    const results = await pool(chosen, 6, (m, i) => judgeMutation(m, i));
    chosen.forEach((m, i) => {
      const { agree, got, wrongReason, errors } = results[i]!;
      if (errors.length > 0) disagree.push(`${m.id}: error in ${errors.join("; ")}`);
      else if (agree && wrongReason.length > 0)
        disagree.push(`${m.id}: right verdict, wrong reason: ${wrongReason.join("; ")}`);
      else if (agree) agreeing++;
      else
        disagree.push(`${m.id}: expected ${JSON.stringify(m.expect)}, got ${JSON.stringify(got)}`);
    });
    console.log(`${agreeing}/${chosen.length} offline verdicts agree with the expected verdicts`);
    for (const d of disagree) console.log(`disagrees: ${d}`);
    expect(disagree).toEqual([]);
  }, 600_000);
});
