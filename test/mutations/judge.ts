/** Verify's library API on one root, for the mutation tests (offline and live). */
import { controlById, type Control } from "../../src/checks/index.js";
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

/** Like {@link judge}, with each control's message (the reason of its verdict). */
export async function judgeWithMessages(
  root: string,
  ids: string[],
  p: Profile,
): Promise<Record<string, { status: string; message: string }>> {
  const controls = ids.map((id) => controlById(id)).filter((c): c is Control => c !== undefined);
  const areas = [...new Set(controls.flatMap((c) => c.meta.facts))] as FactArea[];
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
