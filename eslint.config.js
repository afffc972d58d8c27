// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

const layeringMessage =
  "Checks are pure: they read facts and the profile, never the machine or the terminal (STYLE.md §2).";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "coverage/", "test-artifacts/", "test/fixtures/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_" },
      ],
      "no-restricted-syntax": [
        "error",
        { selector: "ExportDefaultDeclaration", message: "Named exports only (STYLE.md §11)." },
      ],
    },
  },
  {
    files: ["src/**/*.ts"],
    ignores: ["src/cli/**"],
    rules: { "no-console": "error" },
  },
  {
    files: ["src/checks/**/*.ts", "src/report/render/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: [
            { name: "fs", message: layeringMessage },
            { name: "node:fs", message: layeringMessage },
            { name: "fs/promises", message: layeringMessage },
            { name: "node:fs/promises", message: layeringMessage },
            { name: "child_process", message: layeringMessage },
            { name: "node:child_process", message: layeringMessage },
            { name: "execa", message: layeringMessage },
            { name: "chalk", message: layeringMessage },
            { name: "ora", message: layeringMessage },
          ],
        },
      ],
    },
  },
  {
    files: ["bin/**/*.js", "bench/**/*.{js,mjs,ts}", "scripts/**/*.{js,mjs}", "eslint.config.js"],
    languageOptions: {
      globals: { process: "readonly", console: "readonly", URL: "readonly", Buffer: "readonly" },
    },
  },
  {
    // Tool configuration files must default-export.
    files: [
      "eslint.config.js",
      "vitest.config.ts",
      "vitest.vm.config.ts",
      "bench/*.vitest.config.ts",
    ],
    rules: { "no-restricted-syntax": "off" },
  },
);
