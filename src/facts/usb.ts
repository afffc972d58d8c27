/**
 * USB facts: the USBGuard daemon configuration, its rules (rules.conf and the RuleFolder
 * files) through koffer's parser of the USBGuard rule grammar, modprobe.d lines that keep
 * the mass-storage drivers out, and (live) the attached devices from sysfs.
 */
import type { Target } from "../targets/types.js";
import { installedSet } from "./installed.js";
import { compareC, contentLines, globToRegExp, joinPath, setting } from "./parsers/common.js";
import { parseRulesFile, toRuleFact } from "./usbguard-rules.js";
import type { GatherContext, Live, Setting, UsbFacts } from "./types.js";

export function emptyUsbFacts(): UsbFacts {
  return {
    usbguardInstalled: false,
    daemonConf: {},
    rules: [],
    ruleErrors: [],
    modprobeBlocked: [],
    attached: { available: false, reason: "not gathered" },
  };
}

const daemonConfPath = "/etc/usbguard/usbguard-daemon.conf";

/** usbguard-daemon.conf: `Key=Value` lines, `#` comments; the last occurrence wins. */
export function parseDaemonConf(text: string, path = daemonConfPath): Record<string, Setting> {
  const out: Record<string, Setting> = {};
  for (const { text: line, line: n } of contentLines(text)) {
    const eq = line.indexOf("=");
    if (eq <= 0) continue;
    out[line.slice(0, eq).trim()] = setting(line.slice(eq + 1).trim(), path, n);
  }
  return out;
}

/** An install command that loads nothing (the module stays out, modprobe may even succeed). */
const refusingInstall =
  /^(\/usr)?\/bin\/(false|true)$|^\/bin\/sh -c ["']?(false|exit 1|\/bin\/false)/;

/** modprobe.d(5) lines in reading order: blacklists, and install commands with their pattern. */
function modprobeLines(text: string): { keyword: string; module: string; command: string }[] {
  return contentLines(text).flatMap(({ text: line }) => {
    const words = line.split(/\s+/);
    // kmod stores module names with "-" as "_" (underscores()); so must the patterns be.
    const module = (words[1] ?? "").replace(/-/g, "_");
    if (module === "" || (words[0] !== "blacklist" && words[0] !== "install")) return [];
    return [{ keyword: words[0] as string, module, command: words.slice(2).join(" ") }];
  });
}

/**
 * Modules kept from loading by modprobe.d text read in order: `blacklist M` (stops alias
 * loading), or an install command that loads nothing (`/bin/false`, `/bin/true`,
 * `/bin/sh -c false`) — when it is the FIRST install line whose pattern matches the module:
 * libkmod runs only that one (kmod_module_get_install_commands), so an earlier
 * `install M /sbin/modprobe --ignore-install M` makes a later `/bin/false` dead.
 */
export function parseModprobeBlocked(text: string): string[] {
  const lines = modprobeLines(text);
  const installs = lines.filter((l) => l.keyword === "install");
  const out = new Set(lines.filter((l) => l.keyword === "blacklist").map((l) => l.module));
  for (const { module } of installs) {
    if (/[*?[]/.test(module)) continue; // a pattern names no module of its own
    const first = installs.find((l) => globToRegExp(l.module).test(module));
    if (first !== undefined && refusingInstall.test(first.command)) out.add(module);
  }
  return [...out];
}

async function modprobeBlocked(target: Target): Promise<string[]> {
  // modprobe reads these directories; a file in /etc hides the same name in /lib and /usr/lib.
  const byName = new Map<string, string>();
  for (const dir of [
    "/etc/modprobe.d",
    "/run/modprobe.d",
    "/usr/local/lib/modprobe.d",
    "/lib/modprobe.d",
    "/usr/lib/modprobe.d",
  ]) {
    for (const name of (await target.readDir(dir)) ?? []) {
      if (name.endsWith(".conf") && !byName.has(name)) byName.set(name, joinPath(dir, name));
    }
  }
  // One text in kmod's reading order: the first matching install line is judged over all files.
  const texts: string[] = [];
  for (const name of [...byName.keys()].sort(compareC)) {
    const text = await target.readText(byName.get(name) as string);
    if (text !== null) texts.push(text);
  }
  return parseModprobeBlocked(texts.join("\n")).sort(compareC);
}

async function attached(target: Target): Promise<UsbFacts["attached"]> {
  if (!target.live)
    return { available: false, reason: "an offline root has no USB devices attached" };
  const base = "/sys/bus/usb/devices";
  const names = await target.readDir(base);
  if (names === null) return { available: false, reason: `${base} does not exist` };
  const value: { id: string; name: string; interfaces: string[]; serial: string | null }[] = [];
  for (const name of names) {
    if (name.includes(":")) continue; // interfaces, not devices
    const dir = joinPath(base, name);
    const read = async (f: string) => (await target.readText(joinPath(dir, f)))?.trim() ?? null;
    const vendor = await read("idVendor");
    const product = await read("idProduct");
    if (!vendor || !product) continue;
    const interfaces: string[] = [];
    for (const entry of names.filter((n) => n.startsWith(`${name}:`))) {
      const d = joinPath(base, entry);
      const cls = (await target.readText(`${d}/bInterfaceClass`))?.trim();
      const sub = (await target.readText(`${d}/bInterfaceSubClass`))?.trim();
      const proto = (await target.readText(`${d}/bInterfaceProtocol`))?.trim();
      if (cls && sub && proto) interfaces.push(`${cls}:${sub}:${proto}`);
    }
    value.push({
      id: `${vendor}:${product}`,
      name: [await read("manufacturer"), await read("product")].filter(Boolean).join(" "),
      interfaces: interfaces.sort(),
      serial: await read("serial"),
    });
  }
  const live: Live<typeof value> = { available: true, value, source: base };
  return live;
}

/** Gather the usb area. */
export async function gatherUsb(target: Target, _ctx: GatherContext): Promise<UsbFacts> {
  const facts = emptyUsbFacts();
  facts.usbguardInstalled = (await installedSet(target)).has("usbguard");
  const conf = await target.readText(daemonConfPath);
  if (conf !== null) facts.daemonConf = parseDaemonConf(conf);

  const ruleFiles: string[] = [];
  const ruleFile = facts.daemonConf.RuleFile?.value;
  if (ruleFile) ruleFiles.push(ruleFile);
  const ruleFolder = facts.daemonConf.RuleFolder?.value;
  if (ruleFolder) {
    // The daemon loads RuleFolder files in name order, after RuleFile.
    for (const name of ((await target.readDir(ruleFolder)) ?? []).sort(compareC)) {
      if (name.endsWith(".conf")) ruleFiles.push(joinPath(ruleFolder, name));
    }
  }
  for (const path of ruleFiles) {
    const text = await target.readText(path);
    if (text === null) continue;
    const parsed = parseRulesFile(text, path);
    for (const { rule, line } of parsed.rules)
      facts.rules.push(toRuleFact(rule, `${path}:${line}`));
    for (const e of parsed.errors) {
      facts.ruleErrors.push({ source: `${path}:${e.line}:${e.column}`, message: e.message });
    }
  }
  facts.modprobeBlocked = await modprobeBlocked(target);
  facts.attached = await attached(target);
  return facts;
}
