/**
 * A `/dev/tpmrm0` for code that finds its TPM the way a laptop does (`--tpm2-device=auto`,
 * and the libcryptsetup systemd-tpm2 token plugin, which only ever looks at
 * /sys/class/tpmrm): swtpm behind a pty (socat, raw mode), shown as /dev/tpmrm0 and
 * /sys/class/tpmrm/tpmrm0 inside a private mount namespace of the command only. The host's
 * /dev and /sys are never changed; the namespace and its mounts end with the command.
 *
 * This host has no vTPM proxy or CUSE, so a pty is the one device node a TPM command can go
 * through: the device TCTI writes a command and reads the response, which socat relays to
 * swtpm's raw TCP server port unchanged. After the command, transient objects and sessions
 * are flushed (what the kernel's resource manager behind a real /dev/tpmrm0 does).
 */
import { execa, type Options, type ResultPromise } from "execa";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSwtpm, type Swtpm } from "./swtpm.js";

export interface TpmDevice {
  /** The underlying swtpm (its TCTI spec for `--tpm2-device=swtpm:…`). */
  swtpm: Swtpm;
  /** Run `command` with /dev/tpmrm0 (and nothing else new) visible. */
  run(command: string, args: string[], options?: Options): ResultPromise;
  stop(): Promise<void>;
}

// $1 = pty, $2 = scratch dir, then the command. /dev becomes a small tree of bind mounts
// (null, zero, full, random, urandom, tpmrm0); /sys/class a tmpfs with tpmrm/tpmrm0.
const setup = `set -e
pty=$(readlink -f "$1"); d=$2; shift 2
mkdir -p "$d"
for n in null zero full random urandom tpmrm0; do : >"$d/$n"; done
for n in null zero full random urandom; do mount --bind "/dev/$n" "$d/$n"; done
mount --bind "$pty" "$d/tpmrm0"
mount --rbind "$d" /dev
mount -t tmpfs -o mode=0755 koffer-test-sysclass /sys/class
mkdir -p /sys/class/tpmrm/tpmrm0
"$@"; rc=$?
# The kernel's resource manager (tpmrm) flushes what a process leaves in the TPM when it
# closes the device; swtpm behind a pty has none, so the leftovers are flushed here.
for what in -t -l -s; do tpm2_flushcontext -T device:/dev/tpmrm0 "$what" 2>/dev/null || :; done
exit "$rc"`;

export async function startTpmDevice(): Promise<TpmDevice> {
  const dir = await mkdtemp(join(tmpdir(), "koffer-tpmdev-"));
  const swtpm = await startSwtpm();
  const port = /port=(\d+)/.exec(swtpm.device)?.[1];
  const link = join(dir, "pty");
  const relay = execa("socat", [`PTY,link=${link},rawer,min=1,time=0`, `TCP:127.0.0.1:${port}`], {
    reject: false,
  });
  const deadline = Date.now() + 10_000;
  while ((await execa("test", ["-e", link], { reject: false })).exitCode !== 0) {
    if (Date.now() > deadline || relay.exitCode !== null) {
      relay.kill("SIGTERM");
      await swtpm.stop();
      await rm(dir, { recursive: true, force: true });
      throw new Error("socat did not create the pty for /dev/tpmrm0");
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  let n = 0;
  const device: TpmDevice = {
    swtpm,
    run: (command, args, options = {}) => {
      const scratch = join(dir, `dev${n++}`);
      return execa(
        "unshare",
        [
          "-m",
          "--propagation",
          "private",
          "sh",
          "-c",
          setup,
          "sh",
          link,
          scratch,
          command,
          ...args,
        ],
        { reject: false, ...options },
      );
    },
    stop: async () => {
      relay.kill("SIGTERM");
      await relay;
      await swtpm.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  // Tests try wrong PINs on purpose: without this, a few of them lock the TPM's dictionary-
  // attack protection for the rest of the file. A wrong PIN still fails the same way.
  const da = await device.run("tpm2_dictionarylockout", [
    "-T",
    "device:/dev/tpmrm0",
    "--setup-parameters",
    "--max-tries=1000",
    "--recovery-time=1",
    "--lockout-recovery-time=1",
  ]);
  if (da.exitCode !== 0) {
    await device.stop();
    throw new Error(`tpm2_dictionarylockout: ${String(da.stderr)}`);
  }
  return device;
}
