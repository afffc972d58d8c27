/**
 * Updates: os-release, APT's merged configuration (APT::Periodic::*, Unattended-Upgrade::*)
 * and, on a running machine, fwupd's pending updates.
 */
import type { Target } from "../targets/types.js";
import type { GatherContext, Setting, UpdatesFacts } from "./types.js";
import { readAptConf } from "./parsers/apt-conf.js";
import { parseOsRelease } from "./parsers/keyvalue.js";
import { liveValue } from "./parsers/live.js";
import { detectRelease } from "../platform/releases.js";

export function emptyUpdatesFacts(): UpdatesFacts {
  return {
    osRelease: {},
    aptConf: {},
    unattendedUpgradesOrigins: [],
    fwupd: { available: false, reason: "not gathered" },
  };
}

const interesting = /^(APT::Periodic::|Unattended-Upgrade::)/i;
const originLists = ["unattended-upgrade::origins-pattern", "unattended-upgrade::allowed-origins"];

/** Count pending updates fwupd flags as security-relevant (`fwupdmgr get-updates --json`). */
export function countFwupdSecurityUpdates(json: unknown): number {
  let count = 0;
  const devices = (json as { Devices?: unknown[] })?.Devices ?? [];
  for (const d of devices) {
    for (const r of (d as { Releases?: unknown[] }).Releases ?? []) {
      const rel = r as { Issues?: unknown[]; Urgency?: string; Flags?: string[] };
      if ((rel.Issues?.length ?? 0) > 0 || rel.Urgency === "high" || rel.Urgency === "critical")
        count++;
    }
  }
  return count;
}

/** Gather the updates area from a target. */
export async function gatherUpdates(target: Target, _ctx: GatherContext): Promise<UpdatesFacts> {
  const osText =
    (await target.readText("/etc/os-release")) ?? (await target.readText("/usr/lib/os-release"));
  const apt = await readAptConf(target);
  const aptConf: Record<string, Setting> = {};
  for (const [key, value] of apt.values) if (interesting.test(key)) aptConf[key] = value;
  const unattendedUpgradesOrigins: string[] = [];
  for (const [key, list] of apt.lists) {
    if (originLists.includes(key.toLowerCase()))
      unattendedUpgradesOrigins.push(...list.map((e) => e.value));
  }
  const fwupd = await liveValue<{ pendingSecurityUpdates: number }>(
    target,
    "fwupdmgr get-updates --json",
    async () => {
      const r = await target
        .exec(
          "fwupdmgr",
          ["get-updates", "--json", "--no-unreported-check", "--no-metadata-check"],
          {
            timeoutMs: 30_000,
          },
        )
        .catch(() => null);
      if (r === null) return { unavailable: "fwupd is not installed (Debian package fwupd)" };
      // Exit 2 means "no updates available".
      if (r.exitCode === 2) return { pendingSecurityUpdates: 0 };
      if (r.exitCode !== 0)
        return { unavailable: `fwupdmgr failed: ${r.stderr.trim() || r.stdout.trim()}` };
      return { pendingSecurityUpdates: countFwupdSecurityUpdates(JSON.parse(r.stdout)) };
    },
  );
  const osRelease = osText === null ? {} : parseOsRelease(osText);
  return {
    osRelease,
    release: detectRelease(osRelease, await target.readText("/etc/debian_version")),
    aptConf,
    unattendedUpgradesOrigins,
    fwupd,
  };
}
