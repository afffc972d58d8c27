/**
 * Which strongSwan plugins take effect: the packages installed (dpkg status), the shared
 * objects in the plugin directory, and the `load` settings of strongswan.conf and
 * strongswan.d. charon-systemd reads its own section and falls back to `charon`. With
 * `load_modular = yes` (Debian's default) a plugin is loaded unless its section says
 * `load = no`; otherwise an explicit `load` list names the plugins.
 */
import type { Target } from "../targets/types.js";
import { installedPackages } from "./parsers/dpkg.js";
import { dpkgPackages } from "./installed.js";
import { parseSwanctlFile, swanctlList } from "./swanctl.js";
import type { StrongswanPlugins, SwanctlSection } from "./types.js";

export const pluginDirs = ["/usr/lib/ipsec/plugins", "/usr/lib/x86_64-linux-gnu/ipsec/plugins"];
const daemons = ["charon-systemd", "charon"];

/** A strongSwan package by name: the libraries, plugins and daemons. */
function isStrongswanPackage(name: string): boolean {
  return /^(libstrongswan|libcharon|strongswan|charon)/.test(name);
}

function section(tree: SwanctlSection, path: string[]): SwanctlSection | null {
  let node: SwanctlSection = tree;
  for (const key of path) {
    const next = node[key];
    if (typeof next !== "object" || next === null) return null;
    node = next;
  }
  return node;
}

/** A setting as charon-systemd sees it: its own section first, then `charon`. */
function setting(tree: SwanctlSection, path: string[]): { value: string; key: string } | null {
  for (const daemon of daemons) {
    const parent = section(tree, [daemon, ...path.slice(0, -1)]);
    const value = parent?.[path[path.length - 1] as string];
    if (typeof value === "string") return { value, key: [daemon, ...path].join(".") };
  }
  return null;
}

function truthy(value: string): boolean {
  const v = value.trim().toLowerCase();
  if (/^-?\d+$/.test(v)) return Number(v) !== 0;
  return ["yes", "true", "enabled", "y", "1"].includes(v);
}

/** Decide per plugin from the parsed strongswan.conf tree (pure). */
export function pluginLoadState(
  tree: SwanctlSection,
  names: string[],
  conf: string,
): StrongswanPlugins["plugins"] {
  const modular = setting(tree, ["load_modular"]);
  const list = setting(tree, ["load"]);
  return names.map((name) => {
    if ((modular === null || !truthy(modular.value)) && list !== null) {
      const listed = swanctlList(list.value).map((p) => p.replace(/!$/, ""));
      return { name, loaded: listed.includes(name), source: `${conf}: ${list.key}` };
    }
    const load = setting(tree, ["plugins", name, "load"]);
    if (load === null) return { name, loaded: true, source: `${conf}: (no load setting)` };
    return { name, loaded: truthy(load.value), source: `${conf}: ${load.key} = ${load.value}` };
  });
}

/** Gather the strongSwan plugin facts, or null when no strongSwan package is installed. */
export async function gatherStrongswanPlugins(target: Target): Promise<StrongswanPlugins | null> {
  const packages = installedPackages((await dpkgPackages(target)) ?? [])
    .filter((p) => isStrongswanPackage(p.name))
    .map((p) => ({ name: p.name, version: p.version }))
    .sort((a, b) => a.name.localeCompare(b.name));
  if (packages.length === 0) return null;
  const names = new Set<string>();
  for (const dir of pluginDirs)
    for (const file of (await target.readDir(dir)) ?? []) {
      const m = /^libstrongswan-(.+)\.so$/.exec(file);
      if (m) names.add(m[1] as string);
    }
  const conf = "/etc/strongswan.conf";
  const tree =
    (await target.stat(conf)) === null ? {} : (await parseSwanctlFile(conf, target)).tree;
  return { packages, plugins: pluginLoadState(tree, [...names].sort(), conf) };
}
