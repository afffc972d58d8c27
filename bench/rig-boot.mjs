// Boot-to-running time of the rig's desktop laptop (GNOME, NetworkManager, CUPS …) under
// systemd-nspawn, as a ratio to booting the plain debootstrap root, measured in the same run
// (median of RUNS interleaved boots each, overlay copies of the cached roots). Needs root and
// systemd-nspawn; builds the cached roots first if they are missing.
//
// Boot-to-tunnel: when test/rig/gateway.ts exports `bootToTunnel(machine)` (the VPN rig), it
// is timed on the laptop boots as well; until then the line says it is not measured.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

const repo = fileURLToPath(new URL("..", import.meta.url));
const out = `${repo}dist/.rig`;
const runs = Number(process.env.RUNS ?? 3);

if (process.getuid?.() !== 0 || !existsSync("/usr/bin/systemd-nspawn")) {
  console.log(
    "rig boot: skipped (needs root and systemd-nspawn, Debian package systemd-container)",
  );
  process.exit(0);
}

// The rig is test code (TypeScript); compile just it (and what it imports) next to dist/.
const rigFiles = ["test/rig/machine.ts", "test/rig/laptop-root.ts"];
const gateway = "test/rig/gateway.ts";
if (existsSync(`${repo}${gateway}`)) rigFiles.push(gateway);
const tsc = spawnSync(
  `${repo}node_modules/.bin/tsc`,
  [
    ...["--outDir", out, "--rootDir", repo, "--module", "nodenext"],
    ...["--moduleResolution", "nodenext", "--target", "es2022", "--skipLibCheck"],
    ...["--types", "node", "--resolveJsonModule", "--esModuleInterop"],
    ...rigFiles.map((f) => `${repo}${f}`),
  ],
  { stdio: "inherit" },
);
if (tsc.status !== 0) process.exit(2);

const load = (f) => import(pathToFileURL(`${out}/${f.replace(/\.ts$/, ".js")}`).href);
const { bootMachine } = await load("test/rig/machine.ts");
const { copyRoot, laptopRoot } = await load("test/rig/laptop-root.ts");
const { debianRoot } = await load("src/demo/debian-root.ts");
const tunnel = rigFiles.includes(gateway) ? (await load(gateway)).bootToTunnel : undefined;

const roots = {
  "plain debootstrap root": await debianRoot(),
  "desktop laptop": await laptopRoot(),
};
const times = Object.fromEntries(Object.keys(roots).map((k) => [k, []]));
const tunnelTimes = [];

for (let i = 0; i < runs; i++) {
  for (const [name, root] of Object.entries(roots)) {
    const copy = await copyRoot(root, "overlay");
    let machine;
    try {
      const started = process.hrtime.bigint();
      machine = await bootMachine({ root: copy.path, name: `kof-bench-${process.pid}-${i}` });
      const state = await machine.waitUntilBooted(300_000);
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      times[name].push(ms);
      console.log(`  ${name}: ${(ms / 1000).toFixed(2)} s (${state})`);
      if (tunnel && name === "desktop laptop") tunnelTimes.push(await tunnel(machine, started));
    } finally {
      await machine?.stop();
      await copy.cleanup();
    }
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = median(times["plain debootstrap root"]);
for (const [name, xs] of Object.entries(times)) {
  const m = median(xs);
  console.log(
    `${name.padEnd(24)} boot-to-running median ${(m / 1000).toFixed(2).padStart(6)} s  ratio ${(m / base).toFixed(2)}×`,
  );
}
console.log(
  tunnelTimes.length > 0
    ? `desktop laptop           boot-to-tunnel  median ${(median(tunnelTimes) / 1000).toFixed(2).padStart(6)} s`
    : "boot-to-tunnel: not measured (no test/rig/gateway.ts with bootToTunnel yet)",
);
