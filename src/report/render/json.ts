import type { Result } from "../types.js";

/** Top-level keys in the order of ARCHITECTURE.md; nested keys are sorted so output is stable. */
const topOrder = [
  "schema",
  "tool",
  "profile",
  "target",
  "facts",
  "startedAt",
  "finishedAt",
  "lang",
  "summary",
  "controls",
  "readiness",
  "context",
];

function sortDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortDeep);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortDeep(v);
    }
    return out;
  }
  return value;
}

/** The Result as JSON: stable key order, two-space indent, trailing newline. */
export function renderJson(result: Result): string {
  const sorted = sortDeep(result) as Record<string, unknown>;
  const ordered: Record<string, unknown> = {};
  for (const key of topOrder) if (key in sorted) ordered[key] = sorted[key];
  for (const key of Object.keys(sorted)) if (!(key in ordered)) ordered[key] = sorted[key];
  return JSON.stringify(ordered, null, 2) + "\n";
}
