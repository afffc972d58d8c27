/**
 * The differential oracle (issue 11): the running laptop computes the truth. Each batch of
 * mutations that do not interfere is applied to a private copy of the desktop laptop root
 * (test/rig, owned by the rig helper) on top of the hardened laptop's configuration, booted
 * with systemd as PID 1, and every mutation's `liveProbe` runs inside; its verdict must equal
 * the offline verdict koffer gives the same copy. Mutations marked `exclusive` (masks, the
 * firewall, the kernel command line) boot alone.
 *
 * Written against /work/notes/rig-contract.md. A probe a container cannot answer (the host's
 * kernel, audit netlink, USBGuard's daemon) or whose live listing needs koffer's own model to
 * be judged carries its reason (`notLive` in generate.ts); those are left out explicitly and
 * their reasons printed, every other probe is compared.
 *
 * The hardened laptop's /etc is copied onto the desktop root with `cp -a`: its tree holds
 * dangling links by design (sockets.target.wants/pcscd.socket points at /lib/systemd/…, which
 * exists only inside the laptop), which node's fs.cp stat()s on the host and fails on (ENOENT).
 * The copies are overlays of the cache (instant): they are only judged and booted.
 */
import { execa } from "execa";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadProfileOrThrow } from "../../src/index.js";
import { buildHardenedLaptop } from "../helpers/laptop.js";
import { bootMachine, machineSkipReason } from "../rig/machine.js";
import { copyRoot, laptopRoot, laptopRootSkipReason } from "../rig/laptop-root.js";
import { generateMutations, type Mutation } from "./generate.js";
import { judge } from "./judge.js";

const judged = (m: Mutation) =>
  m.notLive === undefined ? m.liveProbe.filter((p) => p.notLive === undefined) : [];
/** The controls a mutation is judged by, offline and live. */
const touched = (m: Mutation) => [
  ...new Set([...Object.keys(m.expect), ...judged(m).map((p) => p.control)]),
];

const skip = machineSkipReason() ?? laptopRootSkipReason();

describe.skipIf(skip !== null)(
  `live differential oracle${skip ? ` (skipped: ${skip})` : ""}`,
  () => {
    it("N/N offline verdicts agree with the running system", async () => {
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
        (m) => judged(m).length > 0 && (only === undefined || m.id.includes(only)),
      );
      const hardened = await buildHardenedLaptop();
      const profile = await loadProfileOrThrow(hardened.profilePath);
      const cache = await laptopRoot();
      // Mutations judged by different controls do not interfere: they share a boot.
      const batches: Mutation[][] = [];
      for (const m of mutations) {
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
      const disagree: string[] = [];
      for (const batch of batches) {
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
          // (messagebus …), without which D-Bus and everything on it never start.
          for (const f of ["passwd", "group", "shadow", "gshadow"])
            await execa("cp", ["-a", join(cache, "etc", f), join(copy.path, "etc", f)]);
          for (const m of batch)
            await m.apply(copy.path).catch((error: unknown) => {
              throw new Error(`${m.id} (batch ${batch.map((b) => b.id).join(", ")})`, {
                cause: error,
              });
            });
          const offline = await judge(
            copy.path,
            [
              ...new Set(
                batch.flatMap((m) => [
                  ...Object.keys(m.expect),
                  ...judged(m).map((p) => p.control),
                ]),
              ),
            ],
            profile,
          );
          const machine = await bootMachine({
            root: copy.path,
            name: `kof-mut-${process.pid}-${total}`,
          });
          try {
            await machine.waitUntilBooted(120_000);
            for (const m of batch)
              for (const probe of judged(m)) {
                const r = await machine.run(probe.argv, { timeoutMs: 30_000 });
                const truth = probe.judge(r.stdout, r.exitCode);
                total++;
                if (offline[probe.control] === truth) agree++;
                else
                  disagree.push(
                    `${m.id}: ${probe.control} offline ${offline[probe.control]}, live ${truth}`,
                  );
              }
          } finally {
            await machine.stop();
          }
        } finally {
          await copy.cleanup();
        }
      }
      console.log(`${agree}/${total} offline verdicts agree with the running system`);
      expect(disagree).toEqual([]);
    }, 3_600_000);
  },
);
