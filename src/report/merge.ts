/**
 * Fleet merge: many results (thousands) → one overview per municipality. Files are read one at
 * a time and reduced at once to a compact per-device record (latest and previous statuses);
 * no Result is kept after it has been read, so memory grows with devices, not with results.
 */
import { readFileSync, statSync } from "node:fs";
import { checkJsonDepth, jsonBudget } from "../json-input.js";
import { readdir, stat } from "node:fs/promises";
import { join, resolve, sep } from "node:path";
import { InputError } from "../errors.js";
import type { Severity } from "../profiles/types.js";
import type { Result, Status } from "./types.js";

/** The overview `report merge` writes as JSON (`koffer/fleet/v1`) and renders as HTML. */
export interface FleetOverview {
  schema: "koffer/fleet/v1";
  generatedAt: string;
  /** Windows used: waivers expiring within `waiverDays`; certificates within their renewal window. */
  waiverDays: number;
  results: number;
  devices: number;
  /** Files that could not be read as a koffer result, with the reason. */
  skipped: { file: string; reason: string }[];
  municipalities: FleetMunicipality[];
}

export interface FleetMunicipality {
  name: string;
  controller: string | null;
  devices: number;
  compliantDevices: number;
  /**
   * Controls failing, erroring or pending (first-boot enrolment not done yet) on at least one
   * device (latest result per device), worst first.
   */
  controls: {
    id: string;
    title: string;
    severity: Severity;
    failing: string[];
    erroring: string[];
    pending: string[];
  }[];
  expiringWaivers: {
    hostname: string;
    control: string;
    expires: string;
    approvedBy: string;
    reason: string;
    expired: boolean;
  }[];
  expiringCertificates: {
    hostname: string;
    subject: string;
    serialNumber: string;
    notAfter: string;
    renewBeforeDays: number;
    expired: boolean;
  }[];
  /** Controls whose status changed since the device's previous result (same hostname, by startedAt). */
  drift: {
    hostname: string;
    from: string;
    to: string;
    changes: { control: string; from: Status | "absent"; to: Status | "absent" }[];
  }[];
}

interface Snapshot {
  startedAt: string;
  t: number;
  statuses: Map<string, Status>;
}
interface DeviceRecord {
  municipality: string;
  controller: string | null;
  hostname: string;
  latest: Snapshot;
  previous: Snapshot | null;
  compliant: boolean;
  waivers: FleetMunicipality["expiringWaivers"];
  certificates: FleetMunicipality["expiringCertificates"];
}

export interface MergeOptions {
  /** The merge's clock (injected so overviews are reproducible). */
  now: Date;
  /** Waivers expiring within this many days are listed; default 30. */
  waiverDays?: number;
}

const DAY = 86_400_000;
const severityRank: Record<Severity, number> = { critical: 0, high: 1, medium: 2, low: 3 };

const statuses: ReadonlySet<string> = new Set<Status>([
  "pass",
  "fail",
  "error",
  "waived",
  "not-applicable",
  "skip",
  "pending",
]);

/**
 * Why `value` is not a result merge can use, or null. Everything the merge reads is checked, so
 * one damaged file among thousands is skipped with a reason instead of ending the merge, and a
 * result without a parseable start time cannot shadow the newer results of its device.
 */
function notAResult(value: unknown): string | null {
  const r = value as Partial<Result> | null;
  if (typeof r !== "object" || r === null || r.schema !== "koffer/result/v1")
    return "not a koffer/result/v1 result";
  if (typeof r.profile?.name !== "string") return "no profile name";
  if (typeof r.target?.hostname !== "string") return "no target hostname";
  if (typeof r.startedAt !== "string" || Number.isNaN(Date.parse(r.startedAt)))
    return "no valid startedAt";
  if (typeof r.summary?.compliant !== "boolean") return "no summary.compliant";
  if (!Array.isArray(r.controls)) return "no controls";
  for (const c of r.controls as unknown[]) {
    const control = c as Partial<Result["controls"][number]> | null;
    if (
      typeof control !== "object" ||
      control === null ||
      typeof control.id !== "string" ||
      !statuses.has(control.status as string) ||
      !Object.hasOwn(severityRank, control.severity as string)
    )
      return "a control without a valid id, status or severity";
  }
  return null;
}

/**
 * Expand command-line inputs to result files: a directory is walked recursively for `*.json`;
 * a pattern with `*`, `**` or `?` is matched below its literal prefix; anything else is a file.
 */
export async function* expandInputs(inputs: string[]): AsyncGenerator<string> {
  for (const input of inputs) {
    if (/[*?]/.test(input)) {
      const parts = resolve(input).split(sep);
      const firstGlob = parts.findIndex((p) => /[*?]/.test(p));
      const base = parts.slice(0, firstGlob).join(sep) || sep;
      const re = globToRegExp(parts.join(sep));
      for await (const file of walk(base)) if (re.test(file)) yield file;
      continue;
    }
    const info = await stat(input).catch(() => null);
    if (!info) throw new InputError(`${input}: no such file or directory`);
    if (info.isDirectory()) {
      for await (const file of walk(input)) if (file.endsWith(".json")) yield file;
    } else yield input;
  }
}

function globToRegExp(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === "*" && pattern[i + 1] === "*") {
      re += ".*";
      i++;
      if (pattern[i + 1] === sep) i++;
    } else if (ch === "*") re += `[^${sep}]*`;
    else if (ch === "?") re += `[^${sep}]`;
    else re += ch.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

async function* walk(dir: string): AsyncGenerator<string> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) yield* walk(path);
    else if (e.isFile()) yield path;
  }
}

/**
 * Merge result files into a fleet overview. Files that are not koffer results are listed in
 * `skipped`, never fatal; the caller decides what to make of them.
 */
export async function mergeResults(
  files: AsyncIterable<string> | Iterable<string>,
  options: MergeOptions,
): Promise<FleetOverview> {
  const now = options.now.getTime();
  const waiverDays = options.waiverDays ?? 30;
  const devices = new Map<string, DeviceRecord>();
  const titles = new Map<string, { title: string; severity: Severity }>();
  const skipped: FleetOverview["skipped"] = [];
  let results = 0;

  const absorb = (file: string, text: string): void => {
    let value: unknown;
    try {
      checkJsonDepth(file, text, "result");
    } catch (error) {
      skipped.push({ file, reason: (error as Error).message });
      return;
    }
    try {
      value = JSON.parse(text);
    } catch (error) {
      skipped.push({ file, reason: `not JSON: ${(error as Error).message}` });
      return;
    }
    const invalid = notAResult(value);
    if (invalid) {
      skipped.push({ file, reason: invalid });
      return;
    }
    results++;
    const r = value as Result;
    const t = Date.parse(r.startedAt);
    const statuses = new Map<string, Status>();
    for (const c of r.controls) {
      statuses.set(c.id, c.status);
      if (!titles.has(c.id)) titles.set(c.id, { title: c.title, severity: c.severity });
    }
    const snapshot: Snapshot = { startedAt: r.startedAt, t, statuses };
    const key = `${r.profile.name}\u0000${r.target.hostname}`;
    const existing = devices.get(key);
    if (existing) {
      if (t > existing.latest.t) {
        existing.previous = existing.latest;
        existing.latest = snapshot;
      } else {
        if (!existing.previous || t > existing.previous.t) existing.previous = snapshot;
        return;
      }
    }
    const waivers = (
      r.context?.waivers ??
      r.controls.flatMap((c) => (c.waiver ? [{ control: c.id, ...c.waiver }] : []))
    )
      .filter((w) => Date.parse(`${w.expires}T23:59:59Z`) - now <= waiverDays * DAY)
      .map((w) => ({
        hostname: r.target.hostname,
        control: w.control,
        expires: w.expires,
        approvedBy: w.approvedBy,
        reason: w.reason,
        expired: Date.parse(`${w.expires}T23:59:59Z`) < now,
      }));
    const certificates = (r.context?.certificates ?? [])
      .filter((c) => c.role === "vpn-client")
      .filter((c) => Date.parse(c.notAfter) - now <= (c.renewBeforeDays ?? 30) * DAY)
      .map((c) => ({
        hostname: r.target.hostname,
        subject: c.subject,
        serialNumber: c.serialNumber,
        notAfter: c.notAfter,
        renewBeforeDays: c.renewBeforeDays ?? 30,
        expired: Date.parse(c.notAfter) < now,
      }));
    const record: DeviceRecord = {
      municipality: r.profile.name,
      controller: r.profile.controller ?? null,
      hostname: r.target.hostname,
      latest: snapshot,
      previous: existing?.previous ?? null,
      compliant: r.summary.compliant,
      waivers,
      certificates,
    };
    devices.set(key, record);
  };

  // One file at a time, read synchronously: fs.promises.readFile costs more per small file than
  // the parse itself (bench/merge.mjs, 10,000 results: 3.8 s with 8 async reads in flight, 2.7 s like this), and a batch merge
  // has nothing else to do on the event loop meanwhile.
  for await (const file of files) {
    let text: string;
    try {
      const stats = statSync(file);
      if (!stats.isFile()) throw new Error("not a regular file");
      if (stats.size > jsonBudget.maxBytes)
        throw new Error(`expected at most ${jsonBudget.maxBytes} bytes, found ${stats.size}`);
      text = readFileSync(file, "utf8");
    } catch (error) {
      skipped.push({ file, reason: (error as Error).message });
      continue;
    }
    absorb(file, text);
  }

  const byMunicipality = new Map<string, DeviceRecord[]>();
  for (const d of devices.values()) {
    const list = byMunicipality.get(d.municipality) ?? [];
    list.push(d);
    byMunicipality.set(d.municipality, list);
  }
  const municipalities: FleetMunicipality[] = [...byMunicipality.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, list]) => {
      list.sort((a, b) => (a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : 0));
      const controls = new Map<
        string,
        { failing: string[]; erroring: string[]; pending: string[] }
      >();
      for (const d of list)
        for (const [id, status] of d.latest.statuses) {
          if (status !== "fail" && status !== "error" && status !== "pending") continue;
          const entry = controls.get(id) ?? { failing: [], erroring: [], pending: [] };
          (status === "fail"
            ? entry.failing
            : status === "error"
              ? entry.erroring
              : entry.pending
          ).push(d.hostname);
          controls.set(id, entry);
        }
      return {
        name,
        controller: list.find((d) => d.controller)?.controller ?? null,
        devices: list.length,
        compliantDevices: list.filter((d) => d.compliant).length,
        controls: [...controls.entries()]
          .map(([id, e]) => ({
            id,
            title: titles.get(id)?.title ?? id,
            severity: titles.get(id)?.severity ?? "medium",
            ...e,
          }))
          .sort(
            (a, b) =>
              severityRank[a.severity] - severityRank[b.severity] ||
              b.failing.length + b.erroring.length - (a.failing.length + a.erroring.length) ||
              b.pending.length - a.pending.length ||
              (a.id < b.id ? -1 : 1),
          ),
        expiringWaivers: list
          .flatMap((d) => d.waivers)
          .sort((a, b) => (a.expires < b.expires ? -1 : 1)),
        expiringCertificates: list
          .flatMap((d) => d.certificates)
          .sort((a, b) => (a.notAfter < b.notAfter ? -1 : 1)),
        drift: list.flatMap((d) => {
          if (!d.previous) return [];
          const changes: FleetMunicipality["drift"][number]["changes"] = [];
          const ids = new Set([...d.previous.statuses.keys(), ...d.latest.statuses.keys()]);
          for (const id of [...ids].sort()) {
            const from = d.previous.statuses.get(id) ?? "absent";
            const to = d.latest.statuses.get(id) ?? "absent";
            if (from !== to) changes.push({ control: id, from, to });
          }
          return changes.length > 0
            ? [
                {
                  hostname: d.hostname,
                  from: d.previous.startedAt,
                  to: d.latest.startedAt,
                  changes,
                },
              ]
            : [];
        }),
      };
    });

  return {
    schema: "koffer/fleet/v1",
    generatedAt: options.now.toISOString(),
    waiverDays,
    results,
    devices: devices.size,
    skipped,
    municipalities,
  };
}
