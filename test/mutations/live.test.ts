/**
 * The differential oracle (issue 11): the running laptop computes the truth. Each batch of
 * mutations that do not interfere is applied to a private copy of the desktop laptop root
 * (test/rig, owned by the rig helper) on top of the hardened laptop's configuration, booted
 * with systemd as PID 1, and every mutation's `liveProbe` runs inside; its verdict must equal
 * the offline verdict koffer gives the same copy. Mutations marked `exclusive` (masks, the
 * kernel command line) boot alone. Mutations marked `inPlace` (sysctl.d, the firewall, desktop
 * entries: files the running system reads again without a boot) share ONE boot: each is
 * applied to the running machine, judged offline on its tree, its unit restarted as the boot
 * starts it (nftables.service), probed, and its files put back.
 *
 * Every boot gets a `wlan0` to a peer namespace (net-probe.ts): the firewall's truth is what
 * netfilter does with packets (NET-01: what the peer gets in; VPN-06: what leaves outside the
 * tunnel), APP-02's is GLib's own application list. None of these is judged by koffer's model.
 *
 * Written against /work/notes/rig-contract.md. A probe no running container can answer (the
 * host's kernel command line, audit netlink, USBGuard without a USB bus, DNS inside a tunnel)
 * carries its reason (`notLive` in generate.ts); those are left out explicitly and their
 * reasons printed, every other probe is compared.
 *
 * The hardened laptop's /etc is copied onto the desktop root with `cp -a`: its tree holds
 * dangling links by design (sockets.target.wants/pcscd.socket points at /lib/systemd/…, which
 * exists only inside the laptop), which node's fs.cp stat()s on the host and fails on (ENOENT).
 * The copies are overlays of the cache (instant): they are only judged and booted.
 */
import { execa } from "execa";
import { lstat, readFile, readlink, rm, symlink, writeFile, chmod, mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadProfileOrThrow } from "../../src/index.js";
import type { Profile } from "../../src/profiles/types.js";
import { buildHardenedLaptop } from "../helpers/laptop.js";
import { bootMachine, machineSkipReason, type BootedMachine } from "../rig/machine.js";
import { copyRoot, laptopRoot, laptopRootSkipReason } from "../rig/laptop-root.js";
import {
  desktopListing,
  generateMutations,
  unapprovedApps,
  type LiveProbe,
  type Mutation,
  type Verdict,
} from "./generate.js";
import { judge } from "./judge.js";
import { attachNetwork, egressExperiment, inboundExperiment, type LiveNet } from "./net-probe.js";

const judged = (m: Mutation) =>
  m.notLive === undefined ? m.liveProbe.filter((p) => p.notLive === undefined) : [];
/** The controls a mutation is judged by, offline and live. */
const touched = (m: Mutation) => [
  ...new Set([...Object.keys(m.expect), ...judged(m).map((p) => p.control)]),
];

/**
 * Restart `unit` as boot would start it. systemd's start rate limit (5 starts in 10 s) would
 * refuse the restarts of mutations applied in quick succession — and nftables.service's stop
 * has already flushed the ruleset: no firewall, whatever the file says. reset-failed clears
 * the counter first; a start refused by the limit all the same fails the test. (A ruleset
 * nft rejects fails the start too: that is the live truth and is judged as such.)
 */
async function restartUnit(machine: BootedMachine, unit: string): Promise<void> {
  await machine.run(["systemctl", "reset-failed", unit], { timeoutMs: 30_000 });
  await machine.run(["systemctl", "restart", unit], { timeoutMs: 30_000 });
  const result = await machine.run(["systemctl", "show", "-p", "Result", "--value", unit], {
    timeoutMs: 30_000,
  });
  if (result.stdout.trim() === "start-limit-hit")
    throw new Error(`${unit} in ${machine.name}: start refused by systemd's start limit`);
}

/**
 * The desktop root's account file with the hardened laptop's: entries the desktop lacks are
 * appended, and a group both have gets the hardened laptop's members (sudo: the profile's
 * admin). System users stay the desktop's own.
 */
function mergeAccounts(file: string, desktop: string, hardened: string): string {
  const name = (l: string) => l.split(":")[0] ?? "";
  const fromHardened = new Map(
    hardened
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => [name(l), l] as const),
  );
  const lines = desktop.split("\n").filter((l) => l.trim() !== "");
  const seen = new Set(lines.map(name));
  const merged = lines.map((l) => {
    const other = fromHardened.get(name(l));
    if (other === undefined || (file !== "group" && file !== "gshadow")) return l;
    const fields = l.split(":");
    fields[fields.length - 1] = other.split(":").at(-1) ?? "";
    return fields.join(":");
  });
  for (const [n, l] of fromHardened) if (!seen.has(n)) merged.push(l);
  return `${merged.join("\n")}\n`;
}

const skip = machineSkipReason() ?? laptopRootSkipReason();

/** systemd reads its unit files again, as at boot (masks, links, drop-ins, generators). */
async function daemonReload(machine: BootedMachine): Promise<void> {
  const r = await machine.run(["systemctl", "daemon-reload"], { timeoutMs: 60_000 });
  if (r.exitCode !== 0) throw new Error(`daemon-reload in ${machine.name}: ${r.stderr}`);
}

/** What a path of the tree was before an in-place mutation, to put it back after. */
type Saved =
  | { path: string; kind: "absent" }
  | { path: string; kind: "file"; data: Buffer; mode: number }
  | { path: string; kind: "link"; target: string };

async function save(root: string, path: string): Promise<Saved> {
  const at = join(root, path);
  const st = await lstat(at).catch(() => null);
  if (st === null) return { path, kind: "absent" };
  if (st.isSymbolicLink()) return { path, kind: "link", target: await readlink(at) };
  if (!st.isFile()) throw new Error(`in-place mutation path ${path} is not a file`);
  return { path, kind: "file", data: await readFile(at), mode: st.mode & 0o7777 };
}

async function restore(root: string, saved: Saved): Promise<void> {
  const at = join(root, saved.path);
  await rm(at, { force: true });
  if (saved.kind === "absent") return;
  await mkdir(dirname(at), { recursive: true });
  if (saved.kind === "link") await symlink(saved.target, at);
  else {
    await writeFile(at, saved.data);
    await chmod(at, saved.mode);
  }
}

/** Progress on stderr while it runs (KOFFER_LIVE_TRACE=1): vitest shows console output only at the end. */
const trace = (text: string) => {
  if (process.env.KOFFER_LIVE_TRACE)
    process.stderr.write(`[live ${new Date().toISOString().slice(11, 19)}] ${text}\n`);
};

/** The running laptop's answer to one probe, with the output it was judged on. */
async function truthOf(
  machine: BootedMachine,
  net: LiveNet,
  probe: LiveProbe,
  profile: Profile,
): Promise<{ verdict: Verdict; output: string }> {
  let output: string;
  let exitCode = 0;
  if (probe.experiment === "inbound") output = await inboundExperiment(machine, net);
  else if (probe.experiment === "egress")
    output = await egressExperiment(machine, net, profile.spec.vpn.gateway);
  else if (probe.argv === undefined)
    throw new Error(`probe of ${probe.control} has nothing to run`);
  else {
    const r = await machine.run(probe.argv, { timeoutMs: 30_000 });
    output = r.stdout;
    exitCode = r.exitCode;
  }
  return { verdict: probe.judge(output, exitCode, profile), output };
}

/** The probe's class, for the "able to fail" assertion and the figures. */
const probeClass = (p: LiveProbe) => p.experiment ?? p.control;

describe.skipIf(skip !== null)(
  `live differential oracle${skip ? ` (skipped: ${skip})` : ""}`,
  () => {
    it("N/N offline verdicts agree with the running system", async () => {
      const started = Date.now();
      const all = generateMutations();
      const notLive = new Map<string, number>();
      for (const p of all.flatMap((m) => m.liveProbe))
        if (p.notLive !== undefined)
          notLive.set(
            `${p.control} ${p.notLive}`,
            (notLive.get(`${p.control} ${p.notLive}`) ?? 0) + 1,
          );
      for (const m of all)
        if (m.notLive !== undefined) notLive.set(m.notLive, (notLive.get(m.notLive) ?? 0) + 1);
      for (const [reason, n] of notLive) console.log(`not judged live (${n}x): ${reason}`);
      const only = process.env.KOFFER_MUTATIONS;
      const mutations = all.filter(
        (m) => judged(m).length > 0 && (only === undefined || new RegExp(only).test(m.id)),
      );
      const hardened = await buildHardenedLaptop();
      const profile = await loadProfileOrThrow(hardened.profilePath);
      const cache = await laptopRoot();
      // In-place mutations share one boot; of the others, those judged by different controls
      // do not interfere: they share a boot too.
      const inPlace = mutations.filter((m) => m.inPlace !== undefined && m.exclusive !== true);
      const batches: Mutation[][] = [];
      for (const m of mutations) {
        if (inPlace.includes(m)) continue;
        const controls = touched(m);
        const fits = (b: Mutation[]) =>
          b.length < 8 &&
          b.every((o) => o.exclusive !== true && !touched(o).some((c) => controls.includes(c)));
        const batch = m.exclusive === true ? undefined : batches.find(fits);
        if (batch === undefined) batches.push([m]);
        else batch.push(m);
      }
      let agree = 0;
      let total = 0;
      const compared = new Set<string>();
      let boots = 0;
      const disagree: string[] = [];
      const truths = new Map<string, Set<Verdict>>();
      const compare = (
        m: Mutation,
        probe: LiveProbe,
        offline: string | undefined,
        live: { verdict: Verdict; output: string },
      ) => {
        const truth = live.verdict;
        trace(`${m.id}: ${probe.control} offline ${offline}, live ${truth}`);
        total++;
        compared.add(m.id);
        truths.set(probeClass(probe), (truths.get(probeClass(probe)) ?? new Set()).add(truth));
        if (offline === truth) agree++;
        else
          disagree.push(
            `${m.id}: ${probe.control} offline ${offline}, live ${truth} (${live.output.trim().split("\n").slice(0, 6).join("; ")})`,
          );
      };

      /** A private copy of the desktop root carrying the hardened laptop's /etc, booted, with wlan0. */
      const withMachine = async (
        prepare: (root: string) => Promise<void>,
        fn: (machine: BootedMachine, net: LiveNet, root: string) => Promise<void>,
      ) => {
        const copy = await copyRoot(cache, "overlay");
        try {
          await execa("cp", [
            "-a",
            "--remove-destination",
            // "etc/." (path.join would drop the dot: cp would make etc/etc)
            `${join(hardened.root, "etc")}/.`,
            join(copy.path, "etc"),
          ]);
          // The desktop's own accounts stay: the fixture's passwd/group lack its system users
          // (messagebus …), without which D-Bus and everything on it never start. The
          // profile's people are added to them (mergeAccounts), so ACC-01 can pass.
          for (const f of ["passwd", "group", "shadow", "gshadow"])
            await writeFile(
              join(copy.path, "etc", f),
              mergeAccounts(
                f,
                await readFile(join(cache, "etc", f), "utf8"),
                await readFile(join(hardened.root, "etc", f), "utf8").catch(() => ""),
              ),
            );
          await prepare(copy.path);
          trace(`booting ${boots}`);
          const machine = await bootMachine({
            root: copy.path,
            name: `kof-mut-${process.pid}-${boots++}`,
          });
          try {
            await machine.waitUntilBooted(180_000);
            trace(`booted ${machine.name}`);
            const net = await attachNetwork(machine);
            trace(`wlan0 attached`);
            try {
              await fn(machine, net, copy.path);
            } finally {
              await net.close();
            }
          } finally {
            await machine.stop();
          }
        } finally {
          await copy.cleanup();
        }
      };

      for (const batch of batches)
        await withMachine(
          async (root) => {
            for (const m of batch)
              await m.apply(root).catch((error: unknown) => {
                throw new Error(`${m.id} (batch ${batch.map((b) => b.id).join(", ")})`, {
                  cause: error,
                });
              });
          },
          async (machine, net, root) => {
            const offline = await judge(root, [...new Set(batch.flatMap(touched))], profile);
            for (const m of batch)
              for (const probe of judged(m))
                compare(
                  m,
                  probe,
                  offline[probe.control],
                  await truthOf(machine, net, probe, profile),
                );
          },
        );
      const bootsSeconds = Math.round((Date.now() - started) / 1000);

      if (inPlace.length > 0)
        await withMachine(
          async () => {},
          async (machine, net, root) => {
            // The laptop as provisioned for APP-02: launchers outside the allow list hidden by a
            // Hidden=true override (what koffer's provisioning writes), chosen by GLib's own list.
            if (inPlace.some((m) => judged(m).some((p) => p.argv === desktopListing))) {
              const listed = await machine.run(desktopListing, { timeoutMs: 60_000 });
              if (listed.exitCode !== 0) throw new Error(`GLib lister: ${listed.stderr}`);
              for (const [id] of unapprovedApps(listed.stdout, profile)) {
                await mkdir(join(root, "usr/local/share/applications"), { recursive: true });
                await writeFile(
                  join(root, "usr/local/share/applications", id!),
                  "[Desktop Entry]\nType=Application\nName=hidden\nHidden=true\n",
                );
                trace(`hid ${id}`);
              }
            }
            for (const m of inPlace) {
              const { paths, restart, reload } = m.inPlace!;
              const saved = await Promise.all(paths.map((p) => save(root, p)));
              try {
                await m.apply(root);
                const offline = await judge(root, touched(m), profile);
                if (reload === true) await daemonReload(machine);
                if (restart !== undefined) await restartUnit(machine, restart);
                for (const probe of judged(m))
                  compare(
                    m,
                    probe,
                    offline[probe.control],
                    await truthOf(machine, net, probe, profile),
                  );
              } finally {
                for (const s of saved) await restore(root, s);
                if (reload === true) await daemonReload(machine);
                if (restart !== undefined) await restartUnit(machine, restart);
              }
            }
          },
        );
      console.log(
        `live oracle: ${batches.length + (inPlace.length > 0 ? 1 : 0)} boots, ` +
          `${mutations.length - inPlace.length} mutations booted (${bootsSeconds} s), ` +
          `${inPlace.length} applied in place (${Math.round((Date.now() - started) / 1000) - bootsSeconds} s)`,
      );
      for (const [cls, seen] of truths)
        console.log(`live truths of ${cls}: ${[...seen].sort().join(", ")}`);
      console.log(
        `${agree}/${total} offline verdicts agree with the running system over ${compared.size} mutations`,
      );
      expect(disagree).toEqual([]);
      // Each behavioural probe can fail: over the full set it saw both answers, so a wrong
      // offline verdict on either side would have been a disagreement above.
      if (only === undefined)
        for (const cls of ["inbound", "egress", "APP-02"])
          expect([cls, [...(truths.get(cls) ?? [])].sort()]).toEqual([cls, ["fail", "pass"]]);
    }, 3_600_000);
  },
);
