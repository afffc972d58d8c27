/**
 * Services: unit-file states with the real `systemctl --root DIR is-enabled`, so systemd's
 * own rules (aliases, [Install] sections, masks, presets in /etc vs /usr/lib) decide, and
 * `SYSTEMCTL_SKIP_SYSV=1` so no SysV script of the target is ever executed. On a live
 * target, `systemctl is-active` adds the running state.
 */
import type { Target } from "../targets/types.js";
import type { GatherContext, Live, ServicesFacts, UnitState } from "./types.js";

/** Units whose state some control reads (NET-02, USB-01, DISK-06, LOG-*, UPD-* …). */
export const unitsOfInterest: readonly string[] = [
  "ssh.service",
  "ssh.socket",
  "sshd.service",
  "telnet.socket",
  "rsh.socket",
  "usbguard.service",
  "koffer-tpm2-enrol.service",
  "nftables.service",
  "auditd.service",
  // Debian 13: loads the audit rules; auditd.service requires it (src/platform/releases.ts).
  "audit-rules.service",
  "apparmor.service",
  "bluetooth.service",
  "avahi-daemon.service",
  "avahi-daemon.socket",
  "smbd.service",
  "nmbd.service",
  "cups.service",
  "cups.socket",
  "cups-browsed.service",
  "xrdp.service",
  "x11vnc.service",
  "vncserver@.service",
  "strongswan.service",
  "strongswan-starter.service",
  "wg-quick@*",
  "openvpn.service",
  "openvpn@*",
  "openvpn-client@*",
  "systemd-timesyncd.service",
  // VPN-07: resolved.conf(.d) is read only by a running systemd-resolved.
  "systemd-resolved.service",
  "chrony.service",
  "chronyd.service",
  "unattended-upgrades.service",
  "apt-daily-upgrade.timer",
  "apt-daily.timer",
  "tmp.mount",
  "var-tmp.mount",
  "home.mount",
  "systemd-journal-upload.service",
  "rsyslog.service",
  "pcscd.socket",
  "pcscd.service",
  "fwupd-refresh.timer",
  "hibernate.target",
  "hybrid-sleep.target",
  "suspend-then-hibernate.target",
  "gdm.service",
  "gdm3.service",
  "lightdm.service",
  "sddm.service",
  "NetworkManager.service",
  "ModemManager.service",
];

const unitStates = new Set<UnitState>([
  "enabled",
  "enabled-runtime",
  "linked",
  "alias",
  "masked",
  "masked-runtime",
  "static",
  "indirect",
  "disabled",
  "generated",
  "transient",
  "bad",
  "not-found",
]);

export function emptyServicesFacts(): ServicesFacts {
  return { unitFiles: {}, active: { available: false, reason: "not gathered" } };
}

/** A unit name without a type gets ".service", as systemctl assumes. */
export function normaliseUnit(name: string): string {
  return /\.(service|socket|target|timer|mount|path|device|swap|slice|scope|automount)$/.test(name)
    ? name
    : `${name}.service`;
}

/** The directories a pattern is expanded in (enabled instances live in their `*.wants/`). */
const patternBases = ["/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"];

/** Directory listings of one gather, each read once and all at once (a round trip each over ssh). */
class Listings {
  private readonly cache = new Map<string, Promise<string[]>>();
  constructor(private readonly target: Target) {}
  get(dir: string): Promise<string[]> {
    let names = this.cache.get(dir);
    if (names === undefined) {
      names = this.target.readDir(dir).then((n) => n ?? []);
      this.cache.set(dir, names);
    }
    return names;
  }
}

/**
 * Instances of a template pattern such as `wg-quick@*` that the target's unit
 * directories mention (enabled instances live as symlinks in `*.wants/`), plus the
 * template itself, so an installed-but-unused template is still reported.
 */
async function expandPattern(listings: Listings, pattern: string): Promise<string[]> {
  const prefix = pattern.slice(0, pattern.indexOf("*"));
  const found = new Set<string>([`${prefix}.service`]);
  const matches = (name: string) => name.startsWith(prefix) && name.endsWith(".service");
  await Promise.all(
    patternBases.map(async (base) => {
      const names = await listings.get(base);
      const inner = await Promise.all(
        names
          .filter((name) => /\.(wants|requires)$/.test(name))
          .map((name) => listings.get(`${base}/${name}`)),
      );
      for (const name of [...names, ...inner.flat()]) if (matches(name)) found.add(name);
    }),
  );
  return [...found].sort();
}

/** The list of units to ask about: the fixed list, the profile's device services, patterns expanded. */
async function unitsToQuery(listings: Listings, ctx: GatherContext): Promise<string[]> {
  const wanted = [...unitsOfInterest];
  for (const device of ctx.profile?.spec.devices.allow ?? [])
    wanted.push(...(device.services ?? []));
  const expanded = new Map(
    await Promise.all(
      wanted
        .filter((unit) => unit.includes("*"))
        .map(async (unit) => [unit, await expandPattern(listings, unit)] as const),
    ),
  );
  const out = new Set<string>();
  for (const unit of wanted) {
    if (unit.includes("*")) for (const u of expanded.get(unit) ?? []) out.add(u);
    else out.add(normaliseUnit(unit));
  }
  return [...out];
}

/**
 * Parse what `systemctl is-enabled U1 U2 …` printed. systemd prints one state per unit
 * on stdout, but stops at the first unit it cannot find (stderr "Failed to get unit file
 * state for U: No such file or directory"): the states printed belong to the first units,
 * in order. Returns the states read and whether the next unit was reported missing.
 */
export function parseIsEnabled(
  stdout: string,
  stderr: string,
): { states: UnitState[]; stoppedAtMissing: boolean } {
  const states = stdout
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "")
    .map((l) => (unitStates.has(l as UnitState) ? (l as UnitState) : "bad"));
  // "Link has been severed" (ENOLINK): an alias whose unit file is gone, e.g. sshd.service
  // after openssh-server was purged — systemd cannot load it, so it does not exist.
  const stoppedAtMissing =
    /No such file or directory|not found|does not exist|Link has been severed/i.test(stderr);
  return { states, stoppedAtMissing };
}

/**
 * Every directory systemd reads unit files from (lookup_paths_init for the system manager;
 * `systemctl --root` reads the same ones below the root): a unit found in none of them is
 * one `systemctl is-enabled` reports as not found.
 */
export const unitDirs: readonly string[] = [
  "/etc/systemd/system.control",
  "/run/systemd/system.control",
  "/run/systemd/transient",
  "/run/systemd/generator.early",
  "/etc/systemd/system",
  "/etc/systemd/system.attached",
  "/run/systemd/system",
  "/run/systemd/system.attached",
  "/run/systemd/generator",
  "/usr/local/lib/systemd/system",
  "/usr/lib/systemd/system",
  "/lib/systemd/system",
  "/run/systemd/generator.late",
];

/** A unit file, its template (`name@.service` for `name@x.service`) or a link to it exists. */
function unitFileExists(present: ReadonlySet<string>, unit: string): boolean {
  if (present.has(unit)) return true;
  const at = unit.indexOf("@");
  return at > 0 && present.has(`${unit.slice(0, at + 1)}${unit.slice(unit.lastIndexOf("."))}`);
}

/**
 * `systemctl [--root DIR] is-enabled` for each unit, robust to systemd stopping at a missing
 * one. Asking systemctl about a unit it cannot find costs one process each (it stops at the
 * first missing unit; over ssh a round trip and a sudo each), so units with no file in any
 * directory systemd reads are answered here, as it would: one systemctl for the rest.
 */
async function unitFileStates(
  target: Target,
  units: string[],
  listings: Listings,
): Promise<Record<string, UnitState>> {
  const result: Record<string, UnitState> = {};
  const rootArgs: string[] = [];
  if (target.kind === "root") {
    const root = target.hostPath("/");
    if (root !== null) rootArgs.push(`--root=${root}`);
  }
  const present = new Set((await Promise.all(unitDirs.map((dir) => listings.get(dir)))).flat());
  let rest: string[] = [];
  for (const unit of units) {
    if (unitFileExists(present, unit)) rest.push(unit);
    else result[unit] = "not-found";
  }
  while (rest.length > 0) {
    const r = await target.exec("systemctl", [...rootArgs, "is-enabled", "--", ...rest], {
      env: { SYSTEMCTL_SKIP_SYSV: "1" },
      timeoutMs: 60_000,
    });
    const { states, stoppedAtMissing } = parseIsEnabled(r.stdout, r.stderr);
    states.slice(0, rest.length).forEach((state, i) => (result[rest[i] as string] = state));
    if (states.length >= rest.length) break;
    const failed = rest[states.length] as string;
    const perUnit = /Failed to get unit file state for/i.test(r.stderr);
    if (!stoppedAtMissing && !perUnit && states.length === 0) {
      // Neither a state nor a "missing unit" message: systemctl itself failed.
      throw new Error(`systemctl is-enabled failed: ${r.stderr.trim() || `exit ${r.exitCode}`}`);
    }
    result[failed] = stoppedAtMissing ? "not-found" : "bad";
    rest = rest.slice(states.length + 1);
  }
  return result;
}

async function activeStates(
  target: Target,
  units: string[],
): Promise<Live<Record<string, string>>> {
  if (!target.live) {
    return { available: false, reason: "an offline root runs no services" };
  }
  // is-active prints one line per unit, including "inactive" for unknown units.
  const r = await target.exec("systemctl", ["is-active", "--", ...units], { timeoutMs: 60_000 });
  const lines = r.stdout.split("\n").filter((l) => l.trim() !== "");
  if (lines.length !== units.length) {
    return {
      available: false,
      reason: `systemctl is-active gave ${lines.length} answers for ${units.length} units: ${r.stderr.trim()}`,
    };
  }
  const value: Record<string, string> = {};
  units.forEach((u, i) => (value[u] = (lines[i] as string).trim()));
  return { available: true, value, source: "systemctl is-active" };
}

/** Gather the services area. */
export async function gatherServices(target: Target, ctx: GatherContext): Promise<ServicesFacts> {
  const listings = new Listings(target);
  const units = await unitsToQuery(listings, ctx);
  return {
    unitFiles: await unitFileStates(target, units, listings),
    active: await activeStates(
      target,
      units.filter((u) => !u.endsWith("@.service")),
    ),
  };
}
