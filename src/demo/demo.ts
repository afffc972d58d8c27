/**
 * `koffer demo`: the whole flow on a throwaway laptop. A debootstrapped Debian root (12 by
 * default, or 13 with `--release trixie`; cached under ~/.cache/koffer, copied for each demo),
 * a LUKS2 disk image with weak settings (pbkdf2 keyslots and a stray passphrase slot), a
 * software TPM (swtpm) standing in for the laptop's; verify (non-compliant), provision with
 * the release's example profile (examples/meerane.yaml, examples/meerane-trixie.yaml) and the
 * example test CA, verify again, and the HTML report.
 *
 * It needs root (debootstrap, chroot, mount) and Debian's package mirror; without either it
 * says so and stops (exit 2) before doing anything.
 */
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, truncate, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { IncompleteError } from "../errors.js";
import { releases, type DebianRelease, type PlatformId } from "../platform/releases.js";
import { pbkdfCostFromEnv } from "../provision/handlers/index.js";
import { provision, verifyTarget, type ProvisionOutcome } from "../provision/provision.js";
import type { ApplyProgress } from "../provision/apply.js";
import { loadProfileOrThrow } from "../profiles/loader.js";
import { readPkcs12 } from "../pki/pkcs12.js";
import type { Result } from "../report/types.js";
import { run } from "../targets/exec.js";
import { RootTarget } from "../targets/root.js";
import { step, type StepEvents } from "../progress.js";
import { demoCacheDir } from "./cache.js";
import { debianMirror, debianRoot, debianRootPath } from "./debian-root.js";

export interface DemoOptions {
  /** Where the laptop copy, disk image and reports go (default: a new dir under ~/.cache/koffer/demo). */
  workDir?: string;
  /** Progress lines ("building the Debian root …"). */
  log?: (line: string) => void;
  progress?: ApplyProgress;
  env?: NodeJS.ProcessEnv;
  /** The Debian release of the laptop (default debian-12). */
  release?: PlatformId;
  /** Long steps (debootstrap, copying, apt in the sandbox …) for the CLI to show. */
  steps?: StepEvents;
}

export interface DemoOutcome {
  release: DebianRelease;
  workDir: string;
  root: string;
  disk: string;
  before: Result;
  beforeExitCode: number;
  provision: ProvisionOutcome;
  /** The HTML report of the final verification (host path). */
  htmlReport: string;
}

const examplesDir = fileURLToPath(new URL("../../examples/", import.meta.url));

/** The throwaway laptop's hostname: it names the device certificate and the report. */
export const demoHostname = "koffer-demo-01";
/** Why the demo cannot run here, or null. */
export async function demoPreconditions(
  release: DebianRelease = releases["debian-12"],
): Promise<string | null> {
  if (typeof process.getuid === "function" && process.getuid() !== 0)
    return "koffer demo needs root: it debootstraps a Debian root, mounts /proc and /dev into it and runs apt-get in a chroot (run it with sudo)";
  const mirror = debianMirror();
  try {
    const response = await fetch(
      new URL(`dists/${release.codename}/InRelease`, `${mirror.replace(/\/?$/, "/")}`),
      {
        method: "HEAD",
        signal: AbortSignal.timeout(15_000),
      },
    );
    if (!response.ok)
      return `Debian's package mirror ${mirror} answered ${response.status}; koffer demo needs it to build the laptop and install packages`;
  } catch (error) {
    return `cannot reach Debian's package mirror ${mirror} (${(error as Error).message}); koffer demo needs it to build the laptop and install packages`;
  }
  return null;
}

async function must(command: string, args: string[], input?: string): Promise<void> {
  const result = await run(command, args, {
    timeoutMs: 30 * 60_000,
    ...(input === undefined ? {} : { input }),
  });
  if (result.exitCode !== 0)
    throw new IncompleteError(
      "E_DEMO",
      `${command} ${args[0] ?? ""} failed: ${result.stderr.trim()}`,
    );
}

/** A weak LUKS2 image as laptops are often delivered: pbkdf2 keyslots, a stray second passphrase. */
async function weakDisk(path: string, passphrase: string): Promise<void> {
  await writeFile(path, "");
  await truncate(path, 32 * 1024 * 1024);
  const weak = ["--pbkdf=pbkdf2", "--pbkdf-force-iterations=1000"];
  await must(
    "cryptsetup",
    [
      "luksFormat",
      "--batch-mode",
      "--type=luks2",
      "--cipher=aes-xts-plain64",
      "--key-size=512",
      ...weak,
      "--key-file=-",
      path,
    ],
    passphrase,
  );
  // Both passphrases through stdin (the first limited by its size): nothing on disk.
  await must(
    "cryptsetup",
    [
      "luksAddKey",
      "--batch-mode",
      "--key-file=-",
      `--keyfile-size=${Buffer.byteLength(passphrase)}`,
      ...weak,
      path,
      "-",
    ],
    passphrase + "a-stray-passphrase-nobody-remembers",
  );
}

/**
 * Start a software TPM on loopback; null when swtpm is not installed. A daemon that outlives
 * the call does not fit the exec seam (which waits for the command), so execa is used here.
 */
async function startSwtpm(stateDir: string): Promise<{ device: string; stop(): void } | null> {
  const { execa } = await import("execa");
  const { createServer } = await import("node:net");
  const free = (port: number) =>
    new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once("error", () => resolve(false));
      server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
    });
  let port = 0;
  for (let candidate = 23_400; candidate < 23_600; candidate += 2)
    if ((await free(candidate)) && (await free(candidate + 1))) {
      port = candidate;
      break;
    }
  if (port === 0) return null;
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const proc = execa(
    "swtpm",
    [
      "socket",
      "--tpm2",
      "--tpmstate",
      `dir=${stateDir}`,
      "--server",
      `type=tcp,port=${port},bindaddr=127.0.0.1`,
      "--ctrl",
      `type=tcp,port=${port + 1},bindaddr=127.0.0.1`,
      "--flags",
      "not-need-init,startup-clear",
    ],
    { reject: false },
  );
  const started = await Promise.race([
    proc.then(() => false),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 500)),
  ]);
  if (!started) return null;
  return { device: `swtpm:host=127.0.0.1,port=${port}`, stop: () => void proc.kill("SIGTERM") };
}

export async function runDemo(options: DemoOptions = {}): Promise<DemoOutcome> {
  const log = options.log ?? (() => undefined);
  const release = releases[options.release ?? "debian-12"];
  const reason = await demoPreconditions(release);
  if (reason !== null) throw new IncompleteError("E_DEMO_PRECONDITION", reason);
  const cache = join(homedir(), ".cache", "koffer");
  await mkdir(demoCacheDir(), { recursive: true });
  const workDir = options.workDir ?? (await mkdtemp(join(demoCacheDir(), "laptop-")));
  await mkdir(workDir, { recursive: true });

  const which = { release: release.platform };
  log(
    `${release.name} root: ${debianRootPath(which)} (built once with debootstrap; a few minutes the first time)`,
  );
  const steps = options.steps;
  const base = await step(steps, `${release.name} root (debootstrap when not cached)`, () =>
    debianRoot(which),
  );
  const root = join(workDir, "root");
  log(`copying it to ${root}`);
  await step(steps, "copying the root", () => must("cp", ["-a", base, root]));
  // debootstrap copies the build host's name; the throwaway laptop gets one of its own.
  await writeFile(join(root, "etc/hostname"), `${demoHostname}\n`);
  const disk = join(workDir, "disk.img");
  const passphrase = randomBytes(12).toString("base64url");
  await writeFile(join(workDir, "disk-passphrase"), `${passphrase}\n`, { mode: 0o600 });
  log(`weak LUKS2 disk image ${disk} (pbkdf2, a stray passphrase slot)`);
  await step(steps, "making the weak LUKS2 disk image", () => weakDisk(disk, passphrase));

  const profileFile = join(examplesDir, release.exampleProfile);
  const profile = await loadProfileOrThrow(profileFile);
  const target = await RootTarget.open({ root, disks: [disk] });
  log("verify before provisioning");
  const { result: before } = await verifyTarget(target, profile, {
    now: new Date(),
    ...(steps === undefined ? {} : { steps }),
  });
  await target.close();
  const { exitCodeFor } = await import("../report/exit-code.js");

  const caPass =
    (await readFile(join(examplesDir, "certs/test-vpn-ca.pass"), "utf8")).split(/\r?\n/)[0] ?? "";
  const p12 = readPkcs12(await readFile(join(examplesDir, "certs/test-vpn-ca.p12")), caPass);
  const tpm = await startSwtpm(join(workDir, "swtpm"));
  log(
    tpm === null
      ? "swtpm not available: TPM2 enrolment is left for the first boot"
      : `software TPM for the laptop: ${tpm.device}`,
  );
  const pin = String(100_000 + (randomBytes(4).readUInt32BE(0) % 900_000));
  await writeFile(join(workDir, "tpm2-pin"), `${pin}\n`, { mode: 0o600 });
  try {
    log(`provision with ${profileFile} and the example test CA`);
    const outcome = await provision({
      profile,
      root,
      disks: [disk],
      outDir: join(workDir, "reports"),
      handlers: {
        passphrase,
        pbkdfCost: pbkdfCostFromEnv(options.env ?? process.env),
        ca: { certPem: p12.certificates[0] ?? "", key: p12.key },
        aptArchives: join(cache, release.aptArchiveCache),
        ...(tpm === null ? {} : { tpm2Device: tpm.device, tpm2Pin: pin }),
        log,
      },
      ...(options.progress === undefined ? {} : { progress: options.progress }),
      ...(steps === undefined ? {} : { steps }),
    });
    const htmlReport = outcome.reports.local.find((p) => p.endsWith(".html")) ?? "";
    return {
      release,
      workDir,
      root,
      disk,
      before,
      beforeExitCode: exitCodeFor(before),
      provision: outcome,
      htmlReport,
    };
  } finally {
    tpm?.stop();
  }
}
