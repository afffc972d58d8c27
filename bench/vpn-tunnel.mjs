// Boot-to-tunnel time of the running-laptop rig: from starting the provisioned laptop's
// machine (systemd-nspawn -b) until its own IKEv2 connection is up and a ping to the network
// behind the gateway is answered. Baseline in the same run: the gateway machine's boot until
// its charon answers (a plain Debian root with strongSwan, nothing to provision or negotiate).
// Runs test/rig/vpn-tunnel.test.ts (provisioning, the tunnel and the four refused gateways)
// and reads the figures it writes; the one-time provisioning is printed apart, not counted.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const repo = new URL("..", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "koffer-bench-vpn-"));
const out = join(dir, "timings.json");
try {
  const run = spawnSync(
    process.execPath,
    [join(repo, "node_modules/vitest/vitest.mjs"), "run", "test/rig/vpn-tunnel.test.ts"],
    {
      cwd: repo,
      stdio: ["ignore", "inherit", "inherit"],
      env: { ...process.env, KOFFER_BENCH_VPN_OUT: out },
    },
  );
  let t;
  try {
    t = JSON.parse(readFileSync(out, "utf8"));
  } catch {
    console.error(`bench:vpn: the tunnel test wrote no figures (exit ${run.status}); see above`);
    process.exitCode = 1;
  }
  if (t) {
    const s = (ms) => (ms === undefined ? "n/a" : `${(ms / 1000).toFixed(1)} s`);
    console.log("");
    console.log(`provisioning the laptop (once, not counted): ${s(t.provisionMs)}`);
    console.log(`baseline  gateway boot → charon ready:        ${s(t.gatewayBootMs)}`);
    console.log(`          laptop boot → charon ready:         ${s(t.laptopBootMs)}`);
    console.log(`          initiate → CHILD_SA installed:      ${s(t.initiateMs)}`);
    console.log(`boot-to-tunnel (laptop boot → ping answered): ${s(t.bootToTunnelMs)}`);
    if (t.gatewayBootMs && t.bootToTunnelMs)
      console.log(
        `ratio to the gateway-only boot:               ${(t.bootToTunnelMs / t.gatewayBootMs).toFixed(2)}×`,
      );
    if (run.status !== 0) process.exitCode = run.status ?? 1;
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
