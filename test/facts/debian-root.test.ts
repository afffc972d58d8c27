/**
 * Every area this suite owns, gathered from a real debootstrapped Debian 12 root, so the
 * gatherers meet a real distribution's files (and dpkg's own reading of its database).
 */
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { gatherAccounts } from "../../src/facts/accounts.js";
import { gatherApps } from "../../src/facts/apps.js";
import { gatherData } from "../../src/facts/data.js";
import { gatherLogging } from "../../src/facts/logging.js";
import { gatherNetwork } from "../../src/facts/network.js";
import type { GatherContext } from "../../src/facts/types.js";
import { gatherUpdates } from "../../src/facts/updates.js";
import { RootTarget } from "../../src/targets/root.js";
import type { Target } from "../../src/targets/types.js";
import { debianRoot, debianRootSkipReason } from "../helpers/debian-root.js";

const skip = debianRootSkipReason();
const ctx: GatherContext = { profile: null, now: new Date("2025-06-01T00:00:00Z") };

describe.skipIf(skip !== null)(
  `gatherers on a debootstrapped Debian 12 root${skip ? ` (skipped: ${skip})` : ""}`,
  () => {
    let root: string;
    let target: Target;
    beforeAll(async () => {
      root = await debianRoot();
      target = await RootTarget.open({ root, disks: [] });
    }, 900_000);

    it("apps: dpkg status agrees with dpkg-query, package by package", async () => {
      const apps = await gatherApps(target, ctx);
      const q = await execa("dpkg-query", [
        `--admindir=${root}/var/lib/dpkg`,
        "-W",
        "-f=${db:Status-Abbrev}\\t${Package}\\t${Version}\\n",
      ]);
      const fromDpkg = q.stdout
        .trim()
        .split("\n")
        .map((l) => l.split("\t"))
        .map(([status, name, version]) => ({ status: (status as string).trim(), name, version }));
      expect(fromDpkg.length).toBeGreaterThan(80);
      const ours = new Map(apps.packages.map((p) => [p.name, p]));
      for (const d of fromDpkg) {
        expect(ours.get(d.name as string), d.name).toMatchObject({
          status: d.status,
          version: d.version,
        });
      }
      expect(apps.packages.find((p) => p.name === "base-files")?.status).toBe("ii");
      expect(apps.packages.some((p) => p.name === "openssh-server")).toBe(false);
      expect(apps.aptSources).toEqual([
        expect.objectContaining({
          types: ["deb"],
          suites: ["bookworm"],
          components: ["main"],
          trusted: false,
          signedBy: null,
          source: "/etc/apt/sources.list:1",
        }),
      ]);
      expect(apps.caCertificatesConf?.enabled.length).toBeGreaterThan(100);
      expect(apps.caCertificatesConf?.enabled).toContain("mozilla/ISRG_Root_X1.crt");
      expect(apps.apparmor.kernelEnabled).toEqual({
        available: false,
        reason: expect.stringContaining("offline"),
      });
      expect(apps.desktopEntries).toEqual([]);
      expect(apps.browserPolicies).toEqual([]);
    });

    it("accounts: root uid 0 with a real shadow entry, sudoers from the sudo package", async () => {
      const acc = await gatherAccounts(target, ctx);
      expect(acc.passwd.find((p) => p.name === "root")).toEqual({
        name: "root",
        uid: 0,
        gid: 0,
        home: "/root",
        shell: "/bin/bash",
      });
      expect(acc.passwd.filter((p) => p.uid === 0).map((p) => p.name)).toEqual(["root"]);
      // debootstrap leaves root's password field "*": locked, no hash.
      expect(acc.shadow.find((s) => s.name === "root")).toMatchObject({
        locked: true,
        empty: false,
      });
      expect(acc.groups.find((g) => g.name === "sudo")).toEqual({
        name: "sudo",
        gid: 27,
        members: [],
      });
      expect(acc.sudoRules.map((r) => `${r.who} ${r.spec}`)).toEqual([
        "root ALL=(ALL:ALL) ALL",
        "%sudo ALL=(ALL:ALL) ALL",
      ]);
      expect(acc.sudoDefaults.map((d) => d.value)).toContain("Defaults use_pty");
      expect(acc.loginDefs["ENCRYPT_METHOD"]?.value).toBe("SHA512");
      expect(acc.loginDefs["PASS_MAX_DAYS"]).toMatchObject({
        value: "99999",
        source: expect.stringMatching(/^\/etc\/login\.defs:\d+$/),
      });
      expect(acc.pamModules["common-auth"]).toContain("pam_unix.so");
      expect(acc.faillock).toEqual({});
      expect(acc.autologin).toEqual([]);
      // A debootstrap root has no dconf profile, so no system database to compile.
      expect(acc.dconf).toEqual({
        profileUserHasSystemDb: false,
        keys: {},
        locks: [],
        databases: [],
      });
    });

    it("network: the nftables package's default ruleset, no sshd, live facts skipped", async () => {
      const net = await gatherNetwork(target, ctx);
      expect(net.nftables.parseErrors).toEqual([]);
      expect(
        net.nftables.chains.map((c) => [
          c.family,
          c.table,
          c.name,
          c.hook,
          c.policy,
          c.rules.length,
        ]),
      ).toEqual([
        ["inet", "filter", "input", "input", null, 0],
        ["inet", "filter", "forward", "forward", null, 0],
        ["inet", "filter", "output", "output", null, 0],
      ]);
      expect(net.sshd).toEqual({});
      expect(net.listeners.available).toBe(false);
      expect(net.rfkill.available).toBe(false);
      expect(net.networkManager).toEqual([]);
    });

    it("updates: os-release says Debian 12 bookworm; no unattended-upgrades configured", async () => {
      const upd = await gatherUpdates(target, ctx);
      expect(upd.osRelease).toMatchObject({
        ID: "debian",
        VERSION_ID: "12",
        VERSION_CODENAME: "bookworm",
      });
      expect(upd.aptConf["APT::Periodic::Unattended-Upgrade"]).toBeUndefined();
      expect(upd.unattendedUpgradesOrigins).toEqual([]);
      expect(upd.fwupd.available).toBe(false);
    });

    it("logging: journald.conf is all comments, timesyncd installed, no audit rules", async () => {
      const log = await gatherLogging(target, ctx);
      expect(log.journald).toEqual({});
      expect(log.timesyncd).toEqual({});
      expect(log.auditRules).toEqual([]);
      expect(log.chrony).toBeNull();
      expect(log.timeSynchronized.available).toBe(false);
      expect(log.rsyslogForwarding).toEqual([]);
    });

    it("data: no core-dump settings, no CUPS, no capture files, mounts skipped", async () => {
      const data = await gatherData(target, ctx);
      expect(data.coredump).toEqual({});
      expect(data.cupsd).toEqual({});
      expect(data.cupsdListen).toEqual([]);
      expect(data.captureFiles).toEqual([]);
      expect(data.mounts).toEqual({ available: false, reason: expect.any(String) });
      expect(data.sysctlLive.available).toBe(false);
      // Whatever the sysctl.d files set is traced to a file and line.
      for (const s of Object.values(data.sysctl)) expect(s.source).toMatch(/^\/.+:\d+$/);
    });

    it("the whole set is JSON-serialisable and round-trips", async () => {
      const all = {
        apps: await gatherApps(target, ctx),
        accounts: await gatherAccounts(target, ctx),
        network: await gatherNetwork(target, ctx),
        updates: await gatherUpdates(target, ctx),
        logging: await gatherLogging(target, ctx),
        data: await gatherData(target, ctx),
      };
      expect(JSON.parse(JSON.stringify(all))).toEqual(all);
    });
  },
);
