/**
 * The differential oracle on the booted laptop VM (issue 11): the probes a container cannot
 * answer (test/mutations/generate.ts, `notLive`) whose class the VM answers (`vm`). On a
 * booted, logged-in laptop VM (test/vm/qemu.ts) each such mutation is applied IN PLACE (its
 * files written through the serial console as a base64 tar, put back after), koffer judges
 * the VM's files offline, the real program computes the truth, and the two are compared.
 *
 * The offline verdict is koffer's library on the VM's own tree as files: one long-running
 * judge (oracle-vm-scripts.ts) in a jail whose /tree is a bind mount of the VM's root, fed
 * mutation after mutation (a node start per mutation costs seconds under TCG). It is the
 * koffer build installed on the disk (/opt/koffer), i.e. the build of the same sources the
 * disk's cache key names.
 *
 * The truths:
 *
 * - audit-events (LOG-01): `augenrules --load` (what auditd.service runs at boot), then
 *   every event class LOG-01 promises is done for real (the battery in oracle-vm-scripts.ts)
 *   and the truth is whether the kernel recorded each one (audit.log since the battery
 *   started). Not a model of the rules: the kernel's own filters decide.
 * - usb-devices (USB-01, USB-02): usbguard-daemon restarted on the mutated configuration
 *   (PresentDevicePolicy=apply-policy: it decides for the devices present exactly as at boot)
 *   with a QEMU usb-storage stick (46f4:0001, 08:06:50) and a usb-kbd (0627:0001, 03:01:01)
 *   plugged in; USB-02 passes when no storage device is allowed, USB-01 when no device outside
 *   the profile's allowlist is. A daemon that does not start fails both: at boot nothing would
 *   block, the kernel authorises every device by default.
 * - usb-audit (LOG-01): the stick unplugged and plugged in again (QMP device_del/device_add)
 *   under the restarted daemon; the truth is whether the decision reached the kernel's audit
 *   trail (an audit record from usbguard in audit.log), which is where LOG-01 promises it.
 * - grub-mkconfig (APP-01, BOOT-04): update-grub is `grub-mkconfig -o /boot/grub/grub.cfg`;
 *   run with `-o` into /run, its default entry's `linux` line is the kernel command line of
 *   the next boot: GRUB passes the entry's arguments verbatim (it adds BOOT_IMAGE= in front),
 *   so this line IS the next boot's /proc/cmdline. Asserted once on the unmutated VM: the
 *   line equals the running /proc/cmdline except BOOT_IMAGE=, root= (the image builder writes
 *   grub.cfg offline with root=UUID=, test/vm/image.ts) and the builder's harness-only
 *   console options ({@link harnessCmdline}). The kernel then reads it as its sources do
 *   (security/apparmor/lsm.c: `apparmor=` by kstrtoul, security/security.c: `lsm=` over
 *   `security=`; drivers/iommu/intel/iommu.c: the last `intel_iommu=` wins); the rest of
 *   APP-01 and BOOT-04 (AppArmor enabled now, noexec mounts, kernel.sysrq) is read live once.
 *
 * Not answered here, each with its reason (printed): /tmp and fstab (a boot each), USB-03 (no
 * composite device in QEMU), VPN-07 (needs the tunnel), and the mutations `vmNotLive` names.
 */
import { execa } from "execa";
import { lstat, mkdtemp, readdir, readFile, readlink, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  generateMutations,
  type LiveProbe,
  type Mutation,
  type Verdict,
  type VmTruth,
} from "../mutations/generate.js";
import {
  auditBattery,
  auditSyscalls,
  auditWatched,
  jailScript,
  judgeScript,
  oracleDir,
} from "./oracle-vm-scripts.js";
import type { Vm } from "./qemu.js";

/** The kernel options test/vm/image.ts adds to grub.cfg for the harness (serial console, TCG timeouts). */
export const harnessCmdline = [
  "console=ttyS0,115200",
  "systemd.show_status=1",
  "systemd.default_device_timeout_sec=900",
  "systemd.default_timeout_start_sec=900",
];

/** The profile's allowlisted device (test/vm/profile/vm-laptop.yaml). */
const allowlisted = ["08e6:4433"];

export interface VmOracleOptions {
  log?: (line: string) => void;
  /** Only mutations whose id contains this. */
  only?: string;
  /** Only these truth classes (default: all). */
  truths?: VmTruth[];
  /**
   * Mutation ids whose offline verdict is inverted before the comparison: the proof that the
   * oracle can fail. Each must come out as a disagreement (reported in `flippedCaught`).
   */
  flip?: string[];
}

export interface VmOracleResult {
  agree: number;
  total: number;
  /** Real disagreements: "mutation: CONTROL offline X, live Y (evidence)". */
  disagreements: string[];
  /** The flipped mutations that the oracle caught. */
  flippedCaught: string[];
  /** "N× CONTROL: reason" for every probe the VM does not answer. */
  notLive: string[];
  /** The truths seen per class (both must occur for a class to be able to fail). */
  truths: Record<string, Verdict[]>;
  /** Wall time per class and the mean per mutation, in seconds. */
  seconds: Record<string, number>;
  /** Mean time of koffer's offline judgment in the VM, ms. */
  judgeMs: number;
  /** Time of a full gather per fact area in the VM, ms. */
  areaMs: Record<string, number>;
}

type Truth = { verdict: Verdict; output: string };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ─── the console ────────────────────────────────────────────────────────────

async function must(vm: Vm, command: string, timeoutMs = 120_000): Promise<string> {
  const r = await vm.sh(command, timeoutMs);
  if (r.code !== 0) throw new Error(`VM: ${command.slice(0, 200)} exited ${r.code}: ${r.out}`);
  return r.out;
}

/** The text between two marker lines (console noise outside them is dropped). */
function between(out: string, start: string, end: string): string {
  const a = out.indexOf(`${start}\n`);
  const b = out.indexOf(`\n${end}`, a);
  if (a < 0 || b < 0) throw new Error(`markers ${start}/${end} not in: ${out.slice(0, 500)}`);
  return out.slice(a + start.length + 1, b);
}

/** A file written on the VM from host bytes: base64 typed in lines well below the tty's 4095. */
async function putFile(vm: Vm, path: string, data: Buffer | string, mode = "600"): Promise<void> {
  const b64 = Buffer.from(data).toString("base64");
  const chunk = 3000;
  await must(vm, `: > ${path}.b64`);
  for (let i = 0; i < b64.length; i += chunk)
    await must(vm, `printf %s '${b64.slice(i, i + chunk)}' >> ${path}.b64`);
  await must(vm, `base64 -d ${path}.b64 > ${path} && rm ${path}.b64 && chmod ${mode} ${path}`);
}

// ─── the tree on the host, the files in the VM ─────────────────────────────

/** The VM directories the mutations of the answered classes write below (pulled once). */
const snapshotPaths = ["etc/audit", "etc/usbguard", "etc/default"];

type Entry = { type: "file" | "link" | "dir"; mode: number; data: string };

async function walk(root: string, rel = ""): Promise<Map<string, Entry>> {
  const out = new Map<string, Entry>();
  for (const name of await readdir(join(root, rel))) {
    const path = rel === "" ? name : `${rel}/${name}`;
    const st = await lstat(join(root, path));
    if (st.isSymbolicLink())
      out.set(path, { type: "link", mode: 0, data: await readlink(join(root, path)) });
    else if (st.isDirectory()) {
      out.set(path, { type: "dir", mode: st.mode & 0o7777, data: "" });
      for (const [p, e] of await walk(root, path)) out.set(p, e);
    } else
      out.set(path, {
        type: "file",
        mode: st.mode & 0o7777,
        data: (await readFile(join(root, path))).toString("base64"),
      });
  }
  return out;
}

const same = (a: Entry | undefined, b: Entry | undefined) =>
  a !== undefined && b !== undefined && a.type === b.type && a.mode === b.mode && a.data === b.data;

/** A tar of `paths` (relative, no recursion) below `root`, base64. */
async function tarB64(root: string, paths: string[]): Promise<string> {
  const r = await execa(
    "tar",
    ["-C", root, "--numeric-owner", "--no-recursion", "-czf", "-", ...paths],
    { encoding: "buffer" },
  );
  return Buffer.from(r.stdout).toString("base64");
}

interface Edit {
  /** Paths the mutation wrote or made (parents first). */
  written: string[];
  /** Paths it removed. */
  removed: string[];
  /** What to type to apply it, and to put everything back. */
  apply: string;
  restore: string;
}

/** The mutation applied to a copy of the snapshot: what it changes, as tars to type. */
async function editOf(m: Mutation, base: string, baseTree: Map<string, Entry>): Promise<Edit> {
  const work = await mkdtemp(join(tmpdir(), "kof-vmoracle-m-"));
  try {
    await execa("cp", ["-a", `${base}/.`, work]);
    await m.apply(work);
    const tree = await walk(work);
    const written = [...tree.keys()].filter((p) => !same(tree.get(p), baseTree.get(p))).sort();
    const removed = [...baseTree.keys()].filter((p) => !tree.has(p)).sort();
    for (const p of [...written, ...removed])
      if (!snapshotPaths.some((s) => p === s || p.startsWith(`${s}/`)))
        throw new Error(`${m.id} writes ${p}, outside the pulled ${snapshotPaths.join(", ")}`);
    if (written.length + removed.length === 0) throw new Error(`${m.id} changes nothing`);
    const created = written.filter((p) => !baseTree.has(p));
    const back = [...written.filter((p) => baseTree.has(p)), ...removed].sort();
    const rmList = (ps: string[]) =>
      ps.length === 0
        ? "true"
        : `rm -rf ${[...ps]
            .sort()
            .reverse()
            .map((p) => `'/${p}'`)
            .join(" ")}`;
    const untar = (b64: string) => `echo ${b64} | base64 -d | tar -xzf - -C / --numeric-owner`;
    return {
      written,
      removed,
      apply: `${rmList(removed)} && ${written.length > 0 ? untar(await tarB64(work, written)) : "true"}`,
      restore: `${rmList(created)} && ${back.length > 0 ? untar(await tarB64(base, back)) : "true"}`,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Type a (possibly long) command: as a script file when it would not fit a console line. */
async function typeCommand(vm: Vm, command: string, timeoutMs = 120_000): Promise<string> {
  if (command.length < 3500) return must(vm, command, timeoutMs);
  await putFile(vm, `${oracleDir}/step.sh`, command);
  return must(vm, `sh ${oracleDir}/step.sh`, timeoutMs);
}

// ─── the judge in the VM ────────────────────────────────────────────────────

let request = 0;
const judgeTimes: number[] = [];
const areaTimes: Record<string, number> = {};

type Verdicts = Record<string, { status: string; message: string }>;

/**
 * koffer's offline verdicts of the VM's files: `keep` gathers every area and keeps the facts,
 * `fresh` re-gathers only those areas (the others from the kept facts).
 */
async function offline(
  vm: Vm,
  ids: string[],
  how: { keep?: true; fresh?: string[]; cmdline?: true } = {},
): Promise<Verdicts> {
  const n = ++request;
  const out = await must(
    vm,
    `echo '${JSON.stringify({ n, ids, ...how })}' > ${oracleDir}/io/in; ` +
      `for i in $(seq 6000); do [ -e ${oracleDir}/io/out-${n} ] && break; sleep 0.1; done; ` +
      `echo JSTART; cat ${oracleDir}/io/out-${n}; echo; echo JEND`,
    700_000,
  );
  const reply = JSON.parse(between(out, "JSTART", "JEND")) as {
    error?: string;
    ms?: number;
    areaMs?: Record<string, number>;
    verdicts?: Verdicts;
  };
  if (reply.error !== undefined || reply.verdicts === undefined)
    throw new Error(`the offline judge in the VM failed: ${reply.error ?? "no verdicts"}`);
  judgeTimes.push(reply.ms ?? 0);
  for (const [a, ms] of Object.entries(reply.areaMs ?? {})) areaTimes[a] = ms;
  return reply.verdicts;
}

/** The fact areas that read the files each class's mutations write. */
const freshAreas: Record<VmTruth, string[]> = {
  "grub-mkconfig": ["boot"],
  "usb-devices": ["usb"],
  "usb-audit": ["usb"],
  "audit-events": ["logging"],
};

async function startJudge(vm: Vm): Promise<void> {
  await must(vm, `mkdir -p ${oracleDir}/io ${oracleDir}/jail && chmod 700 ${oracleDir}`);
  await putFile(vm, `${oracleDir}/jail.sh`, jailScript);
  await putFile(vm, `${oracleDir}/io/judge.mjs`, judgeScript, "644");
  await must(
    vm,
    `rm -f ${oracleDir}/io/in ${oracleDir}/io/ready; mkfifo ${oracleDir}/io/in; ` +
      `setsid unshare -m -p -f --propagation private sh ${oracleDir}/jail.sh > ${oracleDir}/judge.log 2>&1 < /dev/null & ` +
      `echo $! > ${oracleDir}/judge.pid; ` +
      `for i in $(seq 600); do [ -e ${oracleDir}/io/ready ] && break; sleep 0.2; done; ` +
      `[ -e ${oracleDir}/io/ready ] || { cat ${oracleDir}/judge.log; exit 1; }`,
    300_000,
  );
}

async function stopJudge(vm: Vm): Promise<void> {
  // The judge is PID 1 of its own PID namespace: killing unshare's child ends it, and its
  // mounts go with its mount namespace.
  await vm.sh(
    `[ -e ${oracleDir}/judge.pid ] && pkill -KILL -P "$(cat ${oracleDir}/judge.pid)"; kill "$(cat ${oracleDir}/judge.pid)" 2>/dev/null; sleep 1; rm -rf ${oracleDir}`,
    60_000,
  );
}

// ─── the truths ─────────────────────────────────────────────────────────────

/** AppArmor after the kernel read `args` (6.1: security/apparmor/lsm.c, security/security.c). */
export function kernelAppArmor(args: string[]): boolean {
  const last = (key: string) =>
    args
      .filter((a) => a.startsWith(`${key}=`))
      .map((a) => a.slice(key.length + 1))
      .at(-1);
  const lsm = last("lsm");
  const security = last("security");
  // apparmor= is parsed with kstrtoul(str, 0): only a number changes it ("off" is ignored).
  let enabled = true;
  for (const v of args.filter((a) => a.startsWith("apparmor=")).map((a) => a.slice(9))) {
    const n = /^0x[0-9a-f]+$/i.test(v)
      ? parseInt(v, 16)
      : /^0[0-7]*$/.test(v)
        ? parseInt(v, 8)
        : /^[1-9]\d*$/.test(v)
          ? Number(v)
          : null;
    if (n !== null) enabled = n !== 0;
  }
  if (!enabled) return false;
  // lsm= names the LSMs in order and overrides security=; security= picks the one major LSM.
  if (lsm !== undefined) return lsm.split(",").includes("apparmor");
  if (security !== undefined) return security === "apparmor";
  return true; // Debian's CONFIG_LSM lists apparmor first of the major LSMs
}

/**
 * DMA protection after the kernel read `args`: the Intel or AMD IOMMU switched on (each
 * `intel_iommu=`/`amd_iommu=` is parsed in order, so the last word wins) and not turned off or
 * set to pass-through by `iommu=` (arch/x86/kernel/pci-dma.c). `iommu=force` alone switches
 * neither IOMMU on.
 */
export function kernelIommu(args: string[]): boolean {
  let intel = false;
  let amd = false;
  let off = false;
  for (const a of args) {
    const eq = a.indexOf("=");
    if (eq < 0) continue;
    const key = a.slice(0, eq);
    const opts = a.slice(eq + 1).split(",");
    if (key === "intel_iommu")
      for (const o of opts) intel = o === "on" ? true : o === "off" ? false : intel;
    else if (key === "amd_iommu")
      for (const o of opts)
        amd = o === "on" || o === "force_isolation" ? true : o === "off" ? false : amd;
    else if (key === "iommu")
      for (const o of opts) off = o === "off" || o === "pt" ? true : o === "nopt" ? false : off;
  }
  return (intel || amd) && !off;
}

interface CmdlineState {
  booted: string[];
  /** APP-01 and BOOT-04 apart from the command line, read live once. */
  rest: { "APP-01": Truth; "BOOT-04": Truth };
}

const tokens = (line: string) =>
  line
    .trim()
    .split(/\s+/)
    .filter((t) => t !== "");

/** The default entry's kernel arguments after grub-mkconfig, or null when it fails. */
async function mkconfigArgs(vm: Vm): Promise<{ args: string[] | null; output: string }> {
  const out = await must(
    vm,
    `rm -f ${oracleDir}/grub.cfg; grub-mkconfig -o ${oracleDir}/grub.cfg > ${oracleDir}/mkconfig.log 2>&1; echo "mkconfig=$?"; ` +
      `grep -m1 -E '^[[:space:]]*linux[[:space:]]' ${oracleDir}/grub.cfg 2>/dev/null; tail -3 ${oracleDir}/mkconfig.log`,
    300_000,
  );
  const rc = /mkconfig=(\d+)/.exec(out)?.[1];
  const line = /^\s*linux\s+\S+\s+(.*)$/m.exec(out)?.[1];
  if (rc !== "0" || line === undefined) return { args: null, output: out };
  // GRUB expands $name and ${name} on the linux line when it boots the entry; grub.cfg
  // sets no such variable, so each expands to nothing (a single-quoted value in
  // /etc/default/grub.d reaches grub.cfg as a literal "$GRUB_CMDLINE_LINUX").
  return { args: tokens(line.replace(/\$\{?\w+\}?/g, "")), output: line };
}

async function cmdlineSetup(vm: Vm): Promise<CmdlineState> {
  const proc = tokens(await must(vm, "cat /proc/cmdline"));
  const { args, output } = await mkconfigArgs(vm);
  if (args === null) throw new Error(`grub-mkconfig fails on the unmutated VM: ${output}`);
  // The running command line is the one grub-mkconfig computes, apart from what the image
  // builder adds for the harness and the root= spelling (see the header).
  const drop = (a: string) => a.startsWith("BOOT_IMAGE=") || a.startsWith("root=");
  const booted = proc.filter((a) => !drop(a) && !harnessCmdline.includes(a));
  const computed = args.filter((a) => !drop(a));
  if (JSON.stringify(booted) !== JSON.stringify(computed))
    throw new Error(
      `grub-mkconfig's default entry (${computed.join(" ")}) is not the running /proc/cmdline (${booted.join(" ")})`,
    );
  const live = await must(
    vm,
    "echo apparmor=$(cat /sys/module/apparmor/parameters/enabled); " +
      'for m in /tmp /var/tmp /home; do echo "$m $(findmnt -n -o OPTIONS -T $m)"; done; ' +
      "echo sysrq=$(sysctl -n kernel.sysrq)",
  );
  const noexec = ["/tmp", "/var/tmp", "/home"].every((m) =>
    new RegExp(`^${m} \\S*\\bnoexec\\b`, "m").test(live),
  );
  const aa = /^apparmor=Y$/m.test(live);
  const sysrq = /^sysrq=0$/m.test(live);
  return {
    booted: proc,
    rest: {
      "APP-01": { verdict: aa && noexec ? "pass" : "fail", output: live },
      "BOOT-04": { verdict: sysrq ? "pass" : "fail", output: live },
    },
  };
}

async function cmdlineTruth(vm: Vm, st: CmdlineState): Promise<Record<string, Truth>> {
  const { args, output } = await mkconfigArgs(vm);
  // A failing grub-mkconfig leaves grub.cfg as it is: the next boot runs today's line.
  const next = args ?? st.booted;
  const note = args === null ? `grub-mkconfig fails, grub.cfg unchanged: ${output}` : output;
  const app = kernelAppArmor(next) && st.rest["APP-01"].verdict === "pass";
  const boot = kernelIommu(next) && st.rest["BOOT-04"].verdict === "pass";
  return {
    "APP-01": { verdict: app ? "pass" : "fail", output: note },
    "BOOT-04": { verdict: boot ? "pass" : "fail", output: note },
  };
}

const auditLog = "/var/log/audit/audit.log";

async function auditSetup(vm: Vm): Promise<void> {
  await putFile(vm, `${oracleDir}/battery.pl`, auditBattery);
  await must(
    vm,
    "install -m 755 /usr/bin/true /usr/local/sbin/kpx && install -m 755 /usr/bin/true /tmp/kpx-tmp",
  );
}

/** After augenrules --load: which of LOG-01's event classes the kernel recorded. */
async function auditTruth(vm: Vm): Promise<Record<string, Truth>> {
  const out = await must(
    vm,
    // As at boot: auditd enables auditing when it starts, then runs augenrules --load.
    `auditctl -e 1 >/dev/null 2>&1; augenrules --load > ${oracleDir}/augenrules.log 2>&1; echo "load=$?"; auditctl -s | grep -E '^enabled'; ` +
      `OFF=$(stat -c %s ${auditLog}); perl ${oracleDir}/battery.pl; sleep 1; ` +
      `[ "$(stat -c %s ${auditLog})" -ge "$OFF" ] || OFF=0; ` +
      `tail -c +$((OFF+1)) ${auditLog} | sed -nE ` +
      `-e 's/^type=SYSCALL msg=audit\\([0-9.]+:([0-9]+)\\).* comm="(kp[^"]*)".*/S \\1 \\2/p' ` +
      `-e 's/^type=PATH msg=audit\\([0-9.]+:([0-9]+)\\).* name="(\\/etc\\/[^"]*|\\/tmp\\/kpx[^"]*)".*/P \\1 \\2/p' ` +
      `-e "s/^type=(USER_[A-Z]+) .*koffer-probe-([0-9]+).*/U \\1 \\2/p"`,
    300_000,
  );
  const events = new Map<string, { comm: string; paths: string[] }>();
  const users = new Set<string>();
  for (const line of out.split("\n")) {
    const [kind, a, b] = line.trim().split(" ");
    if (kind === "S" && a && b) events.set(a, { comm: b, paths: events.get(a)?.paths ?? [] });
    else if (kind === "P" && a && b) {
      const e = events.get(a) ?? { comm: "", paths: [] };
      e.paths.push(b);
      events.set(a, e);
    } else if (kind === "U" && a) users.add(a);
  }
  const seen = (comm: string, path?: string) =>
    [...events.values()].some(
      (e) =>
        e.comm === comm &&
        (path === undefined || e.paths.some((p) => p === path || p.startsWith(`${path}/`))),
    );
  const missing: string[] = [];
  auditWatched.forEach((p, i) => {
    if (!seen(`kpw${i}`, p)) missing.push(`${p} write`);
    if (!seen(`kpa${i}`, p)) missing.push(`${p} attributes`);
  });
  auditSyscalls.forEach((s, j) => {
    if (!seen(`kps${j}`)) missing.push(s);
  });
  if (!seen("kpx")) missing.push("privileged execve");
  if (!seen("kpx-tmp")) missing.push("privileged execve below /tmp");
  for (const t of ["USER_AUTH", "USER_START", "USER_LOGIN"])
    if (!users.has(t)) missing.push(`logon (${t})`);
  const head = out.split("\n").filter((l) => /^(load=|enabled)/.test(l));
  return {
    "LOG-01": {
      verdict: missing.length === 0 ? "pass" : "fail",
      output: `${head.join("; ")}; not recorded: ${missing.join(", ") || "none"}`,
    },
  };
}

interface UsbDevice {
  target: string;
  id: string;
  serial: string;
  interfaces: string[];
}

function parseDevices(out: string): UsbDevice[] {
  return out
    .split("\n")
    .map((l) =>
      /^\d+: (allow|block|reject) id (\S+) serial "([^"]*)".*?with-interface (\{[^}]*\}|\S+)/.exec(
        l,
      ),
    )
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({
      target: m[1]!,
      id: m[2]!,
      serial: m[3]!,
      interfaces: m[4]!.replace(/[{}]/g, " ").trim().split(/\s+/),
    }));
}

/**
 * The oracle's own QEMU devices, told apart from any others (laptop-vm.test.ts plugs a stick
 * and a reader too) by their serial numbers.
 */
const oracleDevices = [
  {
    serial: "koffer-oracle-stick",
    interfaces: ["08:06:50"],
    add: {
      driver: "usb-storage",
      bus: "xhci.0",
      drive: "oracle-stick",
      id: "oracle-stick",
      serial: "koffer-oracle-stick",
    },
  },
  {
    serial: "koffer-oracle-kbd",
    interfaces: ["03:01:01"],
    add: { driver: "usb-kbd", bus: "xhci.0", id: "oracle-kbd", serial: "koffer-oracle-kbd" },
  },
] as const;

const listDevices = async (vm: Vm) => parseDevices((await vm.sh("usbguard list-devices")).out);

/** Unplug (when still there) and plug in again one of the oracle's devices, until usbguard lists it. */
async function replug(vm: Vm, d: (typeof oracleDevices)[number]): Promise<void> {
  await vm.qmp("device_del", { id: d.add.id }).catch(() => undefined);
  for (let i = 0; ; i++) {
    try {
      await vm.qmp("device_add", { ...d.add });
      break;
    } catch (error) {
      // device_del completes when the guest let go of the device
      if (i > 120) throw error;
      await sleep(500);
    }
  }
  for (let i = 0; i < 120; i++) {
    if ((await listDevices(vm)).some((x) => x.serial === d.serial)) return;
    await sleep(500);
  }
  throw new Error(`usbguard does not list the re-plugged ${d.serial}`);
}

/** Devices a `reject` removed from the bus (usbguard lists them no more): plugged in again after. */
const rejected = new Set<(typeof oracleDevices)[number]>();

/** The plugged devices the daemon lists (with at least `count` listed), and whether it runs. */
async function usbguardRestart(vm: Vm, count: number): Promise<{ active: boolean; out: string }> {
  const out = await must(
    vm,
    "systemctl reset-failed usbguard.service 2>/dev/null; systemctl restart usbguard.service; " +
      "echo active=$(systemctl is-active usbguard.service); " +
      // a rejected device is removed from the bus: fewer than `count` after 30 s is an answer
      `for i in $(seq 60); do usbguard list-devices > ${oracleDir}/devices 2>&1 && [ "$(grep -c '^[0-9]*: ' ${oracleDir}/devices)" -ge ${count} ] && break; sleep 0.5; done; ` +
      `cat ${oracleDir}/devices`,
    300_000,
  );
  return { active: /^active=active$/m.test(out), out };
}

let usbCount = 0;

async function usbSetup(vm: Vm): Promise<void> {
  const before = (await listDevices(vm)).length;
  await vm.qmp("blockdev-add", {
    "node-name": "oracle-stick",
    driver: "null-co",
    size: 64 * 1024 * 1024,
    "read-zeroes": true,
  });
  for (const d of oracleDevices) await vm.qmp("device_add", { ...d.add });
  usbCount = before + oracleDevices.length;
  for (let i = 0; i < 120; i++) {
    if ((await listDevices(vm)).length >= usbCount) return;
    await sleep(1000);
  }
  throw new Error("the plugged QEMU USB devices did not show in usbguard list-devices");
}

async function usbTeardown(vm: Vm): Promise<void> {
  for (const d of oracleDevices)
    await vm.qmp("device_del", { id: d.add.id }).catch(() => undefined);
  await sleep(3000);
  await vm.qmp("blockdev-del", { "node-name": "oracle-stick" }).catch(() => undefined);
}

async function usbDevicesTruth(vm: Vm): Promise<Record<string, Truth>> {
  const { active, out } = await usbguardRestart(vm, usbCount);
  const listed = parseDevices(out);
  if (!active) {
    const why = `usbguard-daemon does not start on this configuration: at boot the kernel authorises every device (${out.trim().split("\n").slice(-3).join("; ")})`;
    return {
      "USB-01": { verdict: "fail", output: why },
      "USB-02": { verdict: "fail", output: why },
    };
  }
  // An oracle device usbguard no longer lists was rejected: removed from the bus.
  const gone = oracleDevices.filter((d) => !listed.some((x) => x.serial === d.serial));
  for (const d of gone) rejected.add(d);
  const devices: UsbDevice[] = [
    ...listed,
    ...gone.map((d) => ({
      target: "reject",
      id: "",
      serial: d.serial,
      interfaces: [...d.interfaces],
    })),
  ];
  const shown = devices.map((d) => `${d.serial || d.id} ${d.target}`).join(", ");
  const storage = devices.filter((d) => d.interfaces.some((i) => i.startsWith("08:")));
  // Hubs (class 09: the xHCI's root hubs) are the controller's, kept as they are.
  const foreign = devices.filter(
    (d) => !allowlisted.includes(d.id) && !d.interfaces.every((i) => i.startsWith("09:")),
  );
  return {
    "USB-01": {
      verdict: foreign.every((d) => d.target !== "allow") ? "pass" : "fail",
      output: shown,
    },
    "USB-02": {
      verdict: storage.length > 0 && storage.every((d) => d.target !== "allow") ? "pass" : "fail",
      output: shown,
    },
  };
}

/** Unplug and plug the stick again; where did usbguard log its decision? */
async function usbAuditTruth(vm: Vm, rest: Truth): Promise<Record<string, Truth>> {
  const { active, out } = await usbguardRestart(vm, usbCount);
  if (!active)
    return {
      "LOG-01": { verdict: "fail", output: `usbguard-daemon does not start: ${out.slice(-300)}` },
    };
  const off = (await must(vm, `stat -c %s ${auditLog}`)).trim();
  await replug(vm, oracleDevices[0]);
  await sleep(1000);
  const log = await must(
    vm,
    `tail -c +$((${off}+1)) ${auditLog} | grep -a -i 'usbguard' | grep -a -o -E '^type=[A-Z_]+|(op|result|target)=[^ ]+' | sort | uniq -c | head -20`,
  );
  const recorded = /type=USER_DEVICE/.test(log);
  return {
    "LOG-01": {
      verdict: recorded && rest.verdict === "pass" ? "pass" : "fail",
      output: `usbguard's records in audit.log: ${log.trim().replace(/\n\s*/g, "; ") || "none"}`,
    },
  };
}

// ─── the run ────────────────────────────────────────────────────────────────

/** The probes of `m` the VM answers (of the selected classes). */
const vmProbes = (m: Mutation, truths: VmTruth[]): LiveProbe[] =>
  m.vmNotLive !== undefined
    ? []
    : m.liveProbe.filter(
        (p) => p.vm !== undefined && p.vmNotLive === undefined && truths.includes(p.vm),
      );

/** Why each probe that no container answers is not answered by the VM either. */
export function vmNotLiveReasons(mutations: Mutation[] = generateMutations()): string[] {
  const counts = new Map<string, number>();
  for (const m of mutations)
    for (const p of m.liveProbe) {
      if (p.notLive === undefined && m.notLive === undefined) continue;
      if (p.vm !== undefined && p.vmNotLive === undefined && m.vmNotLive === undefined) continue;
      const why = m.vmNotLive ?? p.vmNotLive ?? "(no VM truth for this probe)";
      const key = `${p.control}: ${why}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  return [...counts].map(([k, n]) => `${n}x ${k}`);
}

const classOrder: VmTruth[] = ["grub-mkconfig", "usb-devices", "usb-audit", "audit-events"];

/**
 * Run the VM oracle on a booted laptop VM with a root shell (prepareShell). Leaves the VM as
 * it found it, except: the audit rules end in the immutable mutation's state when it ran (it
 * runs last; `-e 2` holds until the next boot).
 */
export async function runVmOracle(vm: Vm, opts: VmOracleOptions = {}): Promise<VmOracleResult> {
  const log = opts.log ?? (() => {});
  const truthsWanted = opts.truths ?? classOrder;
  const all = generateMutations();
  const selected = all.filter(
    (m) =>
      vmProbes(m, truthsWanted).length > 0 && (opts.only === undefined || m.id.includes(opts.only)),
  );
  const result: VmOracleResult = {
    agree: 0,
    total: 0,
    disagreements: [],
    flippedCaught: [],
    notLive: vmNotLiveReasons(all),
    truths: {},
    seconds: {},
    judgeMs: 0,
    areaMs: areaTimes,
  };
  const flip = new Set(opts.flip ?? []);
  const compare = (
    id: string,
    cls: string,
    control: string,
    offlineStatus: string,
    truth: Truth,
  ) => {
    result.total++;
    const seen = (result.truths[cls] ??= []);
    if (!seen.includes(truth.verdict)) seen.push(truth.verdict);
    log(`${id}: ${control} offline ${offlineStatus}, live ${truth.verdict}`);
    if (offlineStatus === truth.verdict) result.agree++;
    else
      result.disagreements.push(
        `${id}: ${control} offline ${offlineStatus}, live ${truth.verdict} (${truth.output.trim().slice(0, 400)})`,
      );
    // The deliberately wrong verdict (not counted): the same comparison must disagree.
    const inverted = offlineStatus === "pass" ? "fail" : "pass";
    if (flip.has(id) && inverted !== truth.verdict && !result.flippedCaught.includes(id))
      result.flippedCaught.push(id);
  };

  const host = await mkdtemp(join(tmpdir(), "kof-vmoracle-"));
  try {
    await startJudge(vm);
    // The VM's own files the mutations change, pulled once: each mutation is applied to a
    // copy on the host and only its difference is typed into the VM.
    const pulled = await must(
      vm,
      `echo TSTART; tar -C / --numeric-owner --ignore-failed-read -czf - ${snapshotPaths.join(" ")} 2>/dev/null | base64 -w0; echo; echo TEND`,
      300_000,
    );
    const base = join(host, "base");
    await execa("mkdir", ["-p", base]);
    await writeFile(
      join(host, "base.tgz"),
      Buffer.from(between(pulled, "TSTART", "TEND").trim(), "base64"),
    );
    await execa("tar", ["-C", base, "--numeric-owner", "-xzf", join(host, "base.tgz")]);
    const baseTree = await walk(base);

    for (const cls of truthsWanted.filter((c) => classOrder.includes(c))) {
      const ms = selected
        .filter((m) => vmProbes(m, [cls]).length > 0)
        .sort(
          (a, b) =>
            Number(a.id === "audit-late-immutable") - Number(b.id === "audit-late-immutable"),
        );
      if (ms.length === 0) continue;
      const started = Date.now();
      let truthOf: () => Promise<Record<string, Truth>>;
      const controls = [...new Set(ms.flatMap((m) => vmProbes(m, [cls]).map((p) => p.control)))];
      if (cls === "grub-mkconfig") {
        const st = await cmdlineSetup(vm);
        truthOf = () => cmdlineTruth(vm, st);
      } else if (cls === "audit-events") {
        await auditSetup(vm);
        truthOf = () => auditTruth(vm);
      } else {
        if (usbCount === 0) await usbSetup(vm);
        if (cls === "usb-devices") truthOf = () => usbDevicesTruth(vm);
        else {
          await auditSetup(vm);
          const rest = (await auditTruth(vm))["LOG-01"]!;
          truthOf = () => usbAuditTruth(vm, rest);
        }
      }
      // The unmutated laptop first: offline and live must agree there too.
      const base0 = await offline(vm, controls, { keep: true });
      const truth0 = await truthOf();
      for (const c of controls)
        compare(`unmutated (${cls})`, cls, c, base0[c]?.status ?? "missing", truth0[c]!);
      for (const m of ms) {
        const edit = await editOf(m, base, baseTree);
        const probes = vmProbes(m, [cls]);
        await typeCommand(vm, edit.apply);
        try {
          // GRUB's drop-ins are read by the boot area, which also unpacks the initrd (a minute
          // under TCG): only its kernel command line is re-read (cross-checked below).
          const verdicts = await offline(
            vm,
            controls,
            cls === "grub-mkconfig" ? { cmdline: true } : { fresh: freshAreas[cls] },
          );
          if (m === ms[0]) {
            // Once per class: the partial gather equals a full one on a mutated tree.
            const full = await offline(vm, controls);
            for (const c of controls)
              if (full[c]?.status !== verdicts[c]?.status)
                result.disagreements.push(
                  `${m.id}: ${c} offline ${full[c]?.status} with every area gathered, ${verdicts[c]?.status} with ${freshAreas[cls].join(", ")} re-gathered only`,
                );
          }
          const truth = await truthOf();
          for (const p of probes)
            compare(
              m.id,
              cls,
              p.control,
              verdicts[p.control]?.status ?? "missing",
              truth[p.control]!,
            );
        } finally {
          await typeCommand(vm, edit.restore);
          if (rejected.size > 0) {
            await usbguardRestart(vm, 0);
            for (const d of rejected) await replug(vm, d);
            rejected.clear();
          }
        }
      }
      // Back to the laptop as provisioned.
      if (cls === "audit-events")
        await vm.sh(
          `augenrules --load >/dev/null 2>&1; rm -f /usr/local/sbin/kpx /tmp/kpx-tmp`,
          300_000,
        );
      if (cls === "usb-devices" || cls === "usb-audit") await usbguardRestart(vm, usbCount);
      result.seconds[cls] = Math.round((Date.now() - started) / 1000);
      result.seconds[`${cls} per mutation`] =
        Math.round(((Date.now() - started) / 1000 / (ms.length + 1)) * 10) / 10;
      log(`${cls}: ${ms.length} mutations in ${result.seconds[cls]} s`);
    }
  } finally {
    if (usbCount > 0) await usbTeardown(vm).catch(() => undefined);
    usbCount = 0;
    await stopJudge(vm).catch(() => undefined);
    await rm(host, { recursive: true, force: true });
  }
  result.judgeMs = Math.round(
    judgeTimes.reduce((a, b) => a + b, 0) / Math.max(1, judgeTimes.length),
  );
  return result;
}
