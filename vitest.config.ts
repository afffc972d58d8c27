import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The laptop VM runs on its own: npm run test:vm (vitest.vm.config.ts).
    exclude: ["test/vm/**", "**/node_modules/**"],
    testTimeout: 60_000,
    hookTimeout: 300_000,
    pool: "forks",
    // Each run has its own TMPDIR and fails on any koffer-* entry a test leaves in it.
    globalSetup: ["test/setup/tmp-guard.ts"],
    setupFiles: ["test/setup/remove-temp-dirs.ts"],
    // The JSON summary lets .ci/run print a plain "N passed, N failed" closing line.
    reporters: ["default", ["json", { outputFile: "test-artifacts/vitest-results.json" }]],
  },
});
