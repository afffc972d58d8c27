/** Verify's library API on one root, for the mutation tests (offline and live). */
import { controlById, controls as allControls, type Control } from "../../src/checks/index.js";
import { evaluate, gatherFacts, openTarget } from "../../src/index.js";
import type { FactArea } from "../../src/facts/types.js";
import type { Profile } from "../../src/profiles/types.js";

/** Judge a root: the statuses of `ids` (only the areas they read are gathered). */
export async function judge(
  root: string,
  ids: string[],
  p: Profile,
): Promise<Record<string, string>> {
  const detailed = await judgeWithMessages(root, ids, p);
  return Object.fromEntries(Object.entries(detailed).map(([id, r]) => [id, r.status]));
}

/**
 * Like {@link judge}, with each control's message (the reason of its verdict). With
 * `siblings`, every other control that reads only the areas gathered is judged too (at no
 * extra gathering cost), so an `error` a flaw causes next to the control it targets shows.
 */
export async function judgeWithMessages(
  root: string,
  ids: string[],
  p: Profile,
  options: { siblings?: boolean } = {},
): Promise<Record<string, { status: string; message: string }>> {
  const chosen = ids.map((id) => controlById(id)).filter((c): c is Control => c !== undefined);
  const areas = [...new Set(chosen.flatMap((c) => c.meta.facts))] as FactArea[];
  const controls = options.siblings
    ? allControls.filter((c) => c.meta.facts.every((a) => areas.includes(a as FactArea)))
    : chosen;
  const target = await openTarget({ root, disks: [] });
  try {
    const now = new Date();
    const facts = await gatherFacts(target, { profile: p, now }, { areas });
    const result = evaluate(p, facts, { now, controls });
    return Object.fromEntries(
      result.controls.map((c) => [c.id, { status: c.status, message: c.message }]),
    );
  } finally {
    await target.close();
  }
}
