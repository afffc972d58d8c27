/**
 * Apps: the dpkg database (every package with its status; only `ii` counts as installed),
 * desktop entries with their owning package, APT sources, AppArmor, the CA set and
 * browser enterprise policies.
 */
import type { Target } from "../targets/types.js";
import type { AppsFacts, AptSource, DesktopEntry, GatherContext, Live } from "./types.js";
import { parseDeb822Sources, parseOneLineSources } from "./parsers/apt-sources.js";
import { compareC, joinPath } from "./parsers/common.js";
import { parseDesktopEntry } from "./parsers/desktop-entry.js";
import { indexFileList, packageOfListFile } from "./parsers/dpkg.js";
import { dpkgPackages } from "./installed.js";
import { parseCaCertificatesConf } from "./parsers/keyvalue.js";
import { liveValue, offlineReason } from "./parsers/live.js";
import { mapOrdered } from "./in-flight.js";

/**
 * Where a GNOME session looks for applications, highest precedence first: its
 * XDG_DATA_DIRS on Debian 12 (/usr/share/gnome, /usr/local/share, /usr/share, then
 * flatpak's exports). An entry with the same desktop-file id in an earlier directory
 * hides the later one — this is how an override with `Hidden=true` removes an application.
 */
export const desktopEntryDirs = [
  "/usr/share/gnome/applications",
  "/usr/local/share/applications",
  "/usr/share/applications",
  "/var/lib/flatpak/exports/share/applications",
];

/** Where Firefox (ESR) and Chromium look for enterprise policies. */
export const browserPolicyFiles = [
  "/etc/firefox/policies/policies.json",
  "/etc/firefox-esr/policies/policies.json",
  "/usr/lib/firefox-esr/distribution/policies.json",
  "/usr/lib/firefox/distribution/policies.json",
];
export const browserPolicyDirs = [
  "/etc/chromium/policies/managed",
  "/etc/opt/chrome/policies/managed",
];

export function emptyAppsFacts(): AppsFacts {
  return {
    packages: [],
    desktopEntries: [],
    aptSources: [],
    apparmor: {
      kernelEnabled: { available: false, reason: "not gathered" },
      profilesEnforced: { available: false, reason: "not gathered" },
    },
    caCertificatesConf: null,
    browserPolicies: [],
  };
}

/** Path → package for the given paths only (dpkg's *.list files are large; keep what is asked). */
async function owners(target: Target, wanted: Set<string>): Promise<Map<string, string>> {
  const index = new Map<string, string>();
  if (wanted.size === 0) return index;
  const infoDir = "/var/lib/dpkg/info";
  const lists = ((await target.readDir(infoDir)) ?? []).sort(compareC).flatMap((name) => {
    const pkg = packageOfListFile(name);
    return pkg === null ? [] : [{ name, pkg }];
  });
  const texts = await mapOrdered(lists, async ({ name }) => {
    const text = await target.readText(joinPath(infoDir, name));
    // Keep only the wanted lines while the next files are read.
    return text
      ?.split("\n")
      .filter((p) => wanted.has(p))
      .join("\n");
  });
  lists.forEach(({ pkg }, i) => {
    const relevant = texts[i];
    if (relevant !== undefined) indexFileList(index, pkg, relevant);
  });
  return index;
}

async function desktopEntries(target: Target): Promise<DesktopEntry[]> {
  const paths: string[] = [];
  for (const dir of desktopEntryDirs) {
    for (const name of ((await target.readDir(dir)) ?? []).sort(compareC)) {
      if (name.endsWith(".desktop")) paths.push(joinPath(dir, name));
    }
  }
  const found = (
    await mapOrdered(paths, async (path) => ({
      path,
      text: await target.readText(path),
    }))
  ).flatMap((f) => (f.text === null ? [] : [{ path: f.path, text: f.text }]));
  const index = await owners(target, new Set(found.map((f) => f.path)));
  const winner = new Map<string, string>();
  return found.map(({ path, text }) => {
    const e = parseDesktopEntry(text);
    const id = path.slice(path.lastIndexOf("/") + 1);
    const first = winner.get(id);
    if (first === undefined) winner.set(id, path);
    return {
      path,
      name: e.name,
      exec: e.exec,
      noDisplay: e.noDisplay,
      hidden: e.hidden,
      package: index.get(path) ?? null,
      ...(first === undefined ? {} : { shadowedBy: first }),
    };
  });
}

async function aptSources(target: Target): Promise<AptSource[]> {
  const out: AptSource[] = [];
  const main = await target.readText("/etc/apt/sources.list");
  if (main !== null) out.push(...parseOneLineSources(main, "/etc/apt/sources.list"));
  const dir = "/etc/apt/sources.list.d";
  for (const name of ((await target.readDir(dir)) ?? []).sort(compareC)) {
    const path = joinPath(dir, name);
    if (name.endsWith(".list")) {
      const text = await target.readText(path);
      if (text !== null) out.push(...parseOneLineSources(text, path));
    } else if (name.endsWith(".sources")) {
      const text = await target.readText(path);
      if (text !== null) out.push(...parseDeb822Sources(text, path));
    }
  }
  return out;
}

async function browserPolicies(target: Target): Promise<AppsFacts["browserPolicies"]> {
  const paths = [...browserPolicyFiles];
  for (const dir of browserPolicyDirs) {
    for (const name of ((await target.readDir(dir)) ?? []).sort(compareC)) {
      if (name.endsWith(".json")) paths.push(joinPath(dir, name));
    }
  }
  const out: AppsFacts["browserPolicies"] = [];
  for (const path of paths) {
    const text = await target.readText(path);
    if (text === null) continue;
    try {
      out.push({ path, policies: JSON.parse(text) as unknown });
    } catch (error) {
      // A browser ignores an unparsable policy file, so it enforces nothing; say so.
      out.push({ path, policies: { parseError: (error as Error).message } });
    }
  }
  return out;
}

async function apparmor(target: Target): Promise<AppsFacts["apparmor"]> {
  const enabledPath = "/sys/module/apparmor/parameters/enabled";
  const kernelEnabled: Live<boolean> = await liveValue(target, enabledPath, async () => {
    const text = await target.readText(enabledPath);
    if (text === null) return false; // module absent: AppArmor is not in the kernel
    return text.trim() === "Y";
  });
  const profilesPath = "/sys/kernel/security/apparmor/profiles";
  const profilesEnforced: Live<number> = target.live
    ? await liveValue(target, profilesPath, async () => {
        const text = await target.readText(profilesPath);
        if (text === null)
          return {
            unavailable: `${profilesPath} is not readable (securityfs not mounted or not root)`,
          };
        return text.split("\n").filter((l) => l.trim().endsWith("(enforce)")).length;
      })
    : { available: false, reason: offlineReason };
  return { kernelEnabled, profilesEnforced };
}

/** Gather the apps area from a target. */
export async function gatherApps(target: Target, _ctx: GatherContext): Promise<AppsFacts> {
  const packages = await dpkgPackages(target);
  const ca = await target.readText("/etc/ca-certificates.conf");
  return {
    packages: packages ?? [],
    desktopEntries: await desktopEntries(target),
    aptSources: await aptSources(target),
    apparmor: await apparmor(target),
    caCertificatesConf: ca === null ? null : parseCaCertificatesConf(ca),
    browserPolicies: await browserPolicies(target),
  };
}
