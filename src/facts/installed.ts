/**
 * "Is package X installed on the target?" from its dpkg status database (only `ii`
 * counts), read once per target and shared by the gatherers that need it.
 */
import type { Target } from "../targets/types.js";
import { dpkgStatusMaxBytes, installedPackages, parseDpkgStatus } from "./parsers/dpkg.js";

const cache = new WeakMap<Target, Promise<Set<string>>>();

export function installedSet(target: Target): Promise<Set<string>> {
  let entry = cache.get(target);
  if (!entry) {
    entry = target
      .readText("/var/lib/dpkg/status", { maxBytes: dpkgStatusMaxBytes })
      .then((text) => new Set(installedPackages(parseDpkgStatus(text ?? "")).map((p) => p.name)));
    cache.set(target, entry);
  }
  return entry;
}
