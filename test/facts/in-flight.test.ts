import { describe, expect, it } from "vitest";
import { mapOrdered } from "../../src/facts/in-flight.js";

const later = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("mapOrdered", () => {
  it("keeps the input order and never more than `limit` in flight", async () => {
    let running = 0;
    let most = 0;
    const out = await mapOrdered(
      Array.from({ length: 20 }, (_, i) => i),
      async (i) => {
        running++;
        most = Math.max(most, running);
        await later((i * 7) % 5);
        running--;
        return i * 2;
      },
      4,
    );
    expect(out).toEqual(Array.from({ length: 20 }, (_, i) => i * 2));
    expect(most).toBe(4);
    expect(await mapOrdered([], async () => 1)).toEqual([]);
  });

  it("starts the next item as soon as one finishes: a slow item holds back no wave", async () => {
    const finished: string[] = [];
    await mapOrdered(
      ["slow", "a", "b", "c", "d"],
      async (name) => {
        await later(name === "slow" ? 300 : 10);
        finished.push(name);
      },
      2,
    );
    // Waves of two would run "b" only after "slow"; a window runs a … d beside it.
    expect(finished).toEqual(["a", "b", "c", "d", "slow"]);
  });

  it("rejects with the first failure and starts nothing after it", async () => {
    const started: number[] = [];
    await expect(
      mapOrdered(
        [1, 2, 3, 4, 5],
        async (i) => {
          started.push(i);
          await later(5);
          if (i === 2) throw new Error("two");
          return i;
        },
        2,
      ),
    ).rejects.toThrow("two");
    await later(50);
    expect(started).toEqual([1, 2, 3]);
  });
});
