#!/usr/bin/env node
// Process wiring only: run the CLI, set the exit code.
import { readFileSync } from "node:fs";

// A reader that went away (`koffer verify | head`) is not a failure of the run: stop writing
// quietly and keep the run's own exit code. Any other stdout error stays fatal.
process.stdout.on("error", (error) => {
  if (error.code !== "EPIPE" && error.code !== "ERR_STREAM_DESTROYED") throw error;
});

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === "--version" || args[0] === "-V")) {
  // Fast path: answering --version needs no module beyond this file.
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
  process.stdout.write(`${pkg.version}\n`);
} else {
  const { main } = await import("../dist/cli/main.js");
  process.exitCode = await main(process.argv);
}
