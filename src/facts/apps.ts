/**
 * Apps: the dpkg database (every package with its status; only `ii` counts as installed),
 * desktop entries with their owning package, APT sources, AppArmor, the CA set and
 * browser enterprise policies.
 */
import type { Target } from "../targets/types.js";
import type { AppsFacts, AptSource, DesktopEntry, GatherContext, Live, Setting } from "./types.js";
import { aptSourcePart, parseDeb822Sources, parseOneLineSources } from "./parsers/apt-sources.js";
import { readAptConf } from "./parsers/apt-conf.js";
import { compareC, joinPath } from "./parsers/common.js";
import { execProgram, parseDesktopEntry } from "./parsers/desktop-entry.js";
import { indexFileList, packageOfListFile } from "./parsers/dpkg.js";
import { dpkgPackages } from "./installed.js";
import { parseCaCertificatesConf } from "./parsers/keyvalue.js";
import { liveValue, offlineReason } from "./parsers/live.js";
import { mapOrdered } from "./in-flight.js";

/**
 * Where a GNOME session looks for applications, highest precedence first: its
 * XDG_DATA_DIRS on Debian 12. gnome-session starts the session from a login shell, whose
 * /etc/profile.d/gnome-session_gnomerc.sh prepends /usr/share/gnome to the default
 * /usr/local/share:/usr/share; flatpak's exports come in only where flatpak is installed
 * (its profile.d script runs `command -v flatpak` and then PREPENDS them, so they outrank
 * /usr/local/share). An entry with the same desktop-file id in an earlier directory hides the
 * later one — this is how an override with `Hidden=true` removes an application.
 */
export function desktopEntryDirs(flatpak: boolean): string[] {
  return [
    "/usr/share/gnome/applications",
    ...(flatpak ? [flatpakExports] : []),
    "/usr/local/share/applications",
    "/usr/share/applications",
  ];
}
const flatpakExports = "/var/lib/flatpak/exports/share/applications";
/** The PATH of a user's login shell (/etc/profile): where GLib looks for an entry's program. */
export const sessionPath = ["/usr/local/bin", "/usr/bin", "/bin", "/usr/local/games", "/usr/games"];

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

/** Is `program` an executable file, looked up along the session's PATH unless absolute? */
async function findProgram(target: Target, program: string): Promise<boolean> {
  const candidates = program.includes("/")
    ? [program.startsWith("/") ? program : joinPath("/", program)]
    : sessionPath.map((dir) => joinPath(dir, program));
  for (const path of candidates) {
    const st = await target.stat(path);
    if (st !== null && st.type === "file" && (st.mode & 0o111) !== 0) return true;
  }
  return false;
}

/**
 * Why GLib's g_app_info_get_all()/g_app_info_should_show(), which GNOME Shell lists its
 * applications with, leaves a loaded entry out in a GNOME session (XDG_CURRENT_DESKTOP=GNOME);
 * undefined when it is listed (NoDisplay and Hidden are judged by the caller).
 */
async function notShown(
  target: Target,
  e: ReturnType<typeof parseDesktopEntry>,
): Promise<string | undefined> {
  if (e.type !== "Application") return `Type=${e.type ?? "(none)"} is not an application`;
  if (e.tryExec !== null && !(await findProgram(target, e.tryExec)))
    return `TryExec=${e.tryExec} not found`;
  const program = e.exec === null ? null : execProgram(e.exec);
  if (program !== null && !(await findProgram(target, program)))
    return `program ${program} of Exec= not found`;
  if (e.notShowIn?.includes("GNOME")) return "NotShowIn=GNOME";
  if (e.onlyShowIn !== null && !e.onlyShowIn.includes("GNOME"))
    return `OnlyShowIn=${e.onlyShowIn.join(";")} without GNOME`;
  return undefined;
}

async function desktopEntries(target: Target, flatpak: boolean): Promise<DesktopEntry[]> {
  const paths: string[] = [];
  for (const dir of desktopEntryDirs(flatpak)) {
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
  const out: DesktopEntry[] = [];
  for (const { path, text } of found) {
    const e = parseDesktopEntry(text);
    const id = path.slice(path.lastIndexOf("/") + 1);
    // An id found earlier masks this one even when the earlier entry does not load (GLib).
    const first = winner.get(id);
    if (first === undefined) winner.set(id, path);
    const why = e.hidden ? undefined : await notShown(target, e);
    out.push({
      path,
      name: e.name,
      exec: e.exec,
      noDisplay: e.noDisplay,
      hidden: e.hidden,
      package: index.get(path) ?? null,
      ...(first === undefined ? {} : { shadowedBy: first }),
      ...(why === undefined ? {} : { notShown: why }),
    });
  }
  return out;
}

/** apt.conf settings that switch signature checking off for every source. */
export const aptInsecureSettings = [
  "Acquire::AllowInsecureRepositories",
  "Acquire::AllowDowngradeToInsecureRepositories",
  "Acquire::AllowWeakRepositories",
  "APT::Get::AllowUnauthenticated",
];

/** A directory or file of apt's Dir:: tree: absolute as written, else under its parent. */
function aptPath(value: string | undefined, fallback: string, parent: string): string {
  const v = value === undefined || value.trim() === "" ? fallback : value.trim();
  return v.startsWith("/") ? v : joinPath(parent, v);
}

/**
 * The sources as apt reads them: Dir::Etc::sourcelist (one-line), then the parts directory
 * Dir::Etc::sourceparts in name order, only the names apt takes (`*.list` one-line, `*.sources`
 * deb822); apt.conf's global switches that turn signature checks off.
 */
async function aptSources(
  target: Target,
): Promise<
  Pick<AppsFacts, "aptSources" | "aptSourceFiles" | "aptSourcesIgnored" | "aptAuthentication">
> {
  const conf = await readAptConf(target);
  // apt's configuration names are case-insensitive.
  const find = (key: string) =>
    [...conf.values].find(([k]) => k.toLowerCase() === key.toLowerCase())?.[1];
  const get = (key: string) => find(key)?.value;
  const dir = aptPath(get("Dir"), "/", "/");
  const etc = aptPath(get("Dir::Etc"), "etc/apt", dir);
  const files: { path: string; format: "one-line" | "deb822" }[] = [
    { path: aptPath(get("Dir::Etc::sourcelist"), "sources.list", etc), format: "one-line" },
  ];
  const parts = aptPath(get("Dir::Etc::sourceparts"), "sources.list.d", etc);
  const ignored: string[] = [];
  for (const name of ((await target.readDir(parts)) ?? []).sort(compareC)) {
    const format = aptSourcePart(name);
    if (format === null) ignored.push(joinPath(parts, name));
    else files.push({ path: joinPath(parts, name), format });
  }
  const out: AptSource[] = [];
  const texts: NonNullable<AppsFacts["aptSourceFiles"]> = [];
  for (const { path, format } of files) {
    const text = await target.readText(path);
    const stat = text === null ? null : await target.stat(path);
    if (text === null || stat === null) continue;
    out.push(...(format === "deb822" ? parseDeb822Sources : parseOneLineSources)(text, path));
    texts.push({ path, format, text, mode: stat.mode & 0o7777, uid: stat.uid, gid: stat.gid });
  }
  const authentication: Record<string, Setting> = {};
  for (const key of aptInsecureSettings) {
    const value = find(key);
    if (value !== undefined) authentication[key] = value;
  }
  return {
    aptSources: out,
    aptSourceFiles: texts,
    aptSourcesIgnored: ignored,
    aptAuthentication: authentication,
  };
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
    desktopEntries: await desktopEntries(target, await findProgram(target, "/usr/bin/flatpak")),
    ...(await aptSources(target)),
    apparmor: await apparmor(target),
    caCertificatesConf: ca === null ? null : parseCaCertificatesConf(ca),
    browserPolicies: await browserPolicies(target),
  };
}
