/**
 * Boots the laptop VM's disk under QEMU (KVM when /dev/kvm exists, TCG otherwise): q35 with
 * SMM and the secure flash, OVMF with Microsoft's keys enrolled (OVMF_CODE_4M.ms.fd +
 * a per-VM copy of OVMF_VARS_4M.ms.fd) or without Secure Boot (plain OVMF_CODE_4M.fd +
 * OVMF_VARS_4M.fd), a TPM 2.0 from swtpm (socket, kept across boots of one VM), the disk on
 * NVMe as a qcow2 overlay of the cached raw image, an xHCI controller for USB hot-plug over
 * QMP, and the serial console on the process's stdio, driven expect-style and logged whole
 * to test-artifacts/vm-<name>.log.
 *
 * Everything started (qemu, swtpm) and every directory made is registered with
 * test/rig/cleanup.ts: removed on stop(), at exit, on SIGINT/SIGTERM/SIGHUP, or by the
 * next run's sweeper when this process was killed outright.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync } from "node:fs";
import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { createConnection, type Socket } from "node:net";
import { join, resolve } from "node:path";
import { execa } from "execa";
import { processStart, sweepStale, track, undoLeftover } from "../rig/cleanup.js";

const ovmf = "/usr/share/OVMF";
export const artifactsDir = resolve("test-artifacts");

/** Why the VM cannot run here, or null. */
export function vmSkipReason(): string | null {
  if (typeof process.getuid === "function" && process.getuid() !== 0)
    return "the VM image build needs root (systemd-nspawn, cryptsetup); CI runs as root";
  for (const [file, pkg] of [
    ["/usr/bin/qemu-system-x86_64", "qemu-system-x86"],
    ["/usr/bin/qemu-img", "qemu-utils"],
    [`${ovmf}/OVMF_CODE_4M.ms.fd`, "ovmf"],
    ["/usr/bin/swtpm", "swtpm"],
    ["/usr/bin/mcopy", "mtools"],
    ["/usr/sbin/mkfs.vfat", "dosfstools"],
    ["/usr/bin/systemd-nspawn", "systemd-container"],
  ] as const)
    if (!existsSync(file)) return `${file} is missing (Debian package ${pkg})`;
  return null;
}

export const accel = (): "kvm" | "tcg" => (existsSync("/dev/kvm") ? "kvm" : "tcg");

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A VM's persistent parts across boots: its disk overlay, NVRAM copies and TPM state. */
export interface VmState {
  dir: string;
  overlay: string;
  tpmDir: string;
  remove(): Promise<void>;
}

/** A fresh VM over the cached raw disk `baseImage` (never written: a qcow2 overlay takes the writes). */
export async function createVmState(name: string, baseImage: string): Promise<VmState> {
  sweepStale();
  const dir = await mkdtemp(join("/var/tmp", `kof-vm-${name}-`));
  const item = {
    kind: "mount" as const,
    name: dir.slice(dir.lastIndexOf("/") + 1),
    path: join(dir, "none"),
    dir,
  };
  const untrack = track(item, () => undoLeftover(item));
  const overlay = join(dir, "disk.qcow2");
  await execa("qemu-img", ["create", "-q", "-f", "qcow2", "-F", "raw", "-b", baseImage, overlay]);
  const tpmDir = join(dir, "tpm");
  mkdirSync(tpmDir, { mode: 0o700 });
  await copyFile(`${ovmf}/OVMF_VARS_4M.ms.fd`, join(dir, "vars-sb.fd"));
  await copyFile(`${ovmf}/OVMF_VARS_4M.fd`, join(dir, "vars-plain.fd"));
  return {
    dir,
    overlay,
    tpmDir,
    remove: async () => {
      untrack();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface BootOptions {
  /** Secure Boot on (Microsoft keys enrolled), or off (plain OVMF: PCR 7 measures differently). */
  secureBoot: boolean;
  /** Log file name below test-artifacts (vm-<logName>.log). */
  logName: string;
  memoryMiB?: number;
  /** Extra -device values at start (e.g. "usb-ccid,bus=xhci.0,id=ccid"). */
  devices?: string[];
  /** Extra -drive values at start (a second disk; its -device goes in `devices`). */
  drives?: string[];
  /**
   * A NIC (virtio-net, no option ROM: nothing extra is measured into PCR 7) on the existing
   * tap `tap` of host namespace `netns`; qemu then runs inside that namespace (`ip netns
   * exec`), so the VM's packets reach only what the test put there (see network.ts).
   */
  net?: { netns: string; tap: string; mac: string };
}

export interface Vm {
  readonly logPath: string;
  /** Wait until the console output after the cursor matches; returns the match, moves the cursor past it. */
  expect(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  /** Type a line on the serial console (a newline is added). */
  send(line: string): void;
  /** Run a shell command on the logged-in console; stdout+stderr and exit status. */
  sh(command: string, timeoutMs?: number): Promise<{ out: string; code: number }>;
  /** A QMP command (device_add, device_del, blockdev-add …); resolves with its return value. */
  qmp(execute: string, args?: Record<string, unknown>): Promise<unknown>;
  /** Console text so far. */
  console(): string;
  /** Power off (ACPI, then kill) and stop swtpm. Idempotent. */
  stop(): Promise<void>;
  /** Resolves when qemu has exited. */
  exited: Promise<number | null>;
}

async function waitFor(path: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`${path} did not appear`);
    await sleep(50);
  }
}

function trackProcess(name: string, child: ChildProcess): () => void {
  const pid = child.pid ?? 0;
  const item = { kind: "machine" as const, name, nspawnPid: pid, nspawnStart: processStart(pid) };
  return track(item, () => undoLeftover(item));
}

/** Boot the VM once. The disk, NVRAM and TPM state of `state` persist to the next boot. */
export async function bootVm(state: VmState, opts: BootOptions): Promise<Vm> {
  mkdirSync(artifactsDir, { recursive: true });
  const logPath = join(artifactsDir, `vm-${opts.logName}.log`);
  appendFileSync(
    logPath,
    `\n===== boot ${new Date().toISOString()} secureBoot=${opts.secureBoot} accel=${accel()}\n`,
  );
  const run = await mkdtemp(join(state.dir, "run-"));
  const tpmSock = join(run, "swtpm.sock");
  const qmpSock = join(run, "qmp.sock");

  const swtpm = spawn(
    "swtpm",
    [
      "socket",
      "--tpm2",
      "--tpmstate",
      `dir=${state.tpmDir}`,
      "--ctrl",
      `type=unixio,path=${tpmSock}`,
      "--terminate",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  const untrackSwtpm = trackProcess(`swtpm-${swtpm.pid}`, swtpm);
  let swtpmErr = "";
  swtpm.stderr?.on("data", (d: Buffer) => (swtpmErr += d.toString()));
  await waitFor(tpmSock, 10_000).catch((e: Error) => {
    throw new Error(`${e.message}: swtpm: ${swtpmErr}`);
  });

  const code = opts.secureBoot ? "OVMF_CODE_4M.ms.fd" : "OVMF_CODE_4M.fd";
  const vars = join(state.dir, opts.secureBoot ? "vars-sb.fd" : "vars-plain.fd");
  const args = [
    "-machine",
    `q35,smm=on,accel=${accel()}`,
    ...(accel() === "kvm" ? ["-cpu", "host"] : ["-cpu", "max"]),
    "-m",
    String(opts.memoryMiB ?? 2048),
    "-smp",
    "2",
    "-nodefaults",
    "-display",
    "none",
    "-no-reboot",
    "-global",
    "driver=cfi.pflash01,property=secure,value=on",
    "-drive",
    `if=pflash,format=raw,unit=0,file=${ovmf}/${code},readonly=on`,
    "-drive",
    `if=pflash,format=raw,unit=1,file=${vars}`,
    "-chardev",
    `socket,id=chrtpm,path=${tpmSock}`,
    "-tpmdev",
    "emulator,id=tpm0,chardev=chrtpm",
    "-device",
    "tpm-tis,tpmdev=tpm0",
    "-drive",
    `if=none,id=disk0,file=${state.overlay},format=qcow2,cache=unsafe`,
    "-device",
    "nvme,drive=disk0,serial=koffer-vm-0",
    "-device",
    "qemu-xhci,id=xhci",
    ...(opts.drives ?? []).flatMap((d) => ["-drive", d]),
    ...(opts.devices ?? []).flatMap((d) => ["-device", d]),
    "-chardev",
    "stdio,id=ser0,signal=off",
    "-serial",
    "chardev:ser0",
    "-qmp",
    `unix:${qmpSock},server=on,wait=off`,
  ];
  if (opts.net)
    args.push(
      "-netdev",
      `tap,id=net0,ifname=${opts.net.tap},script=no,downscript=no`,
      "-device",
      `virtio-net-pci,netdev=net0,mac=${opts.net.mac},romfile=`,
    );
  // `ip netns exec` execs qemu: the tracked pid is qemu's own.
  const qemu = opts.net
    ? spawn("ip", ["netns", "exec", opts.net.netns, "qemu-system-x86_64", ...args], {
        stdio: ["pipe", "pipe", "pipe"],
      })
    : spawn("qemu-system-x86_64", args, { stdio: ["pipe", "pipe", "pipe"] });
  const untrackQemu = trackProcess(`qemu-${qemu.pid}`, qemu);
  const exited = new Promise<number | null>((r) => qemu.once("exit", (c) => r(c)));

  let text = "";
  let cursor = 0;
  const onData = (d: Buffer) => {
    const s = d.toString("utf8");
    text += s;
    appendFileSync(logPath, s);
  };
  qemu.stdout?.on("data", onData);
  qemu.stderr?.on("data", (d: Buffer) => {
    appendFileSync(logPath, `[qemu stderr] ${d.toString()}`);
  });

  let qmpSocket: Socket | null = null;
  let qmpBuf = "";
  const qmpWaiters: ((msg: Record<string, unknown>) => void)[] = [];
  const connectQmp = async (): Promise<Socket> => {
    if (qmpSocket) return qmpSocket;
    await waitFor(qmpSock, 10_000);
    const sock = createConnection(qmpSock);
    // qemu closes the socket when it quits (stop()); a reset is no test failure.
    sock.on("error", () => {});
    sock.on("data", (d: Buffer) => {
      qmpBuf += d.toString();
      let nl: number;
      while ((nl = qmpBuf.indexOf("\n")) >= 0) {
        const line = qmpBuf.slice(0, nl).trim();
        qmpBuf = qmpBuf.slice(nl + 1);
        if (!line) continue;
        const msg = JSON.parse(line) as Record<string, unknown>;
        if ("return" in msg || "error" in msg || "QMP" in msg) qmpWaiters.shift()?.(msg);
      }
    });
    const greeting = new Promise<Record<string, unknown>>((r) => qmpWaiters.push(r));
    await greeting;
    qmpSocket = sock;
    await qmpRaw("qmp_capabilities");
    return sock;
  };
  const qmpRaw = (execute: string, args?: Record<string, unknown>) =>
    new Promise<Record<string, unknown>>((r) => {
      qmpWaiters.push(r);
      qmpSocket?.write(`${JSON.stringify({ execute, ...(args ? { arguments: args } : {}) })}\n`);
    });

  let stopped = false;
  const vm: Vm = {
    logPath,
    exited,
    async expect(pattern, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      const re = new RegExp(pattern.source, pattern.flags.replace("g", ""));
      for (;;) {
        const m = re.exec(text.slice(cursor));
        if (m) {
          cursor += m.index + m[0].length;
          return m;
        }
        if (qemu.exitCode !== null)
          throw new Error(
            `VM exited (${qemu.exitCode}) while waiting for ${pattern}; see ${logPath}`,
          );
        if (Date.now() > deadline)
          throw new Error(`timed out after ${timeoutMs} ms waiting for ${pattern}; see ${logPath}`);
        await sleep(100);
      }
    },
    send(line) {
      qemu.stdin?.write(`${line}\r`);
    },
    async sh(command, timeoutMs = 120_000) {
      const token = `K${Math.random().toString(36).slice(2, 10)}`;
      vm.send(`echo ${token}B; ( ${command} ) 2>&1; echo ${token}E$?`);
      await vm.expect(new RegExp(`${token}B\\r?\\n`), timeoutMs);
      const start = cursor;
      const end = await vm.expect(new RegExp(`${token}E(\\d+)`), timeoutMs);
      const out = text.slice(start, cursor - end[0].length).replace(/\r/g, "");
      return { out, code: Number(end[1]) };
    },
    async qmp(execute, args) {
      await connectQmp();
      const reply = await qmpRaw(execute, args);
      if ("error" in reply) throw new Error(`QMP ${execute}: ${JSON.stringify(reply.error)}`);
      return reply.return;
    },
    console: () => text,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (qemu.exitCode === null) {
        try {
          if (qmpSocket || existsSync(qmpSock)) await Promise.race([vm.qmp("quit"), sleep(3000)]);
        } catch {
          // fall through to the kill
        }
        await Promise.race([exited, sleep(5000)]);
        if (qemu.exitCode === null) qemu.kill("SIGKILL");
        await exited;
      }
      qmpSocket?.destroy();
      untrackQemu();
      if (swtpm.exitCode === null) {
        swtpm.kill("SIGTERM");
        await Promise.race([new Promise((r) => swtpm.once("exit", r)), sleep(3000)]);
        if (swtpm.exitCode === null) swtpm.kill("SIGKILL");
      }
      untrackSwtpm();
      await rm(run, { recursive: true, force: true });
    },
  };
  return vm;
}

/**
 * Log in as the admin on the serial console (getty's prompt; koffer locks root's password),
 * become root with `sudo -i`, and make the shell quiet for scripting.
 */
export async function prepareShell(
  vm: Vm,
  password: string,
  timeoutMs: number,
  user = "kisa-admin",
): Promise<void> {
  await vm.expect(/login: $/m, timeoutMs);
  vm.send(user);
  await vm.expect(/Password: ?$/m, 60_000);
  vm.send(password);
  await vm.expect(/\$ $/m, 120_000);
  vm.send("sudo -i");
  // sudo asks for the password, unless an earlier boot gave the admin sudo without one (the
  // ssh steps of boot 2, ssh-vm.ts).
  const asked = await vm.expect(/(password for [\w-]+: ?$)|(root@[\w-]+:~# )/m, 120_000);
  if (asked[1] !== undefined) {
    vm.send(password);
    await vm.expect(/root@[\w-]+:~# /, 120_000);
  }
  vm.send(
    // NO_COLOR: Debian 13's iproute2 colours `ip` on a terminal (its changelog: "Enable output
    // with colors on terminals"), even with TERM=dumb; escapes split "inet 10.251.9.1/24".
    "stty -echo cols 500; dmesg -n 1; export PS1='# ' SYSTEMD_PAGER= SYSTEMD_COLORS=0 TERM=dumb NO_COLOR=1",
  );
  await sleep(500);
  const probe = await vm.sh("echo ready");
  if (!probe.out.includes("ready")) throw new Error("the VM console does not answer");
}

/** The LUKS prompt of systemd-cryptsetup in the initrd (passphrase, or recovery key with PCR 7 changed). */
export const passphrasePrompt =
  /Please enter (passphrase (or recovery key )?|recovery key )for disk[^\n]*:/;

/**
 * The first boot of a fresh overlay of the cached disk, up to a root shell: the technician's
 * passphrase at the initrd prompt, then the first-boot unit (koffer-tpm2-enrol) asks for the
 * passphrase and the new PIN (twice) on the console before the login.
 */
export async function firstBootLogin(
  vm: Vm,
  opts: { passphrase: string; pin: string; password: string; timeoutMs: number },
): Promise<{ enrolUnitAsked: boolean }> {
  await vm.expect(passphrasePrompt, opts.timeoutMs);
  vm.send(opts.passphrase);
  let enrolUnitAsked = false;
  for (let i = 0; i < 6; i++) {
    const m = await vm.expect(/(login: $)|(TPM-PIN[^\n]*:)|(passphrase[^\n]*:)/im, opts.timeoutMs);
    if (m[1] !== undefined) break;
    enrolUnitAsked = true;
    vm.send(m[2] !== undefined ? opts.pin : opts.passphrase);
  }
  vm.send(""); // a fresh login prompt for prepareShell
  await prepareShell(vm, opts.password, opts.timeoutMs);
  return { enrolUnitAsked };
}
