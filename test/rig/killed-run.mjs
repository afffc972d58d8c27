// Runs test/rig/killed-run.ts in this process (vite's module runner compiles the TypeScript),
// then waits to be killed: the sweeper test's stand-in for a test run killed with -9.
import process from "node:process";
import { setInterval } from "node:timers";
import { URL } from "node:url";
import { runnerImport } from "vite";

const [out, what = "boot"] = process.argv.slice(2);
const file = new URL("./killed-run.ts", import.meta.url).pathname;
const { module } = await runnerImport(file, { configFile: false, logLevel: "silent" });
await (what === "build" ? module.buildForKill(out) : module.bootForKill(out));
setInterval(() => undefined, 60_000);
