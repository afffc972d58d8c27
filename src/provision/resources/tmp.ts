/**
 * Temporary files and execution control (DATA-01, APP-01): /tmp and /var/tmp on tmpfs with
 * noexec,nosuid,nodev, and /home bound onto itself with noexec. fstab is the place both the
 * offline check and systemd read (its fstab generator makes tmp.mount from the /tmp line).
 */
import {
  fstabMount,
  isMasked,
  mountFlag,
  mountPath,
  mountUnit,
  unitState,
} from "../../checks/util.js";
import { managedPath } from "../../facts/managed.js";
import type { Change } from "../types.js";
import { fileChange, managedText, type PlanContext } from "./common.js";

const wanted: { file: string; line: string; tmpfs: boolean }[] = [
  {
    file: "/tmp",
    line: "tmpfs\t/tmp\ttmpfs\tnosuid,nodev,noexec,mode=1777,size=25%\t0\t0",
    tmpfs: true,
  },
  {
    file: "/var/tmp",
    line: "tmpfs\t/var/tmp\ttmpfs\tnosuid,nodev,noexec,mode=1777,size=10%\t0\t0",
    tmpfs: true,
  },
  { file: "/home", line: "/home\t/home\tnone\tbind,nosuid,nodev,noexec\t0\t0", tmpfs: false },
];

function mountOk(ctx: PlanContext, file: string, tmpfs: boolean): boolean {
  const entry = fstabMount(ctx.facts, file);
  return (
    entry !== undefined &&
    mountFlag(entry.options, "noexec", "exec") &&
    (!tmpfs || entry.vfstype === "tmpfs")
  );
}

/** fstab with koffer's lines for the mounts that lack them (any earlier line for the mount is commented out). */
export function fstabWithMounts(text: string, files: string[]): string {
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  const out = lines.map((line) => {
    const fields = line.trim().split(/\s+/);
    return !line.trim().startsWith("#") &&
      fields.length >= 2 &&
      files.includes(mountPath(fields[1] as string))
      ? `# ${line}  # koffer: replaced below`
      : line;
  });
  for (const w of wanted.filter((w) => files.includes(w.file)))
    out.push(`# koffer: ${w.file} noexec (APP-01${w.tmpfs ? ", DATA-01" : ""})`, w.line);
  return out.join("\n") + "\n";
}

/**
 * A masked mount unit (tmp.mount → /dev/null) keeps its fstab line from ever mounting: the
 * checks judge the unit, so provision unmasks it (issue 11).
 */
function unmaskMounts(ctx: PlanContext): Change[] {
  return wanted
    .map((w) => mountUnit(w.file))
    .filter((unit) => isMasked(unitState(ctx.facts, unit)))
    .map((unit) => ({
      kind: "unmask-unit" as const,
      unit,
      resource: "tmp",
      controls: unit === "tmp.mount" ? ["APP-01", "DATA-01"] : ["APP-01"],
      summary: `unmask ${unit} (a masked mount unit never mounts its fstab line)`,
    }));
}

export function planTmp(ctx: PlanContext): Change[] {
  return [...planFstab(ctx), ...unmaskMounts(ctx)];
}

function planFstab(ctx: PlanContext): Change[] {
  // APP-01 asks for noexec on all three whatever DATA-01 says, so they are planned together.
  const needed = wanted.filter((w) => !mountOk(ctx, w.file, w.tmpfs));
  if (needed.length === 0) return [];
  const text = managedText(ctx.facts, managedPath.fstab);
  if (text === null) return []; // fstab unknown (a snapshot): nothing safe to write
  const known = ctx.facts.managedFiles?.[managedPath.fstab];
  return fileChange(ctx, {
    resource: "tmp",
    path: managedPath.fstab,
    content: fstabWithMounts(
      text,
      needed.map((w) => w.file),
    ),
    mode: known?.mode,
    uid: known?.uid,
    gid: known?.gid,
    summary: `mount ${needed.map((w) => w.file).join(", ")} noexec,nosuid,nodev${needed.some((w) => w.tmpfs) ? " (tmpfs)" : ""}`,
    controls: ["APP-01", "DATA-01"],
    satisfied: false,
  });
}
