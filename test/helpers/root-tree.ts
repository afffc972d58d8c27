/**
 * Root-tree builder: writes a laptop's files into a temporary root directory so the
 * gatherers can read it through a `root` target exactly as they read a real image.
 *
 * - files with content, mode and owner;
 * - symbolic links (absolute targets are meant relative to the root, as on the laptop);
 * - a dpkg status database (and file lists, for "which package owns this file");
 * - systemd unit files, enabled and masked with the real `systemctl --root`
 *   (SYSTEMCTL_SKIP_SYSV=1), so the symlinks are the ones systemd itself makes.
 *
 * Roots are made under one temporary directory per test process and removed at exit.
 */
import { execa } from "execa";
import { chown, cp, mkdir, mkdtemp, symlink, writeFile, chmod } from "node:fs/promises";
import { dirname, join } from "node:path";
import { tempDir } from "./tmp.js";

export interface FileSpec {
  content: string | Buffer;
  mode?: number;
  uid?: number;
  gid?: number;
}

export interface DpkgPackage {
  name: string;
  version?: string;
  /** dpkg's Status field; default "install ok installed" (= `ii`). */
  status?: string;
  arch?: string;
  /** Paths the package owns (written to /var/lib/dpkg/info/NAME.list). */
  files?: string[];
}

export interface UnitSpec {
  /** Whole unit file text; default a minimal service/target with the [Install] below. */
  text?: string;
  wantedBy?: string;
  alias?: string[];
}

export interface RootSpec {
  /** Start from a copy of this tree (e.g. the cached debootstrapped root). */
  base?: string;
  files?: Record<string, string | Buffer | FileSpec>;
  symlinks?: Record<string, string>;
  dirs?: string[];
  packages?: DpkgPackage[];
  /** Unit files to install under /usr/lib/systemd/system. */
  units?: Record<string, UnitSpec>;
  /** Units to enable / mask with `systemctl --root` (unit files are created when missing). */
  enable?: string[];
  mask?: string[];
}

let processBase: string | null = null;
function baseDir(): string {
  if (processBase === null) {
    // Removed after the test file (test/setup/remove-temp-dirs.ts): an "exit" handler never
    // ran when vitest ended its worker, and every run left a tree behind.
    processBase = tempDir("roots");
  }
  return processBase;
}

/** The text of a minimal unit file of the unit's type, installable with `systemctl enable`. */
export function unitText(name: string, spec: UnitSpec = {}): string {
  if (spec.text !== undefined) return spec.text;
  const type = name.slice(name.lastIndexOf(".") + 1);
  const body =
    type === "service"
      ? "[Service]\nType=simple\nExecStart=/usr/bin/true\n"
      : type === "timer"
        ? "[Timer]\nOnCalendar=daily\n"
        : type === "socket"
          ? "[Socket]\nListenStream=/run/koffer-test.sock\n"
          : type === "mount"
            ? "[Mount]\nWhat=tmpfs\nWhere=/tmp\nType=tmpfs\n"
            : "";
  const wantedBy =
    spec.wantedBy ??
    (type === "timer"
      ? "timers.target"
      : type === "socket"
        ? "sockets.target"
        : "multi-user.target");
  const alias = spec.alias?.length ? `Alias=${spec.alias.join(" ")}\n` : "";
  return `[Unit]\nDescription=${name} (koffer test)\n\n${body}\n[Install]\nWantedBy=${wantedBy}\n${alias}`;
}

/** dpkg's status file for these packages. */
export function dpkgStatus(packages: DpkgPackage[]): string {
  return packages
    .map(
      (p) =>
        `Package: ${p.name}\nStatus: ${p.status ?? "install ok installed"}\nPriority: optional\nSection: misc\nInstalled-Size: 1\nMaintainer: koffer tests <tests@example.org>\nArchitecture: ${p.arch ?? "amd64"}\nVersion: ${p.version ?? "1.0-1"}\nDescription: ${p.name} (koffer test)\n`,
    )
    .join("\n");
}

async function writeInto(
  root: string,
  path: string,
  spec: string | Buffer | FileSpec,
): Promise<void> {
  const file: FileSpec =
    typeof spec === "string" || Buffer.isBuffer(spec) ? { content: spec } : spec;
  const host = join(root, path);
  await mkdir(dirname(host), { recursive: true });
  await writeFile(host, file.content);
  await chmod(host, file.mode ?? 0o644);
  if (file.uid !== undefined || file.gid !== undefined) {
    await chown(host, file.uid ?? 0, file.gid ?? 0);
  }
}

async function systemctl(root: string, verb: string, units: string[]): Promise<void> {
  if (units.length === 0) return;
  await execa("systemctl", [`--root=${root}`, verb, ...units], {
    env: { SYSTEMCTL_SKIP_SYSV: "1", LC_ALL: "C" },
  });
}

/** Build a root tree from `spec` and return its directory. */
export async function buildRoot(spec: RootSpec = {}): Promise<string> {
  const root = await mkdtemp(join(baseDir(), "root-"));
  if (spec.base)
    await cp(spec.base, root, {
      recursive: true,
      preserveTimestamps: true,
      verbatimSymlinks: true,
    });
  for (const dir of [
    "/etc",
    "/usr/lib/systemd/system",
    "/etc/systemd/system",
    ...(spec.dirs ?? []),
  ]) {
    await mkdir(join(root, dir), { recursive: true });
  }
  for (const [path, file] of Object.entries(spec.files ?? {})) await writeInto(root, path, file);
  for (const [path, to] of Object.entries(spec.symlinks ?? {})) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await symlink(to, join(root, path));
  }
  if (spec.packages) {
    await writeInto(root, "/var/lib/dpkg/status", dpkgStatus(spec.packages));
    await mkdir(join(root, "/var/lib/dpkg/info"), { recursive: true });
    for (const p of spec.packages) {
      if (p.files)
        await writeInto(root, `/var/lib/dpkg/info/${p.name}.list`, `${p.files.join("\n")}\n`);
    }
  }
  const units = { ...spec.units };
  for (const name of spec.enable ?? []) units[name] ??= {};
  for (const [name, unit] of Object.entries(units)) {
    await writeInto(root, `/usr/lib/systemd/system/${name}`, unitText(name, unit));
  }
  await systemctl(root, "enable", spec.enable ?? []);
  await systemctl(root, "mask", spec.mask ?? []);
  return root;
}
