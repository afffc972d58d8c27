import { defineConfig } from "vitest/config";

/**
 * The laptop VM (issue 10): `npm run test:vm`. Separate from the default suite (which
 * excludes test/vm), because one run builds or reuses a disk image and boots it several times
 * under QEMU (TCG without KVM): minutes, not seconds.
 */
export default defineConfig({
  test: {
    include: ["test/vm/**/*.test.ts"],
    testTimeout: 30 * 60_000,
    hookTimeout: 90 * 60_000,
    pool: "forks",
    fileParallelism: false,
    reporters: ["default", ["json", { outputFile: "test-artifacts/vitest-vm-results.json" }]],
  },
});
