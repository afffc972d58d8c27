/**
 * Disk facts: crypttab and fstab, the LUKS headers of the target's volumes (read with
 * the real `cryptsetup`, never parsed from raw bytes by us), swap, hibernation, key
 * files in the initramfs and koffer's own escrow records.
 *
 * A volume whose header cannot be read is reported with `error` set; it is never
 * silently skipped, so a damaged header can never look like a pass.
 */
import { open } from "node:fs/promises";
import type { Target } from "../targets/types.js";
import {
  compareC,
  contentLines,
  expandGlob,
  joinPath,
  setting,
  unquote,
} from "./parsers/common.js";
import type {
  BlockDevice,
  CrypttabEntry,
  DiskFacts,
  EscrowRecord,
  FirstBootEnrolFacts,
  FstabEntry,
  GatherContext,
  Live,
  LuksKeyslot,
  LuksSegment,
  LuksToken,
  LuksVolume,
  Setting,
} from "./types.js";
import { managedPath } from "./managed.js";

export function emptyDiskFacts(): DiskFacts {
  return {
    crypttab: [],
    fstab: [],
    volumes: [],
    blockDevices: { available: false, reason: "not gathered" },
    activeSwap: { available: false, reason: "not gathered" },
    sleepConf: {},
    initramfsKeyFiles: [],
    escrowRecords: [],
    zramSwap: false,
  };
}

/** fstab and crypttab escape blanks in fields as octal (`\040`). */
function unescapeOctal(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Parse /etc/crypttab (crypttab(5)): name, device, key file, options. */
export function parseCrypttab(text: string, path = "/etc/crypttab"): CrypttabEntry[] {
  return contentLines(text).map(({ text: line, line: n }) => {
    const [name = "", device = "", keyFile = "none", options = ""] = line
      .split(/\s+/)
      .map(unescapeOctal);
    return {
      name,
      device,
      keyFile: keyFile === "none" || keyFile === "-" || keyFile === "" ? null : keyFile,
      options: options === "" ? [] : options.split(",").filter((o) => o !== ""),
      source: `${path}:${n}`,
    };
  });
}

/** Parse /etc/fstab (fstab(5)). */
export function parseFstab(text: string, path = "/etc/fstab"): FstabEntry[] {
  const out: FstabEntry[] = [];
  for (const { text: line, line: n } of contentLines(text)) {
    const [spec, file, vfstype = "auto", options = "defaults"] = line
      .split(/\s+/)
      .map(unescapeOctal);
    if (spec === undefined || file === undefined) continue;
    out.push({
      spec,
      file,
      vfstype,
      options: options.split(",").filter((o) => o !== ""),
      source: `${path}:${n}`,
    });
  }
  return out;
}

/**
 * Parse systemd-style configuration (`[Section]` and `Key=value`) into `Section.Key`
 * → value is not needed here: the sleep.conf keys are unique, so keys are stored bare.
 */
export function parseSystemdConf(
  text: string,
  path: string,
  into: Record<string, Setting> = {},
  section?: string,
): Record<string, Setting> {
  let current = "";
  for (const { text: line, line: n } of contentLines(text, "#;")) {
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      current = header[1] as string;
      continue;
    }
    if (section !== undefined && current !== section) continue;
    const eq = line.indexOf("=");
    if (eq <= 0) continue;
    into[line.slice(0, eq).trim()] = setting(unquote(line.slice(eq + 1).trim()), path, n);
  }
  return into;
}

/**
 * The files systemd reads for `NAME.conf` in `dir` (the main file, then drop-ins from
 * /etc, /run, /usr/lib sorted by file name, /etc winning for the same name).
 */
export async function systemdConfFiles(target: Target, main: string): Promise<string[]> {
  const dropInDirs = ["/etc", "/run", "/usr/local/lib", "/usr/lib"].map(
    (prefix) => `${prefix}${main.slice("/etc".length)}.d`,
  );
  const byName = new Map<string, string>();
  for (const dir of dropInDirs) {
    for (const name of (await target.readDir(dir)) ?? []) {
      if (name.endsWith(".conf") && !byName.has(name)) byName.set(name, joinPath(dir, name));
    }
  }
  const dropIns = [...byName.keys()].sort(compareC).map((n) => byName.get(n) as string);
  return [main, ...dropIns];
}

async function readSystemdConf(
  target: Target,
  main: string,
  section: string,
): Promise<Record<string, Setting>> {
  const settings: Record<string, Setting> = {};
  for (const file of await systemdConfFiles(target, main)) {
    const text = await target.readText(file);
    if (text !== null) parseSystemdConf(text, file, settings, section);
  }
  return settings;
}

// ─── LUKS headers ────────────────────────────────────────────────────────────

function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function numeric(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "string" && /^\d+$/.test(value)) return Number(value);
  return undefined;
}

function numberList(value: unknown): number[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return value.map((v) => numeric(v)).filter((v): v is number => v !== undefined);
}

/** Sort LUKS2 object keys ("0", "1", "10") numerically so output is stable. */
function entries(obj: Record<string, unknown>): [string, Record<string, unknown>][] {
  return Object.entries(obj)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([k, v]) => [k, asRecord(v)]);
}

/**
 * Parse the LUKS2 JSON metadata area as printed by
 * `cryptsetup luksDump --dump-json-metadata` (cryptsetup ≥ 2.4).
 * Token fields follow systemd's writer (src/shared/tpm2-util.c, `tpm2_make_luks2_json`):
 * `tpm2-pin` (boolean), `tpm2-pcrs` (array of PCR indexes).
 */
export function parseLuks2Json(
  json: string,
): Pick<LuksVolume, "keyslots" | "tokens" | "segments" | "requirements"> {
  const doc = asRecord(JSON.parse(json));
  // A "reencrypt" keyslot holds no key (it stores the resilience data of an interrupted
  // re-encryption, key_size 1): it is described by the requirement, not listed as a keyslot.
  const keyslots: LuksKeyslot[] = entries(asRecord(doc.keyslots))
    .filter(([, slot]) => slot.type !== "reencrypt")
    .map(([id, slot]) => {
      const kdf = asRecord(slot.kdf);
      const out: LuksKeyslot = {
        id,
        type: String(slot.type ?? "unknown"),
        keyBytes: numeric(slot.key_size) ?? 0,
        kdf: { type: String(kdf.type ?? "unknown") },
      };
      if (typeof kdf.hash === "string") out.kdf.hash = kdf.hash;
      for (const key of ["iterations", "time", "memory", "cpus"] as const) {
        const v = numeric(kdf[key]);
        if (v !== undefined) out.kdf[key] = v;
      }
      if (typeof slot.priority === "string" || typeof slot.priority === "number") {
        out.priority = String(slot.priority);
      }
      return out;
    });
  const tokens: LuksToken[] = entries(asRecord(doc.tokens)).map(([id, token]) => {
    const out: LuksToken = {
      id,
      type: String(token.type ?? "unknown"),
      keyslots: Array.isArray(token.keyslots) ? token.keyslots.map(String) : [],
    };
    if (out.type === "systemd-tpm2") {
      out.tpm2Pin = token["tpm2-pin"] === true;
      // systemd writes "tpm2-pcrs"; "tpm2_pcrs" is accepted in case a later writer follows
      // systemd's own note that new fields use "_".
      out.tpm2Pcrs = numberList(token["tpm2-pcrs"] ?? token["tpm2_pcrs"]) ?? [];
    }
    return out;
  });
  const segments: LuksSegment[] = entries(asRecord(doc.segments)).map(([id, segment]) => {
    const out: LuksSegment = {
      id,
      type: String(segment.type ?? "unknown"),
      encryption: String(segment.encryption ?? "unknown"),
    };
    const sectorSize = numeric(segment.sector_size);
    if (sectorSize !== undefined) out.sectorSize = sectorSize;
    const offset = numeric(segment.offset);
    if (offset !== undefined) out.offset = offset;
    const size = segment.size === "dynamic" ? "dynamic" : numeric(segment.size);
    if (size !== undefined) out.size = size;
    const integrity = asRecord(segment.integrity);
    if (typeof integrity.type === "string") out.integrity = integrity.type;
    return out;
  });
  const mandatory = asRecord(asRecord(doc.config).requirements).mandatory;
  const requirements = Array.isArray(mandatory) ? mandatory.map(String) : [];
  return { keyslots, tokens, segments, requirements };
}

export interface LuksTextDump {
  version: number | null;
  uuid: string | null;
  /** LUKS1 only: the header's cipher, key size and active key slots. */
  luks1?: Pick<LuksVolume, "keyslots" | "segments">;
}

/** Parse the text form of `cryptsetup luksDump` (version, UUID; for LUKS1 also cipher and slots). */
export function parseLuksDumpText(text: string): LuksTextDump {
  const field = (name: string): string | null => {
    const m = new RegExp(`^${name}:\\s*(.*?)\\s*$`, "m").exec(text);
    return m ? (m[1] as string) : null;
  };
  const versionText = field("Version");
  const version = versionText !== null && /^\d+$/.test(versionText) ? Number(versionText) : null;
  const uuid = field("UUID") || null;
  const result: LuksTextDump = { version, uuid };
  if (version !== 1) return result;
  const cipher = field("Cipher name") ?? "unknown";
  const mode = field("Cipher mode") ?? "unknown";
  const hash = field("Hash spec") ?? undefined;
  const keyBytes = Math.floor(Number(field("MK bits") ?? "0") / 8);
  const keyslots: LuksKeyslot[] = [];
  const slotRe = /^Key Slot (\d+): ENABLED\s*\n((?:[ \t]+.*\n?)*)/gm;
  for (let m = slotRe.exec(text); m !== null; m = slotRe.exec(text)) {
    const iterations = /Iterations:\s*(\d+)/.exec(m[2] as string);
    keyslots.push({
      id: m[1] as string,
      type: "luks1",
      keyBytes,
      kdf: {
        type: "pbkdf2",
        ...(hash ? { hash } : {}),
        ...(iterations ? { iterations: Number(iterations[1]) } : {}),
      },
    });
  }
  result.luks1 = {
    keyslots,
    segments: [{ id: "0", type: "crypt", encryption: `${cipher}-${mode}`, keyBytes }],
  };
  return result;
}

/** The LUKS magic ("LUKS\xba\xbe", or "SKUL\xba\xbe" for a LUKS2 secondary header). */
async function hasLuksMagic(hostPath: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(hostPath, "r");
    const buffer = Buffer.alloc(6);
    await handle.read(buffer, 0, 6, 0);
    const magic = buffer.toString("latin1");
    return magic === "LUKS\xba\xbe" || magic === "SKUL\xba\xbe";
  } catch {
    return false;
  } finally {
    await handle?.close();
  }
}

function firstLine(text: string): string {
  return (
    text
      .split("\n")
      .map((l) => l.trim())
      .find((l) => l !== "") ?? ""
  );
}

/**
 * Describe one LUKS volume (image file or block device on the host) with cryptsetup.
 * Never throws for a bad header: the volume comes back with `error` set.
 */
export async function describeLuksVolume(target: Target, device: string): Promise<LuksVolume> {
  const volume: LuksVolume = {
    device,
    uuid: null,
    crypttabName: null,
    version: null,
    keyslots: [],
    tokens: [],
    segments: [],
    requirements: [],
    source: `cryptsetup luksDump ${device}`,
  };
  const isLuks = await target.exec("cryptsetup", ["isLuks", device], { timeoutMs: 30_000 });
  if (isLuks.exitCode !== 0) {
    // No LUKS header: a plain (unencrypted) disk — unless the magic is there and the
    // header is merely unreadable, which is damage, not absence of encryption.
    // cryptsetup also finds LUKS2 headers away from offset 0 (the secondary copy) and
    // says so on luksDump ("ambiguous signatures, cannot auto-recover LUKS2").
    const probe = await target.exec("cryptsetup", ["luksDump", device], { timeoutMs: 30_000 });
    const complaint = probe.stderr
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "" && !/is not a valid LUKS device/.test(l))
      .join(" ");
    if (complaint !== "") volume.error = `LUKS header is damaged: ${complaint}`;
    else if (await hasLuksMagic(device)) {
      volume.error =
        "LUKS header is damaged: the LUKS magic is there but cryptsetup rejects the header";
    }
    volume.source = `cryptsetup isLuks ${device}`;
    return volume;
  }
  const dump = await target.exec("cryptsetup", ["luksDump", device], { timeoutMs: 30_000 });
  if (dump.exitCode !== 0) {
    volume.error = `cannot read LUKS header: ${firstLine(dump.stderr) || `cryptsetup luksDump exited ${dump.exitCode}`}`;
    return volume;
  }
  const text = parseLuksDumpText(dump.stdout);
  volume.uuid = text.uuid;
  if (text.version === 1 && text.luks1) {
    volume.version = 1;
    volume.keyslots = text.luks1.keyslots;
    volume.segments = text.luks1.segments;
    return volume;
  }
  if (text.version !== 2) {
    volume.error = `unsupported LUKS version ${text.version ?? "unknown"}`;
    return volume;
  }
  volume.version = 2;
  const json = await target.exec("cryptsetup", ["luksDump", "--dump-json-metadata", device], {
    timeoutMs: 30_000,
  });
  volume.source = `cryptsetup luksDump --dump-json-metadata ${device}`;
  if (json.exitCode !== 0) {
    volume.error = `cannot read LUKS2 metadata: ${firstLine(json.stderr) || `exit ${json.exitCode}`}`;
    return volume;
  }
  try {
    Object.assign(volume, parseLuks2Json(json.stdout));
  } catch (error) {
    volume.error = `LUKS2 metadata is not valid JSON: ${(error as Error).message}`;
    return volume;
  }
  const bytes = dataBytes(volume.segments, await deviceBytes(target, device));
  if (bytes !== undefined) volume.dataBytes = bytes;
  return volume;
}

/** Size of an image file or block device in bytes, or undefined when it cannot be read. */
async function deviceBytes(target: Target, device: string): Promise<number | undefined> {
  if (target.kind !== "ssh") {
    const { stat } = await import("node:fs/promises");
    const stats = await stat(device).catch(() => null);
    if (stats?.isFile()) return stats.size;
    if (stats !== null && !stats.isBlockDevice()) return undefined;
  }
  const r = await target.exec("blockdev", ["--getsize64", device], { timeoutMs: 30_000 });
  return r.exitCode === 0 && /^\d+\s*$/.test(r.stdout) ? Number(r.stdout.trim()) : undefined;
}

/**
 * The encrypted bytes: from the lowest crypt segment's offset to the end of the last one (the
 * end of the device for a "dynamic" segment). While a re-encryption is under way several
 * segments cover the area (new, old, backups), so the span counts, not the sum.
 */
export function dataBytes(segments: LuksSegment[], device: number | undefined): number | undefined {
  const crypt = segments.filter((s) => s.type === "crypt" && s.offset !== undefined);
  if (crypt.length === 0) return undefined;
  const start = Math.min(...crypt.map((s) => s.offset ?? 0));
  if (crypt.some((s) => s.size === "dynamic" || s.size === undefined))
    return device === undefined ? undefined : Math.max(0, device - start);
  return Math.max(...crypt.map((s) => (s.offset ?? 0) + (s.size as number))) - start;
}

/** The crypttab entry naming this volume by UUID (any case) or by the device path. */
function matchCrypttab(volume: LuksVolume, crypttab: CrypttabEntry[]): string | null {
  for (const entry of crypttab) {
    const device = unquote(entry.device);
    if (volume.uuid && /^UUID=/i.test(device)) {
      if (device.slice(5).toLowerCase() === volume.uuid.toLowerCase()) return entry.name;
    } else if (volume.uuid && device === `/dev/disk/by-uuid/${volume.uuid}`) {
      return entry.name;
    } else if (device === volume.device) {
      return entry.name;
    }
  }
  return null;
}

// ─── live sources ────────────────────────────────────────────────────────────

interface LsblkNode {
  name?: string;
  kname?: string;
  path?: string;
  type?: string;
  fstype?: string | null;
  mountpoints?: (string | null)[];
  mountpoint?: string | null;
  uuid?: string | null;
  children?: LsblkNode[];
}

/** Parse `lsblk -J -o NAME,KNAME,PATH,TYPE,FSTYPE,MOUNTPOINTS,UUID` (KNAME optional). */
export function parseLsblk(json: string): BlockDevice[] {
  const convert = (node: LsblkNode): BlockDevice => ({
    name: node.name ?? "",
    ...(node.kname ? { kname: node.kname } : {}),
    path: node.path ?? `/dev/${node.name ?? ""}`,
    type: node.type ?? "unknown",
    fstype: node.fstype ?? null,
    mountpoints: (node.mountpoints ?? (node.mountpoint ? [node.mountpoint] : [])).filter(
      (m): m is string => typeof m === "string",
    ),
    uuid: node.uuid ?? null,
    children: (node.children ?? []).map(convert),
  });
  const doc = JSON.parse(json) as { blockdevices?: LsblkNode[] };
  return (doc.blockdevices ?? []).map(convert);
}

/** Parse `swapon --show=NAME,TYPE --raw --noheadings`. */
export function parseSwapon(text: string): { name: string; type: string }[] {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "")
    .map((l) => {
      const [name = "", type = ""] = l.split(/\s+/);
      return { name, type };
    });
}

function flatten(devices: BlockDevice[]): BlockDevice[] {
  return devices.flatMap((d) => [d, ...flatten(d.children)]);
}

async function liveBlockDevices(target: Target): Promise<Live<BlockDevice[]>> {
  if (!target.live) {
    return { available: false, reason: "an offline root has no live block devices" };
  }
  const r = await target.exec("lsblk", [
    "-J",
    "-o",
    "NAME,KNAME,PATH,TYPE,FSTYPE,MOUNTPOINTS,UUID",
  ]);
  if (r.exitCode !== 0) {
    return { available: false, reason: `lsblk failed: ${firstLine(r.stderr)}` };
  }
  return { available: true, value: parseLsblk(r.stdout), source: "lsblk -J" };
}

async function liveSwap(target: Target): Promise<Live<{ name: string; type: string }[]>> {
  if (!target.live) return { available: false, reason: "an offline root has no active swap" };
  const r = await target.exec("swapon", ["--show=NAME,TYPE", "--raw", "--noheadings"]);
  if (r.exitCode !== 0) {
    return { available: false, reason: `swapon failed: ${firstLine(r.stderr)}` };
  }
  return { available: true, value: parseSwapon(r.stdout), source: "swapon --show" };
}

// ─── the rest of the disk area ───────────────────────────────────────────────

/** KEYFILE_PATTERN from cryptsetup-initramfs' conf-hook, expanded on the target. */
async function initramfsKeyFiles(target: Target): Promise<string[]> {
  const files = ["/etc/cryptsetup-initramfs/conf-hook"];
  for (const name of (await target.readDir("/etc/cryptsetup-initramfs/conf-hook.d")) ?? []) {
    files.push(joinPath("/etc/cryptsetup-initramfs/conf-hook.d", name));
  }
  let pattern: string | null = null;
  for (const file of files) {
    const text = await target.readText(file);
    if (text === null) continue;
    for (const { text: line } of contentLines(text)) {
      const m = /^KEYFILE_PATTERN=(.*)$/.exec(line);
      if (m) pattern = unquote((m[1] as string).trim());
    }
  }
  if (!pattern) return [];
  const found: string[] = [];
  for (const glob of pattern.split(/\s+/).filter((p) => p.startsWith("/"))) {
    for (const path of await expandGlob(target, glob)) {
      if ((await target.stat(path))?.type === "file") found.push(path);
    }
  }
  return found;
}

async function escrowRecords(target: Target): Promise<EscrowRecord[]> {
  const dir = "/var/lib/koffer/escrow";
  const out: EscrowRecord[] = [];
  for (const name of (await target.readDir(dir)) ?? []) {
    if (!name.endsWith(".json")) continue;
    const path = joinPath(dir, name);
    let doc: Record<string, unknown>;
    try {
      doc = asRecord(JSON.parse((await target.readText(path)) ?? ""));
    } catch {
      continue; // not a record koffer wrote; DISK-05 then finds no escrow for the volume
    }
    if (typeof doc.volumeUuid !== "string" || typeof doc.keyslot !== "string") continue;
    out.push({
      volumeUuid: doc.volumeUuid,
      keyslot: doc.keyslot,
      escrowCertificateSha256: String(doc.escrowCertificateSha256 ?? ""),
      createdAt: String(doc.createdAt ?? ""),
      source: path,
    });
  }
  return out;
}

async function zramConfigured(target: Target): Promise<boolean> {
  for (const path of [
    "/etc/systemd/zram-generator.conf",
    "/usr/lib/systemd/zram-generator.conf",
    "/etc/default/zramswap",
  ]) {
    if ((await target.stat(path))?.type === "file") return true;
  }
  const dropIns = await target.readDir("/etc/systemd/zram-generator.conf.d");
  return (dropIns ?? []).some((n) => n.endsWith(".conf"));
}

/** Where the first-boot enrolment keeps its marker and failure note (templates/tpm2-enrol.sh). */
export const firstBootEnrolState = {
  done: "/var/lib/koffer/tpm2-enrolled",
  failure: "/var/lib/koffer/tpm2-enrol.failed",
} as const;

/** Parse /etc/koffer/tpm2-enrol.conf: `NAME DEVICE PCRS` per line (PCRS joined by "+"). */
export function parseFirstBootEnrolConf(
  text: string,
  path: string,
): FirstBootEnrolFacts["volumes"] {
  return contentLines(text).flatMap(({ text: line, line: n }) => {
    const [name, device, pcrs, ...rest] = line.trim().split(/\s+/);
    if (name === undefined || device === undefined || pcrs === undefined || rest.length > 0)
      return [];
    const list = pcrs.split("+").map(Number);
    if (list.some((p) => !Number.isInteger(p) || p < 0 || p > 23)) return [];
    return [{ name, device, pcrs: list, source: `${path}:${n}` }];
  });
}

async function firstBootEnrol(target: Target): Promise<FirstBootEnrolFacts | null> {
  const isFile = async (path: string) => ((await target.stat(path))?.type === "file" ? path : null);
  const script = await isFile(managedPath.tpm2EnrolScript);
  const unit = await isFile(managedPath.tpm2EnrolUnit);
  const conf = await target.readText(managedPath.tpm2EnrolConf);
  const done = await target.readText(firstBootEnrolState.done);
  const failure = await target.readText(firstBootEnrolState.failure);
  if (script === null && unit === null && conf === null && done === null && failure === null)
    return null;
  const firstLine = (text: string) => text.split("\n")[0]?.trim().slice(0, 500) ?? "";
  return {
    script,
    unit,
    volumes: conf === null ? [] : parseFirstBootEnrolConf(conf, managedPath.tpm2EnrolConf),
    done: done === null ? null : firstLine(done),
    failure:
      failure === null ? null : { text: firstLine(failure), source: firstBootEnrolState.failure },
  };
}

/** Gather the disk area. */
export async function gatherDisk(target: Target, _ctx: GatherContext): Promise<DiskFacts> {
  const facts = emptyDiskFacts();
  const crypttab = await target.readText("/etc/crypttab");
  if (crypttab !== null) facts.crypttab = parseCrypttab(crypttab);
  const fstab = await target.readText("/etc/fstab");
  if (fstab !== null) facts.fstab = parseFstab(fstab);

  facts.blockDevices = await liveBlockDevices(target);
  facts.activeSwap = await liveSwap(target);

  const devices = target.disks.map((d) => d.path);
  // On a running machine without --disk, the LUKS devices lsblk sees are the volumes.
  if (devices.length === 0 && facts.blockDevices.available) {
    for (const d of flatten(facts.blockDevices.value)) {
      if (d.fstype === "crypto_LUKS") devices.push(d.path);
    }
  }
  for (const device of devices) {
    const volume = await describeLuksVolume(target, device);
    volume.crypttabName = matchCrypttab(volume, facts.crypttab);
    facts.volumes.push(volume);
  }

  facts.sleepConf = await readSystemdConf(target, "/etc/systemd/sleep.conf", "Sleep");
  facts.initramfsKeyFiles = await initramfsKeyFiles(target);
  facts.escrowRecords = await escrowRecords(target);
  facts.zramSwap = await zramConfigured(target);
  facts.firstBootEnrol = await firstBootEnrol(target);
  return facts;
}
