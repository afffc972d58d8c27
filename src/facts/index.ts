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
import type {
  AccountsFacts,
  AppsFacts,
  DataFacts,
  FactArea,
  Facts,
  GatherContext,
  LoggingFacts,
  NetworkFacts,
  UpdatesFacts,
  UsbFacts,
  VpnFacts,
} from "./types.js";

type AreaFacts = { [A in FactArea]: Facts[A] };

interface AreaGatherer<A extends FactArea> {
  empty(): AreaFacts[A];
  gather?: (target: Target, ctx: GatherContext) => Promise<AreaFacts[A]>;
}

const notGathered = { available: false as const, reason: "not gathered" };

// Areas whose gatherer is not part of this build yet keep their empty defaults.
const pendingVpn = (): VpnFacts => ({
  strongswanInstalled: false,
  swanctl: { files: [], connections: [], parseErrors: [] },
  legacyIpsec: [],
  certificates: [],
  caCertificates: [],
  privateKeys: [],
  otherTunnels: [],
  csrs: [],
});
const pendingUsb = (): UsbFacts => ({
  usbguardInstalled: false,
  daemonConf: {},
  rules: [],
  ruleErrors: [],
  modprobeBlocked: [],
  attached: notGathered,
});
const pendingApps = (): AppsFacts => ({
  packages: [],
  desktopEntries: [],
  aptSources: [],
  apparmor: { kernelEnabled: notGathered, profilesEnforced: notGathered },
  caCertificatesConf: null,
  browserPolicies: [],
});
const pendingAccounts = (): AccountsFacts => ({
  passwd: [],
  shadow: [],
  groups: [],
  sudoRules: [],
  sudoDefaults: [],
  loginDefs: {},
  pwquality: {},
  faillock: {},
  pamModules: {},
  autologin: [],
  dconf: { profileUserHasSystemDb: false, keys: {}, locks: [] },
});
const pendingNetwork = (): NetworkFacts => ({
  nftables: { chains: [], source: "", parseErrors: [] },
  listeners: notGathered,
  sshd: {},
  resolvConf: null,
  resolved: {},
  networkManager: [],
  rfkill: notGathered,
});
const pendingUpdates = (): UpdatesFacts => ({
  osRelease: {},
  aptConf: {},
  unattendedUpgradesOrigins: [],
  fwupd: notGathered,
});
const pendingLogging = (): LoggingFacts => ({
  auditRules: [],
  journald: {},
  journalDir: null,
  timesyncd: {},
  chrony: null,
  timeSynchronized: notGathered,
  rsyslogForwarding: [],
});
const pendingData = (): DataFacts => ({
  sysctl: {},
  sysctlLive: notGathered,
  coredump: {},
  coreLimits: [],
  cupsd: {},
  cupsdListen: [],
  captureFiles: [],
  mounts: notGathered,
});

/** The explicit registry of areas, in the order the snapshot lists them. */
export const areaGatherers: { [A in FactArea]: AreaGatherer<A> } = {
  disk: { empty: emptyDiskFacts, gather: gatherDisk },
  boot: { empty: emptyBootFacts, gather: gatherBoot },
  vpn: { empty: pendingVpn },
  usb: { empty: pendingUsb },
  apps: { empty: pendingApps },
  services: { empty: emptyServicesFacts, gather: gatherServices },
  accounts: { empty: pendingAccounts },
  network: { empty: pendingNetwork },
  updates: { empty: pendingUpdates },
  logging: { empty: pendingLogging },
  data: { empty: pendingData },
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
    if (!entry.gather || !wanted.has(area)) return entry.empty();
    try {
      return await entry.gather(target, context);
    } catch (error) {
      gatherErrors.push({ area, message: errorMessage(error) });
      return entry.empty();
    }
  }

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
  };
}
