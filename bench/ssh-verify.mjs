// koffer verify of one running laptop over SSH (connection included; target < 2 s) beside
// the local verify on the same laptop, and ansible-playbook (koffer.fleet.verify) over N
// laptops with the number of forks. The laptops are rig machines (systemd-nspawn, sshd,
// sudo) in their own network namespaces; see bench/ssh-verify.rig.ts.
// Environment: BENCH_LAPTOPS (default 10), BENCH_FORKS (default 10), BENCH_RUNS (default 5).
import { spawnSync } from "node:child_process";

const repo = new URL("..", import.meta.url).pathname;
const r = spawnSync(
  process.execPath,
  [`${repo}node_modules/vitest/vitest.mjs`, "run", "--config", "bench/ssh.vitest.config.ts"],
  { cwd: repo, stdio: "inherit", env: { ...process.env, NO_COLOR: "1" } },
);
process.exitCode = r.status ?? 1;
