/**
 * The target's dpkg status database, read and parsed once per target and shared by the
 * gatherers that need it (apps lists every package; services, vpn … ask "is X installed?",
 * where only `ii` counts). It is the largest file a gather reads (0.7 MB on a desktop).
 */
import type { Target } from "../targets/types.js";
import type { PackageFact } from "./types.js";
import { dpkgStatusMaxBytes, installedPackages, parseDpkgStatus } from "./parsers/dpkg.js";

const parsed = new WeakMap<Target, Promise<PackageFact[] | null>>();
const cache = new WeakMap<Target, Promise<Set<string>>>();

/** Every package of the status database (null when the target has none). */
export function dpkgPackages(target: Target): Promise<PackageFact[] | null> {
  let entry = parsed.get(target);
  if (!entry) {
    entry = target
      .readText("/var/lib/dpkg/status", { maxBytes: dpkgStatusMaxBytes })
      .then((text) => (text === null ? null : parseDpkgStatus(text)));
    parsed.set(target, entry);
  }
  return entry;
}

export function installedSet(target: Target): Promise<Set<string>> {
  let entry = cache.get(target);
  if (!entry) {
    entry = dpkgPackages(target).then(
      (packages) => new Set(installedPackages(packages ?? []).map((p) => p.name)),
    );
    cache.set(target, entry);
  }
  return entry;
}
