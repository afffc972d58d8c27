/**
 * What every resource shares: the planning context, the "managed by koffer" header, and the
 * rules that decide whether a file or a unit needs a change at all.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { installed, isMasked, setting, unitOn, unitState } from "../../checks/util.js";
import type { ChainLink, Facts, Setting } from "../../facts/types.js";
import type { Profile } from "../../profiles/types.js";
import type { Change, DisableLinesChange, WriteFileChange } from "../types.js";

/** The municipality VPN CA, read by the caller (as for `koffer verify`). */
export interface PlanCa {
  pem: string;
  sha256: string;
}

export interface PlanOptions {
  /** The run's clock: certificate validity is judged against it. */
  now: Date;
  /** The municipality VPN CA certificate (spec.vpn.caCertificate), to install and pin. */
  vpnCa?: PlanCa | null;
  /** A CA able to issue the device certificate on the spot (`--ca-p12`); else a CSR is written. */
  canIssue?: boolean;
  /** A TPM is reachable for enrolment (`--tpm2-device`), besides one the live facts show. */
  tpm2Device?: string;
  /** Measured re-encryption throughput (MiB/s) for the estimate; else a conservative figure. */
  reencryptMiBPerSecond?: number;
}

export interface PlanContext extends PlanOptions {
  profile: Profile;
  facts: Facts;
  /** Packages installed now or installed earlier in the same plan. */
  willHave(pkg: string): boolean;
}

export const managedLine = "Managed by koffer — changes are overwritten";

/** The header every generated file starts with, in the comment syntax of its format. */
export function header(comment = "#"): string {
  return `${comment} ${managedLine}\n`;
}

const templateDir = new URL("../../../templates/", import.meta.url);

/**
 * Fill a template from templates/: `{{name}}` is replaced by `values[name]`, which the
 * caller has already escaped for the file's format. An unknown placeholder is a bug.
 */
export function renderTemplate(name: string, values: Record<string, string>): string {
  const text = readFileSync(new URL(name, templateDir), "utf8");
  return text.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`template ${name}: no value for {{${key}}}`);
    return value;
  });
}

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

export interface FileSpec {
  resource: string;
  path: string;
  content: string;
  mode?: number;
  uid?: number;
  gid?: number;
  summary: string;
  controls: string[];
  /**
   * Whether the settings the file carries are already in effect (judged from parsed facts,
   * as the checks judge them). Decides only when the facts hold no byte-level record of the
   * file (a snapshot without `managedFiles`); otherwise the bytes, mode and owner decide.
   */
  satisfied: boolean;
  /** See {@link WriteFileChange.check}. */
  check?: WriteFileChange["check"];
  /** See {@link WriteFileChange.activate}. */
  activate?: WriteFileChange["activate"];
}

export interface OverrideSpec {
  resource: string;
  controls: string[];
  /** koffer's own file for these settings: its lines are never disabled. */
  own: string;
  /** The effective settings of the area, with their source chains. */
  settings: Record<string, Setting>;
  /** Per key koffer judges: whether a value is the one koffer wants. */
  wanted: Record<string, (value: string) => boolean>;
  comment?: "#" | "//";
  /** On a running machine, what puts the file set into effect once lines are disabled. */
  activate?: string[];
}

/** Where a setting's assignments are: its chain's links, or the winner's `source` alone. */
function assignments(s: Setting): { file: string; line: number; value: string }[] {
  const links = (s.chain ?? []).filter(
    (c): c is ChainLink & { line: number; value: string } =>
      c.line !== undefined && c.value !== undefined,
  );
  if (links.length > 0) return links.map(({ file, line, value }) => ({ file, line, value }));
  const m = /^(.*):(\d+)$/.exec(s.source);
  return m ? [{ file: m[1] as string, line: Number(m[2]), value: s.value }] : [];
}

/**
 * Disable-lines changes for the lines of other files that keep koffer's value from being the
 * effective one (issue 11: a later sysctl.d file, an earlier sshd drop-in). Only when the
 * effective value is wrong and koffer's own file is already read: with a source chain, the
 * wrong assignments the program reads after koffer's (never a vendor file koffer's own
 * outranks anyway); without one, the winning line. A line that sets the wanted value stays.
 */
export function disableOverrides(ctx: PlanContext, spec: OverrideSpec): DisableLinesChange[] {
  const byFile = new Map<string, { line: number; key: string }[]>();
  const ownPresent = (ctx.facts.managedFiles?.[spec.own] ?? null) !== null;
  for (const [key, ok] of Object.entries(spec.wanted)) {
    const s = setting(spec.settings, key);
    if (s === undefined || ok(s.value)) continue;
    const links = assignments(s);
    let after: typeof links;
    if ((s.chain ?? []).length > 0) {
      const own = links.map((l) => l.file).lastIndexOf(spec.own);
      if (own < 0) continue; // koffer's file is not read yet: writing it decides first
      after = links.slice(own + 1);
    } else if (ownPresent) after = links;
    else continue;
    for (const a of after) {
      if (a.file === spec.own || ok(a.value)) continue;
      const list = byFile.get(a.file) ?? [];
      if (!list.some((l) => l.line === a.line)) list.push({ line: a.line, key });
      byFile.set(a.file, list);
    }
  }
  return [...byFile].map(([path, lines]) => ({
    kind: "disable-lines",
    resource: spec.resource,
    summary: `${path}: comment out ${[...new Set(lines.map((l) => l.key))].join(", ")}, which override${lines.length === 1 ? "s" : ""} koffer's ${spec.own}`,
    controls: spec.controls,
    path,
    lines: lines.sort((a, b) => a.line - b.line),
    comment: spec.comment ?? "#",
    ...(spec.activate === undefined ? {} : { activate: spec.activate }),
  }));
}

/** A write-file change when the file differs from what koffer would write; else nothing. */
export function fileChange(ctx: PlanContext, spec: FileSpec): WriteFileChange[] {
  const change: WriteFileChange = {
    kind: "write-file",
    resource: spec.resource,
    summary: spec.summary,
    controls: spec.controls,
    path: spec.path,
    content: spec.content,
    mode: spec.mode ?? 0o644,
    uid: spec.uid ?? 0,
    gid: spec.gid ?? 0,
    ...(spec.check === undefined ? {} : { check: spec.check }),
    ...(spec.activate === undefined ? {} : { activate: spec.activate }),
  };
  const known = ctx.facts.managedFiles?.[spec.path];
  if (known === undefined) return spec.satisfied ? [] : [change];
  const same =
    known !== null &&
    known.sha256 === sha256(spec.content) &&
    known.mode === change.mode &&
    known.uid === change.uid &&
    known.gid === change.gid;
  return same ? [] : [change];
}

/** The current text of a file koffer edits line by line, when the facts carry it. */
export function managedText(facts: Facts, path: string): string | null {
  return facts.managedFiles?.[path]?.text ?? null;
}

/** Changes that make `unit` start at boot (unmask first if masked). */
export function enableUnit(
  ctx: PlanContext,
  unit: string,
  resource: string,
  controls: string[],
  providedBy?: string,
): Change[] {
  const state = unitState(ctx.facts, unit);
  if (unitOn(state)) return [];
  // A unit whose package is neither installed nor being installed cannot be enabled.
  if (state === "not-found" && providedBy !== undefined && !ctx.willHave(providedBy)) return [];
  const out: Change[] = [];
  if (isMasked(state))
    out.push({ kind: "unmask-unit", unit, resource, controls, summary: `unmask ${unit}` });
  out.push({ kind: "enable-unit", unit, resource, controls, summary: `enable ${unit}` });
  return out;
}

/** A mask-unit change unless the unit is masked already. */
export function maskUnit(
  ctx: PlanContext,
  unit: string,
  resource: string,
  controls: string[],
  why: string,
): Change[] {
  if (isMasked(unitState(ctx.facts, unit))) return [];
  return [{ kind: "mask-unit", unit, resource, controls, summary: `mask ${unit} (${why})` }];
}

export { installed };

/** Quote a value for a double-quoted string in swanctl.conf, nftables or usbguard rules. */
export function quoted(value: string): string {
  return `"${value
    .replace(/\\/g, "\\\\")
    .replace(/"/g, '\\"')
    .replace(/[\r\n]+/g, " ")}"`;
}

/** A text safe for one comment line: no line breaks. */
export function commentText(value: string): string {
  return value.replace(/[\r\n]+/g, " ");
}
