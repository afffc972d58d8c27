import { defineConfig } from "vitest/config";

// The ssh bench boots rig laptops: it runs through vitest (TypeScript test helpers), alone.
export default defineConfig({
  test: {
    include: ["bench/ssh-verify.rig.ts"],
    testTimeout: 3_600_000,
    hookTimeout: 3_600_000,
    pool: "forks",
    reporters: ["default"],
  },
});
