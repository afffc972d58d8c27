/**
 * USB facts: the USBGuard daemon configuration, its rules (rules.conf and the RuleFolder
 * files) through koffer's parser of the USBGuard rule grammar, modprobe.d lines that keep
 * the mass-storage drivers out, and (live) the attached devices from sysfs.
 */
import type { Target } from "../targets/types.js";
import { installedSet } from "./installed.js";
import { compareC, contentLines, joinPath, setting } from "./parsers/common.js";
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

/**
 * modprobe.d lines that keep a module from loading: `blacklist M` (stops alias loading)
 * and `install M /bin/false|/bin/true|/usr/bin/false|/bin/sh -c false`.
 */
export function parseModprobeBlocked(text: string): string[] {
  const out: string[] = [];
  for (const { text: line } of contentLines(text)) {
    const words = line.split(/\s+/);
    const module = (words[1] ?? "").replace(/-/g, "_");
    if (words[0] === "blacklist" && module) out.push(module);
    if (words[0] === "install" && module) {
      const command = words.slice(2).join(" ");
      if (
        /^(\/usr)?\/bin\/(false|true)$|^\/bin\/sh -c ["']?(false|exit 1|\/bin\/false)/.test(command)
      ) {
        out.push(module);
      }
    }
  }
  return out;
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
  const blocked = new Set<string>();
  for (const name of [...byName.keys()].sort(compareC)) {
    const text = await target.readText(byName.get(name) as string);
    if (text !== null) for (const m of parseModprobeBlocked(text)) blocked.add(m);
  }
  return [...blocked].sort(compareC);
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
