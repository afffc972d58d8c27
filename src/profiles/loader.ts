/**
 * Loading a profile: read and parse every file of the `extends` chain with source
 * positions, validate each against the schema, merge (rules in merge.ts), check that
 * the merged profile is complete, run the semantic rules, resolve certificate paths.
 * Every problem of every file comes back in one run, each at FILE:LINE:COLUMN.
 */
import { realpathSync, statSync } from "node:fs";
import path from "node:path";
import { InputError, type Problem } from "../errors.js";
import { baseline, baselineName } from "./baseline.js";
import { applyYieldingDenials, isPlainObject, mergeLayers, type Origins } from "./merge.js";
import { semanticFindings } from "./rules.js";
import { missingAfterMerge, profileValidator, schemaFindings, type Finding } from "./schema.js";
import {
  pointer,
  positionOf,
  problemAt,
  notAProfile,
  readSource,
  type PathSegment,
  type SourceFile,
} from "./source.js";
import type { LoadResult, Profile } from "./types.js";

export interface LoadOptions {
  /** The time waivers and attestations are judged at (default: now). */
  now?: Date;
}

interface Layer {
  /** `koffer:baseline` or the absolute path of the file. */
  name: string;
  source?: SourceFile;
  value: unknown;
}

/** Paths in a profile that name files, resolved against the directory of the file that sets them. */
const filePaths: PathSegment[][] = [
  ["spec", "vpn", "caCertificate"],
  ["spec", "disk", "recovery", "escrowCertificate"],
];

/**
 * Load a profile and everything it extends. Never throws for bad input: the result
 * holds the profile when there is no error, and every problem found (warnings such as
 * an expired waiver do not make the profile invalid).
 */
export async function loadProfile(file: string, options: LoadOptions = {}): Promise<LoadResult> {
  const now = options.now ?? new Date();
  const problems: Problem[] = [];
  const layers: Layer[] = [];
  const visited = new Set<string>();
  let complete = true;
  const validate = await profileValidator();

  const visit = async (
    abs: string,
    display: string,
    stack: string[],
  ): Promise<SourceFile | undefined> => {
    visited.add(abs);
    const read = await readSource(abs, display);
    const source = read.source;
    if (source?.profileLike === false) {
      // Not a profile (a key, a shadow file reached through extends): its position only.
      problems.push(notAProfile(display, read.problems[0]?.position));
      complete = false;
      return source;
    }
    problems.push(...read.problems);
    if (!source || source.value === undefined || read.problems.length > 0) {
      complete = false;
      return source;
    }
    const value = source.value;
    // Nothing to merge from a file that is not a mapping; its type error says why.
    if (!isPlainObject(value)) complete = false;
    const parents = extendsList(value);
    if (!validate(value)) {
      const findings = dedentedChildren(schemaFindings(validate.errors ?? [], value), value);
      problems.push(...findings.map((f) => place(f, source)));
    }
    for (const { ref, index } of parents) {
      const refPath: PathSegment[] = index === -1 ? ["extends"] : ["extends", index];
      if (ref === baselineName) {
        if (!visited.has(baselineName)) {
          visited.add(baselineName);
          layers.push({ name: baselineName, value: structuredClone(baseline) });
        }
        continue;
      }
      if (ref.startsWith("koffer:")) {
        problems.push(
          place(
            {
              rule: "extends/unknown",
              path: refPath,
              message: `Expected ${baselineName} or a relative path, found "${ref}"`,
            },
            source,
          ),
        );
        complete = false;
        continue;
      }
      // Only profile files, named relative to this one: an absolute path or a file that is not
      // YAML would let a profile read, say, /etc/shadow and echo it back in the errors below.
      const refProblem = path.isAbsolute(ref)
        ? `Expected ${baselineName} or a path relative to this file, found the absolute path "${ref}"`
        : !/\.ya?ml$/i.test(ref)
          ? `Expected a profile file ending in .yaml or .yml, found "${ref}"`
          : null;
      if (refProblem) {
        problems.push(place({ rule: "extends/path", path: refPath, message: refProblem }, source));
        complete = false;
        continue;
      }
      const parentDisplay = path.normalize(path.join(path.dirname(display), ref));
      const parentAbs = containedParent(path.resolve(path.dirname(abs), ref), tree);
      if (typeof parentAbs !== "string") {
        problems.push(
          place(
            {
              rule: "extends/escape",
              path: refPath,
              message: `Expected a profile inside the directory of ${path.basename(file)}, found "${ref}"${parentAbs.link ? ", a symbolic link" : ""} leading outside it`,
            },
            source,
          ),
        );
        complete = false;
        continue;
      }
      if (stack.includes(parentAbs) || parentAbs === abs) {
        const chain = [...stack.slice(stack.indexOf(parentAbs)), abs, parentAbs].map((p) =>
          path.basename(p),
        );
        problems.push(
          place(
            {
              rule: "extends/cycle",
              path: refPath,
              message: `Expected an extends chain without cycles, found ${chain.join(" → ")}`,
            },
            source,
          ),
        );
        complete = false;
        continue;
      }
      if (visited.has(parentAbs)) continue;
      const parent = await visit(parentAbs, parentDisplay, [...stack, abs]);
      if (!parent) {
        // The parent's own problem names its file; point at the reference too.
        problems.push(
          place(
            {
              rule: "extends/not-found",
              path: refPath,
              message: `Expected a readable profile at "${ref}", found none`,
            },
            source,
          ),
        );
      }
    }
    layers.push({ name: abs, source, value });
    return source;
  };

  // extends stays inside the top-level profile's directory tree, after following links; all
  // paths are compared in the real directory so cycles show however they are written.
  const named = path.resolve(file);
  const tree = { dir: path.dirname(named), real: realOrSelf(path.dirname(named)) };
  const leafAbs = path.join(tree.real, path.basename(named));
  const leaf = await visit(leafAbs, file, []);
  const leafLayer = layers.at(-1);
  if (!leaf || !complete || !leafLayer || leafLayer.source !== leaf) {
    return { profile: null, problems: sortProblems(problems, file) };
  }

  const { merged, origins } = mergeLayers(layers.map((l) => l.value));
  applyYieldingDenials(
    merged,
    layers.filter((l) => l.name !== baselineName).map((l) => l.value),
  );
  const placeMerged = (f: Finding) => placeByOrigin(f, origins, layers, leaf);
  problems.push(...missingAfterMerge(merged).map(placeMerged));
  problems.push(...semanticFindings(merged, now).map(placeMerged));
  problems.push(...(await resolvePaths(merged, origins, layers, leaf)));

  const sorted = sortProblems(problems, file);
  if (sorted.some((p) => p.severity === "error")) return { profile: null, problems: sorted };
  return { profile: toProfile(merged, layers, leaf), problems: sorted };
}

/**
 * Load a profile or throw an InputError (exit 78) carrying every problem. Warnings
 * alone do not throw; callers that care read them from {@link loadProfile}.
 */
export async function loadProfileOrThrow(
  file: string,
  options: LoadOptions = {},
): Promise<Profile> {
  const result = await loadProfile(file, options);
  if (!result.profile) {
    const errors = result.problems.filter((p) => p.severity === "error").length;
    throw new InputError(
      `${file}: invalid profile (${errors} ${errors === 1 ? "error" : "errors"})`,
      result.problems,
    );
  }
  return result.profile;
}

function extendsList(value: unknown): { ref: string; index: number }[] {
  if (!isPlainObject(value)) return [];
  const ext = value.extends;
  if (typeof ext === "string") return ext === "" ? [] : [{ ref: ext, index: -1 }];
  if (!Array.isArray(ext)) return [];
  return ext.flatMap((ref, index) =>
    typeof ref === "string" && ref !== "" ? [{ ref, index }] : [],
  );
}

/**
 * A child key dedented to its parent's column is valid YAML that leaves the parent empty and
 * the child unknown beside it: two findings for one mistake, neither on the line to fix. Give
 * the one finding at the child instead.
 */
function dedentedChildren(findings: Finding[], value: unknown): Finding[] {
  const drop = new Set<Finding>();
  const merged = new Map<Finding, Finding>();
  for (const unknown of findings) {
    if (unknown.rule !== "schema/unknown-key") continue;
    const parentPath = unknown.path.slice(0, -1);
    const parent = parentPath.reduce<unknown>(
      (v, s) => (isPlainObject(v) ? v[s as string] : undefined),
      value,
    );
    if (!isPlainObject(parent)) continue;
    const keys = Object.keys(parent);
    const above = keys[keys.indexOf(String(unknown.path.at(-1))) - 1];
    const empty = findings.find(
      (f) =>
        f.rule === "schema/type" &&
        above !== undefined &&
        parent[above] === null &&
        pointer(f.path) === pointer([...parentPath, above]),
    );
    if (!empty || drop.has(empty)) continue;
    drop.add(empty);
    merged.set(unknown, {
      rule: "yaml/indentation",
      path: unknown.path,
      atKey: true,
      message: `Expected "${String(unknown.path.at(-1))}" indented under "${above}", found it at the same column (so "${above}" is empty and "${String(unknown.path.at(-1))}" unknown here)`,
    });
  }
  return findings.filter((f) => !drop.has(f)).map((f) => merged.get(f) ?? f);
}

function place(finding: Finding, source: SourceFile): Problem {
  const pos = positionOf(source, finding.path, { key: finding.atKey });
  return problemAt(
    pos.file,
    pos.line,
    pos.column,
    finding.rule,
    finding.message,
    pointer(finding.path),
    finding.severity,
  );
}

/** Place a finding about the merged profile in the file its value came from. */
function placeByOrigin(
  finding: Finding,
  origins: Origins,
  layers: Layer[],
  leaf: SourceFile,
): Problem {
  for (let n = finding.path.length; n >= 0; n--) {
    const origin = origins.get(pointer(finding.path.slice(0, n)));
    if (!origin) continue;
    const source = layers[origin.layer]?.source;
    if (!source) break;
    const pos = positionOf(source, [...origin.path, ...finding.path.slice(n)], {
      key: finding.atKey,
    });
    return problemAt(
      pos.file,
      pos.line,
      pos.column,
      finding.rule,
      finding.message,
      pointer(finding.path),
      finding.severity,
    );
  }
  // From the built-in baseline: report at the closest node of the profile itself.
  return place(finding, leaf);
}

async function resolvePaths(
  merged: Record<string, unknown>,
  origins: Origins,
  layers: Layer[],
  leaf: SourceFile,
): Promise<Problem[]> {
  const problems: Problem[] = [];
  for (const at of filePaths) {
    const parent = at
      .slice(0, -1)
      .reduce<unknown>((v, s) => (isPlainObject(v) ? v[s as string] : undefined), merged);
    const key = at.at(-1) as string;
    if (!isPlainObject(parent) || typeof parent[key] !== "string" || parent[key] === "") continue;
    const value = parent[key];
    const origin = origins.get(pointer(at));
    const owner = (origin && layers[origin.layer]?.source) || leaf;
    const dir = path.dirname(owner.abs);
    const resolved = path.resolve(dir, value);
    const report = (rule: string, message: string) =>
      problems.push(placeByOrigin({ rule, message, path: at }, origins, layers, leaf));
    if (!inside(dir, resolved)) {
      report(
        "path/escape",
        `Expected a path inside the profile's directory, found "${value}" leading outside it`,
      );
      continue;
    }
    let real: string;
    try {
      real = realpathSync(resolved);
    } catch {
      report("path/missing", `Expected a file at "${value}", found none`);
      continue;
    }
    if (!inside(realpathSync(dir), real)) {
      report(
        "path/escape",
        `Expected a path inside the profile's directory, found "${value}", a symbolic link leading outside it`,
      );
      continue;
    }
    if (!statSync(real).isFile()) {
      report("path/not-a-file", `Expected a file at "${value}", found a directory or special file`);
      continue;
    }
    parent[key] = resolved;
  }
  return problems;
}

function realOrSelf(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
}

/**
 * The file an `extends` reference may be read from: inside the top-level profile's directory
 * both as written and after following symbolic links (its real path, so what is read is what
 * was checked). A missing file passes here and is reported as not found.
 */
function containedParent(
  resolved: string,
  tree: { dir: string; real: string },
): string | { link: boolean } {
  if (!inside(tree.dir, resolved)) return { link: false };
  let real: string;
  try {
    real = realpathSync(resolved);
  } catch {
    return resolved;
  }
  return inside(tree.real, real) ? real : { link: true };
}

function inside(dir: string, target: string): boolean {
  const rel = path.relative(dir, target);
  return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
}

function sortProblems(problems: Problem[], leafDisplay: string): Problem[] {
  const order = new Map<string, number>([[leafDisplay, 0]]);
  for (const p of problems) if (!order.has(p.position.file)) order.set(p.position.file, order.size);
  return problems
    .map((p, i) => ({ p, i }))
    .sort(
      (a, b) =>
        order.get(a.p.position.file)! - order.get(b.p.position.file)! ||
        a.p.position.line - b.p.position.line ||
        a.p.position.column - b.p.position.column ||
        a.i - b.i,
    )
    .map(({ p }) => p);
}

function toProfile(merged: Record<string, unknown>, layers: Layer[], leaf: SourceFile): Profile {
  const spec = merged.spec as Record<string, unknown>;
  spec.attestations ??= [];
  const devices = spec.devices as { allow: { usb: string | string[] }[] };
  for (const device of devices.allow) {
    device.usb = (typeof device.usb === "string" ? [device.usb] : device.usb).map((id) =>
      id.toLowerCase(),
    );
  }
  return {
    apiVersion: merged.apiVersion,
    kind: merged.kind,
    metadata: merged.metadata,
    spec,
    waivers: merged.waivers ?? [],
    source: {
      file: leaf.abs,
      sha256: leaf.sha256,
      extends: layers.slice(0, -1).map((l) => l.name),
    },
  } as unknown as Profile;
}
