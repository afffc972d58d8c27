/**
 * Helpers for {@link Live} facts: offline targets say why a value is missing, live ones
 * read it, and a failure to read becomes "not available" with the reason, never a throw.
 */
import type { Target } from "../../targets/types.js";
import type { Live } from "../types.js";

/** The reason given for live-only facts on an offline root. */
export const offlineReason = "offline root filesystem: only a running machine shows this";

/** Read a live value; offline targets and failures give `{ available: false, reason }`. */
export async function liveValue<T>(
  target: Target,
  source: string,
  read: () => Promise<T | { unavailable: string }>,
): Promise<Live<T>> {
  if (!target.live) return { available: false, reason: offlineReason };
  try {
    const value = await read();
    if (value !== null && typeof value === "object" && "unavailable" in (value as object)) {
      return { available: false, reason: (value as { unavailable: string }).unavailable };
    }
    return { available: true, value: value as T, source };
  } catch (error) {
    return { available: false, reason: error instanceof Error ? error.message : String(error) };
  }
}
