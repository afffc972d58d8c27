/**
 * The programs the VM oracle (oracle.ts) puts on the booted laptop VM: koffer's offline judge
 * (one long-running node process fed mutation after mutation) in a jail that shows the running
 * root as an offline tree, and the audit event battery. Test material, written to /run (a
 * tmpfs: gone at the next boot).
 */

import { auditClasses } from "../../src/checks/log-01.js";

/** Where everything of the oracle lives on the VM. */
export const oracleDir = "/run/koffer-oracle";

/**
 * koffer's offline verdict of the VM's own files. koffer refuses `--root` on the running
 * system's root (same device and inode as `/` or `/proc/1/root`), so the judge runs chrooted
 * in a private mount and PID namespace whose `/` is a tmpfs (node, /usr, /etc bound in) and
 * whose /proc/1 is the judge itself; `/tree` is a bind mount of the VM's `/` (plus /boot):
 * every file written in place shows there at once, and the judge reads nothing but files
 * (a RootTarget: no program of the tree runs, no /proc, /sys or service manager is asked).
 */
export const jailScript = `set -e
J=${oracleDir}/jail
mount -t tmpfs -o mode=755 koffer-oracle "$J"
mkdir -p "$J/usr" "$J/etc" "$J/opt/koffer" "$J/dev" "$J/proc" "$J/tree" "$J/io" "$J/tmp"
for d in usr etc opt/koffer dev; do mount --bind "/$d" "$J/$d"; done
mount --bind ${oracleDir}/io "$J/io"
mount -t proc proc "$J/proc"
ln -s usr/bin "$J/bin"; ln -s usr/sbin "$J/sbin"; ln -s usr/lib "$J/lib"; ln -s usr/lib64 "$J/lib64"
mount --bind / "$J/tree"
mount --bind /boot "$J/tree/boot"
mkdir -p "$J/tree-noboot"
mount --bind / "$J/tree-noboot"
exec chroot "$J" /opt/koffer/bin/node /io/judge.mjs
`;

/**
 * The judge: one JSON request a line on the FIFO /io/in, the verdicts in /io/out-<n> (written
 * whole, then renamed). Verify's library API exactly as test/mutations/judge.ts uses it: only
 * the fact areas of the asked controls are gathered.
 *
 * `{"n":1,"ids":["LOG-01"],"keep":true}` gathers every area of the controls (one at a time,
 * timed: `areaMs`) and keeps the facts; `{"n":2,"ids":["LOG-01"],"fresh":["logging"]}` gathers
 * only the areas that read the files a mutation changed and takes the others from the kept
 * facts (under TCG a full gather of APP-01's areas takes a minute: the initrd is unpacked);
 * `"cmdline":true` re-reads only the boot area's kernel command line (see below).
 */
export const judgeScript = `import { createReadStream, renameSync, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
const lib = await import("/opt/koffer/dist/index.js");
const profile = await lib.loadProfileOrThrow("/opt/koffer/profile/vm-laptop.yaml");
writeFileSync("/io/ready", String(process.pid));
let kept = null;
const merge = (into, part, areas) => {
  const out = { ...into };
  for (const a of areas) out[a] = part[a];
  out.gatherErrors = [
    ...into.gatherErrors.filter((e) => !areas.includes(e.area)),
    ...part.gatherErrors.filter((e) => areas.includes(e.area)),
  ];
  return out;
};
const input = createInterface({ input: createReadStream("/io/in", { flags: "r+" }) });
for await (const line of input) {
  if (line.trim() === "") continue;
  let n = 0;
  let out;
  try {
    const req = JSON.parse(line);
    n = req.n;
    const started = Date.now();
    const controls = req.ids.map((id) => lib.controlById(id)).filter((c) => c !== undefined);
    const areas = [...new Set(controls.flatMap((c) => c.meta.facts))].sort();
    const target = await lib.openTarget({ root: "/tree", disks: [] });
    const areaMs = {};
    try {
      const now = new Date();
      let facts;
      if (req.fresh !== undefined) {
        if (kept === null || kept.key !== areas.join(",")) throw new Error("no kept facts for " + areas);
        const part = await lib.gatherFacts(target, { profile, now }, { areas: req.fresh });
        facts = merge(kept.facts, part, req.fresh);
      } else if (req.cmdline) {
        // Only the kernel command line, read from /etc/default/grub*: the same tree without
        // /boot mounted (no initrd to unpack), the rest of the boot area from the kept facts.
        if (kept === null || kept.key !== areas.join(",")) throw new Error("no kept facts for " + areas);
        const noboot = await lib.openTarget({ root: "/tree-noboot", disks: [] });
        try {
          const part = await lib.gatherFacts(noboot, { profile, now }, { areas: ["boot"] });
          facts = { ...kept.facts, boot: { ...kept.facts.boot, kernelCmdline: part.boot.kernelCmdline } };
        } finally {
          await noboot.close();
        }
      } else {
        facts = null;
        for (const a of areas) {
          const t = Date.now();
          const part = await lib.gatherFacts(target, { profile, now }, { areas: [a] });
          areaMs[a] = Date.now() - t;
          facts = facts === null ? part : merge(facts, part, [a]);
        }
        if (req.keep) kept = { key: areas.join(","), facts };
      }
      const result = lib.evaluate(profile, facts, { now, controls });
      out = {
        n,
        ms: Date.now() - started,
        areaMs,
        verdicts: Object.fromEntries(
          result.controls.map((c) => [c.id, { status: c.status, message: c.message }]),
        ),
      };
    } finally {
      await target.close();
    }
  } catch (error) {
    out = { n, error: String(error && error.stack ? error.stack : error) };
  }
  writeFileSync("/io/out-" + n + ".tmp", JSON.stringify(out));
  renameSync("/io/out-" + n + ".tmp", "/io/out-" + n);
}
`;

/** What LOG-01 promises is recorded (its catalogue: src/checks/log-01.ts, auditClasses). */
export const auditWatched = auditClasses()
  .filter((c) => c.kind === "path")
  .map((c) => c.name)
  .filter((p, i, all) => all.indexOf(p) === i);

/** The system calls LOG-01 promises are recorded, in the battery's order (kps0 …). */
export const auditSyscalls = auditClasses()
  .filter((c) => c.kind === "syscall")
  .map((c) => c.name);

/** x86_64 numbers and arguments the kernel refuses (bad pointer, fd -1) for each system call. */
function syscallArgs(name: string): string {
  const args: Record<string, string> = {
    settimeofday: "164, 1, 0",
    clock_settime: "227, 0, 1",
    init_module: "175, 1, 0, 0",
    finit_module: "313, -1, 0, 0",
  };
  const a = args[name];
  if (a === undefined) throw new Error(`the audit battery cannot make system call ${name}`);
  return a;
}

/**
 * The audit battery: every event class LOG-01 promises, done for real by the logged-in admin
 * (auid 1000) as root, each action in a child process with its own name (comm "kp…"), so the
 * records the kernel lets through can be told apart afterwards:
 *
 * - kpw<i>: a write to watched path i: a file opened for writing (O_APPEND, nothing
 *   changes), a new file created and removed in a watched directory;
 * - kpa<i>: an attribute change of path i (chmod to its own mode);
 * - kps<j>: system call j of {@link auditSyscalls} itself, settimeofday (a0 a pointer),
 *   clock_settime (CLOCK_REALTIME), init_module and finit_module — with arguments the kernel
 *   refuses (bad pointer, fd -1): the call is made and audited, nothing changes (comm is at
 *   most 15 characters: hence numbers, not names);
 * - kpx: a privileged execve of a system program (/usr/local/sbin/kpx, a copy of true);
 *   kpx-tmp: a privileged execve below /tmp (refused by noexec, but made and audited);
 * - three user-space messages of the logon kinds (USER_AUTH 1100, USER_START 1105,
 *   USER_LOGIN 1112) sent on the audit netlink socket as PAM and login do, text
 *   "koffer-probe-<type>".
 */
export const auditBattery = `use strict;
use Socket;
my @paths = (${auditWatched.map((p) => `"${p}"`).join(", ")});
sub child {
  my ($name, $code) = @_;
  my $pid = fork();
  if ($pid == 0) { $0 = $name; $code->(); exit 0; }
  waitpid($pid, 0);
}
for my $i (0 .. $#paths) {
  my $p = $paths[$i];
  child("kpw$i", sub {
    if (-d $p) {
      if (open(my $f, ">", "$p/.koffer-probe")) { close($f); }
      unlink("$p/.koffer-probe");
    } elsif (open(my $f, ">>", $p)) { close($f); }
  });
  child("kpa$i", sub { my $mode = (stat($p))[2] & 07777; chmod($mode, $p); });
}
${auditSyscalls.map((name, j) => `child("kps${j}", sub { syscall(${syscallArgs(name)}); });`).join("\n")}
child("kpx", sub { exec("/usr/local/sbin/kpx"); });
child("kpx-tmp", sub { exec("/tmp/kpx-tmp"); });
socket(my $s, 16, 3, 9) or die "audit netlink: $!";
my $seq = 1;
for my $type (1100, 1105, 1112) {
  my $text = "koffer-probe-$type\\0";
  my $msg = pack("L S S L L", 16 + length($text), $type, 1, $seq++, 0) . $text;
  send($s, $msg, 0, pack("S S L L", 16, 0, 0, 0)) or die "send $type: $!";
}
close($s);
`;
