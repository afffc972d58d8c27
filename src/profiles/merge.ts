/**
 * Merging a profile with the profiles it extends.
 *
 * `extends` lists `koffer:baseline` and/or paths relative to the extending file. The
 * chain is flattened depth-first, parents before children, each file once (a file
 * reached twice keeps its first place), and merged in that order, the extending file last:
 *
 * - mappings merge key by key, recursively;
 * - scalars replace: the later file wins;
 * - lists replace as a whole, except:
 *   - `spec.apps.deny` is the union of all files: a municipality cannot take a package
 *     off the baseline's deny list (it needs a waiver for APP-02 instead);
 *   - `spec.devices.allow` is the union, keyed by `name`: a device of the same name
 *     replaces the inherited entry, so a district profile can list the standard kit
 *     and each town add its printer;
 *   - `waivers` and `spec.attestations` are unions keyed by `control`: the later file
 *     replaces an inherited waiver or attestation of the same control;
 * - `extends` itself is not inherited.
 *
 * Every value remembers which file it came from (`origins`), so a problem found in the
 * merged profile is reported at that file's line and column.
 */
import { pointer, type PathSegment } from "./source.js";

/** Where a merged value came from: the layer (index in merge order) and its path there. */
export interface Origin {
  layer: number;
  path: PathSegment[];
}

export type Origins = Map<string, Origin>;

const unionLists: Record<string, string | null> = {
  "/spec/apps/deny": null,
  "/spec/devices/allow": "name",
  "/waivers": "control",
  "/spec/attestations": "control",
};

/** Merge `layers` (already in merge order) into one document, recording origins. */
export function mergeLayers(layers: unknown[]): {
  merged: Record<string, unknown>;
  origins: Origins;
} {
  const origins: Origins = new Map();
  let merged: unknown = {};
  origins.set("", { layer: 0, path: [] });
  layers.forEach((layer, index) => {
    if (!isPlainObject(layer)) return;
    const { extends: _ignored, ...rest } = layer;
    merged = mergeValue(merged, rest, index, [], [], origins);
  });
  return { merged: merged as Record<string, unknown>, origins };
}

function mergeValue(
  base: unknown,
  over: unknown,
  layer: number,
  at: PathSegment[],
  src: PathSegment[],
  origins: Origins,
): unknown {
  const ptr = pointer(at);
  if (isPlainObject(base) && isPlainObject(over)) {
    const result: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(over)) {
      result[key] =
        key in base
          ? mergeValue(base[key], value, layer, [...at, key], [...src, key], origins)
          : record(value, layer, [...at, key], [...src, key], origins);
    }
    origins.set(ptr, { layer, path: src });
    return result;
  }
  if (ptr in unionLists && Array.isArray(base) && Array.isArray(over)) {
    const key = unionLists[ptr]!;
    const result = [...base];
    over.forEach((item, i) => {
      const existing =
        key === null
          ? result.findIndex((b) => b === item)
          : result.findIndex(
              (b) => isPlainObject(b) && isPlainObject(item) && b[key] === item[key],
            );
      const index = existing === -1 ? result.length : existing;
      result[index] = record(item, layer, [...at, index], [...src, i], origins);
    });
    origins.set(ptr, { layer, path: src });
    return result;
  }
  return record(over, layer, at, src, origins, true);
}

/** Take `value` whole from `layer`: it and everything below it come from there. */
function record(
  value: unknown,
  layer: number,
  at: PathSegment[],
  src: PathSegment[],
  origins: Origins,
  replacing = false,
): unknown {
  if (replacing) {
    // Forget where the replaced value's children came from: they are gone.
    const prefix = pointer(at) + "/";
    for (const key of [...origins.keys()]) if (key.startsWith(prefix)) origins.delete(key);
  }
  const walk = (v: unknown, a: PathSegment[], s: PathSegment[]): void => {
    origins.set(pointer(a), { layer, path: s });
    if (Array.isArray(v)) v.forEach((item, i) => walk(item, [...a, i], [...s, i]));
    else if (isPlainObject(v))
      for (const [k, item] of Object.entries(v)) walk(item, [...a, k], [...s, k]);
  };
  walk(value, at, src);
  return structuredClone(value);
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/**
 * Entries of the baseline's deny list that yield to an explicit opt-in: `openssh-server`
 * leaves the deny list when the profile sets `spec.network.ssh: true` (NET-03 then judges
 * the server; provision installs and hardens it). Only the baseline's entry yields — a
 * profile that denies the package itself and sets `ssh: true` still contradicts itself.
 */
export const yieldingDenials: Readonly<Record<string, readonly string[]>> = {
  "openssh-server": ["spec", "network", "ssh"],
};

/** Apply {@link yieldingDenials} to a merged document, in place. */
export function applyYieldingDenials(
  merged: Record<string, unknown>,
  ownLayers: readonly unknown[],
): void {
  const at = (doc: unknown, path: readonly string[]): unknown =>
    path.reduce<unknown>((v, k) => (isPlainObject(v) ? v[k] : undefined), doc);
  const deny = at(merged, ["spec", "apps", "deny"]);
  if (!Array.isArray(deny)) return;
  const kept = deny.filter((pkg) => {
    const optIn = typeof pkg === "string" ? yieldingDenials[pkg] : undefined;
    if (optIn === undefined || at(merged, optIn) !== true) return true;
    return ownLayers.some((layer) => {
      const own = at(layer, ["spec", "apps", "deny"]);
      return Array.isArray(own) && own.includes(pkg);
    });
  });
  (at(merged, ["spec", "apps"]) as Record<string, unknown>).deny = kept;
}
