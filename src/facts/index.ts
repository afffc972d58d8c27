/**
 * Gathering: one gatherer per area reads the target, and `gatherFacts` puts the areas
 * together into one {@link Facts} snapshot. A gatherer that throws does not stop the
 * run: its area keeps the empty defaults and the failure is recorded in `gatherErrors`,
 * so the checks that read it report `error` rather than a false pass.
 */
import { version } from "../version.js";
import type { Target } from "../targets/types.js";
import { emptyBootFacts, gatherBoot } from "./boot.js";
import { emptyDiskFacts, gatherDisk } from "./disk.js";
import { gatherHost } from "./host.js";
import { emptyServicesFacts, gatherServices } from "./services.js";
import { emptyVpnFacts, gatherVpn } from "./vpn.js";
import { emptyUsbFacts, gatherUsb } from "./usb.js";
import { emptyAppsFacts, gatherApps } from "./apps.js";
import { emptyAccountsFacts, gatherAccounts } from "./accounts.js";
import { emptyNetworkFacts, gatherNetwork } from "./network.js";
import { emptyUpdatesFacts, gatherUpdates } from "./updates.js";
import { emptyLoggingFacts, gatherLogging } from "./logging.js";
import { emptyDataFacts, gatherData } from "./data.js";
import { gatherManagedFiles } from "./managed.js";
import type { FactArea, Facts, GatherContext } from "./types.js";

type AreaFacts = { [A in FactArea]: Facts[A] };

interface AreaGatherer<A extends FactArea> {
  empty(): AreaFacts[A];
  gather: (target: Target, ctx: GatherContext) => Promise<AreaFacts[A]>;
}

/** The explicit registry of areas, in the order the snapshot lists them. */
export const areaGatherers: { [A in FactArea]: AreaGatherer<A> } = {
  disk: { empty: emptyDiskFacts, gather: gatherDisk },
  boot: { empty: emptyBootFacts, gather: gatherBoot },
  vpn: { empty: emptyVpnFacts, gather: gatherVpn },
  usb: { empty: emptyUsbFacts, gather: gatherUsb },
  apps: { empty: emptyAppsFacts, gather: gatherApps },
  services: { empty: emptyServicesFacts, gather: gatherServices },
  accounts: { empty: emptyAccountsFacts, gather: gatherAccounts },
  network: { empty: emptyNetworkFacts, gather: gatherNetwork },
  updates: { empty: emptyUpdatesFacts, gather: gatherUpdates },
  logging: { empty: emptyLoggingFacts, gather: gatherLogging },
  data: { empty: emptyDataFacts, gather: gatherData },
};

export const factAreas = Object.keys(areaGatherers) as FactArea[];

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Gather a complete facts snapshot from a target. Never throws for a failing area; a
 * missing tool (MissingToolError) is recorded too, with the package to install.
 *
 * @param options.areas gather only these areas (the others keep empty defaults).
 */
export async function gatherFacts(
  target: Target,
  ctx: Partial<GatherContext> = {},
  options: { areas?: FactArea[] } = {},
): Promise<Facts> {
  const context: GatherContext = { profile: ctx.profile ?? null, now: ctx.now ?? new Date() };
  const gatherErrors: Facts["gatherErrors"] = [];
  const wanted = new Set(options.areas ?? factAreas);

  async function one<A extends FactArea>(area: A): Promise<AreaFacts[A]> {
    const entry = areaGatherers[area] as AreaGatherer<A>;
    if (!wanted.has(area)) return entry.empty();
    try {
      return await entry.gather(target, context);
    } catch (error) {
      gatherErrors.push({ area, message: errorMessage(error) });
      return entry.empty();
    }
  }

  // Only for full snapshots: the planner compares bytes; a partial one is never planned on.
  // It reads its own files, so it runs beside the areas.
  const managed =
    options.areas === undefined
      ? gatherManagedFiles(target, context.profile).catch(() => undefined)
      : Promise.resolve(undefined);
  // Areas read different files; running them side by side overlaps the waits on tools.
  const [host, disk, boot, vpn, usb, apps, services, accounts, network, updates, logging, data] =
    await Promise.all([
      gatherHost(target).catch(() => ({
        hostname: "unknown",
        machineId: null,
        serialNumber: null,
      })),
      one("disk"),
      one("boot"),
      one("vpn"),
      one("usb"),
      one("apps"),
      one("services"),
      one("accounts"),
      one("network"),
      one("updates"),
      one("logging"),
      one("data"),
    ]);
  gatherErrors.sort((a, b) => factAreas.indexOf(a.area) - factAreas.indexOf(b.area));
  const managedFiles = await managed;
  return {
    schema: "koffer/facts/v1",
    gatheredAt: context.now.toISOString(),
    tool: { name: "koffer", version: version() },
    target: { kind: target.kind, hostname: host.hostname, location: target.location },
    host,
    disk,
    boot,
    vpn,
    usb,
    apps,
    services,
    accounts,
    network,
    updates,
    logging,
    data,
    gatherErrors,
    ...(managedFiles === undefined ? {} : { managedFiles }),
  };
}
