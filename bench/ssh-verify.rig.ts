/**
 * The ssh bench (npm run bench:ssh). Prints:
 *   verify over ssh (connection included): median of BENCH_RUNS, beside the local verify on
 *   the same laptop; target < 2 s
 *   ansible-playbook koffer.fleet.verify over N laptops, with the forks used
 */
import { execa } from "execa";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { availableParallelism, freemem, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { afterAll, it } from "vitest";
import { kofferBin, repoRoot } from "../test/helpers/cli.js";
import {
  bootSshLaptop,
  controllerNetns,
  sshLaptopLayer,
  sshLaptopSkipReason,
  type SshLaptop,
} from "../test/helpers/ssh-laptop.js";
import { deleteNetns } from "../test/rig/netns.js";

const profileFile = join(repoRoot, "test", "fixtures", "ssh", "rig-laptop.yaml");
const runs = Number(process.env.BENCH_RUNS ?? 5);
const wanted = Number(process.env.BENCH_LAPTOPS ?? 10);
const forks = Number(process.env.BENCH_FORKS ?? 10);
const laptops: SshLaptop[] = [];
let ctl: string | undefined;
let work: string | undefined;

/** The 1-minute load average beside the cores: the figures mean little without it. */
const loadNow = () => `${(loadavg()[0] as number).toFixed(1)} on ${availableParallelism()} cores`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/**
 * Every booted systemd takes inotify instances of the one root user; Debian's default of 128
 * per user stops the eighth or ninth laptop ("Failed to create control group inotify object:
 * Too many open files"). Raised for the bench, put back afterwards.
 */
const inotifyLimit = "/proc/sys/fs/inotify/max_user_instances";
let inotifyBefore: string | undefined;

afterAll(async () => {
  for (const l of laptops) await l.stop();
  if (inotifyBefore !== undefined) await writeFile(inotifyLimit, inotifyBefore);
  if (ctl) await deleteNetns(ctl);
  if (work) await rm(work, { recursive: true, force: true });
});

it("ssh verify and the fleet playbook", async () => {
  const skip = sshLaptopSkipReason();
  if (skip !== null) {
    console.log(`bench:ssh skipped: ${skip}`);
    return;
  }
  work = await mkdtemp(join(tmpdir(), "koffer-bench-ssh-"));
  if (existsSync(inotifyLimit)) {
    const before = (await readFile(inotifyLimit, "utf8")).trim();
    if (Number(before) < 1024) {
      inotifyBefore = before;
      await writeFile(inotifyLimit, "1024");
    }
  }
  const layer = await sshLaptopLayer(await readFile(profileFile, "utf8"));
  ctl = await controllerNetns();
  // Each booted desktop laptop holds ~0.5 GiB; keep 4 GiB free for the rest of the machine.
  const fits = Math.max(1, Math.floor((freemem() / 2 ** 30 - 4) / 0.5));
  const n = Math.min(wanted, fits);
  if (n < wanted) console.log(`only ${n} laptops fit in free memory (asked for ${wanted})`);
  const identity = join(work, "id_ecdsa");
  // Boot in small batches: every boot is a systemd with GNOME's units on shared cores.
  for (let i = 0; i < n; i += 3) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 3); j++) {
      batch.push(
        bootSshLaptop({
          index: 31 + j,
          layer,
          controllerNs: ctl,
          identity,
          workDir: work,
          // The last of ten GNOME laptops boots while the others settle on the same two cores.
          bootTimeoutMs: 600_000,
        }),
      );
    }
    laptops.push(...(await Promise.all(batch)));
  }
  const first = laptops[0] as SshLaptop;
  await execa("cp", [profileFile, join(first.root, "root", "rig-laptop.yaml")]);

  const ssh = [
    "verify",
    "--ssh",
    first.destination,
    "--ssh-identity",
    identity,
    "--known-hosts",
    first.knownHosts,
    "--profile",
    profileFile,
    "--format",
    "json",
  ];
  const local = ["verify", "--profile", "/root/rig-laptop.yaml", "--format", "json"];
  const sshTimes: number[] = [];
  const localTimes: number[] = [];
  const sshCpu: number[] = [];
  const localCpu: number[] = [];
  // Wall time on a shared 2-core machine follows its load; the CPU koffer itself used (user +
  // system, its children included, from bash's `time`) does not, so both are printed.
  const timed = (argv: string[]) => [
    "bash",
    "-c",
    'TIMEFORMAT="koffer-cpu %U %S"; time "$@"',
    "bash",
    ...argv,
  ];
  const cpuOf = (stderr: string) => {
    const m = /^koffer-cpu ([\d.]+) ([\d.]+)$/m.exec(stderr);
    return m === null ? NaN : Number(m[1]) + Number(m[2]);
  };
  const loadBefore = loadNow();
  for (let i = 0; i < runs; i++) {
    let t = performance.now();
    const a = await execa(
      "ip",
      ["netns", "exec", first.controllerNs, ...timed([process.execPath, kofferBin, ...ssh])],
      { reject: false, env: { NO_COLOR: "1" } },
    );
    sshTimes.push((performance.now() - t) / 1000);
    sshCpu.push(cpuOf(String(a.stderr)));
    t = performance.now();
    const b = await first.machine.run(timed(["/usr/local/bin/node", kofferBin, ...local]), {
      timeoutMs: 300_000,
    });
    localTimes.push((performance.now() - t) / 1000);
    localCpu.push(cpuOf(b.stderr));
    if ((a.exitCode ?? 2) > 1 || b.exitCode > 1)
      throw new Error(`verify failed: ${a.stderr}${b.stderr}`);
  }
  const s = median(sshTimes);
  const l = median(localTimes);
  console.log(
    `verify over ssh (connection included): ${s.toFixed(2)} s median of ${runs} ` +
      `| local verify on the laptop: ${l.toFixed(2)} s | ratio ${(s / l).toFixed(2)}x ` +
      `| target < 2 s: ${s < 2 ? "met" : "NOT met"} | load ${loadBefore} before, ${loadNow()} after`,
  );
  console.log(
    `CPU of koffer itself (user + system, median): over ssh ${median(sshCpu).toFixed(2)} s ` +
      `(the laptop's sshd, sudo, sftp-server and commands not included), ` +
      `local ${median(localCpu).toFixed(2)} s | wall times over ssh: ${sshTimes.map((x) => x.toFixed(1)).join(", ")} s`,
  );

  const knownHosts = join(work, "known_hosts");
  let text = "";
  for (const lap of laptops) text += await readFile(lap.knownHosts, "utf8");
  await writeFile(knownHosts, text);
  const inventory = join(work, "hosts.yml");
  await writeFile(
    inventory,
    [
      "koffer_laptops:",
      "  hosts:",
      ...laptops.map((lap) => `    ${lap.machine.name}:\n      ansible_host: ${lap.address}`),
      "  vars:",
      `    koffer_command: ["${process.execPath}", "${kofferBin}"]`,
      `    koffer_profile: "${profileFile}"`,
      `    koffer_ssh_identity: "${identity}"`,
      `    koffer_known_hosts: "${knownHosts}"`,
      `    koffer_output_dir: "${join(work, "out")}"`,
      "",
    ].join("\n"),
  );
  const t = performance.now();
  const play = await execa(
    "ip",
    [
      "netns",
      "exec",
      ctl,
      "ansible-playbook",
      "-i",
      inventory,
      "--forks",
      String(forks),
      "koffer.fleet.verify",
    ],
    {
      reject: false,
      env: {
        ANSIBLE_COLLECTIONS_PATH: join(repoRoot, "ansible"),
        ANSIBLE_LOCAL_TEMP: join(work, "ansible-tmp"),
        ANSIBLE_NOCOLOR: "1",
      },
    },
  );
  const seconds = (performance.now() - t) / 1000;
  if (play.exitCode !== 0) throw new Error(`ansible-playbook failed:\n${play.stdout}`);
  console.log(
    `ansible-playbook koffer.fleet.verify over ${laptops.length} laptops, --forks ${forks} ` +
      `(${availableParallelism()} cores): ${seconds.toFixed(1)} s ` +
      `(${(seconds / laptops.length).toFixed(2)} s per laptop) | load ${loadNow()}`,
  );
});
