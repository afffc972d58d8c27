/**
 * Mutations: realistic flaws an admin or attacker leaves on a provisioned laptop, each with
 * the verdict the running system implies for the controls it touches (issue 11). Each one
 * edits a copy of a root tree (the hardened laptop of test/helpers/laptop.ts); the offline
 * test (offline.test.ts) judges every copy with verify's library API, the live test
 * (live.test.ts) boots copies and asks the real programs through `liveProbe`.
 */
import { existsSync } from "node:fs";
import { execa } from "execa";
import {
  appendFile,
  chmod,
  mkdir,
  readdir,
  readFile,
  rm,
  symlink,
  writeFile,
} from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Profile } from "../../src/profiles/types.js";

export type Verdict = "pass" | "fail";

/**
 * How the running laptop computes the truth: a command inside it (`argv`) or a network
 * experiment of net-probe.ts (`experiment`), and how its output decides a control.
 */
export interface LiveProbe {
  control: string;
  argv?: string[];
  /** inbound: what the peer gets in (NET-01); egress: what leaves outside the tunnel (VPN-06). */
  experiment?: "inbound" | "egress";
  /** The verdict the output implies (the profile only for what it lists, e.g. apps.allow). */
  judge: (stdout: string, exitCode: number, profile: Profile) => Verdict;
  /**
   * Why a running container cannot give this probe's truth (live.test.ts leaves it out and
   * prints the reason); absent for probes the live oracle compares.
   */
  notLive?: string;
  /**
   * How the booted laptop VM computes this probe's truth (test/vm/oracle.ts): "audit-events"
   * (augenrules --load, then the events the kernel records), "usb-devices" (what the restarted
   * usbguard-daemon decides for the QEMU USB devices plugged in), "usb-audit" (where usbguard
   * logs a hot-plug decision), "grub-mkconfig" (the default entry's kernel command line).
   * Absent: the VM oracle does not answer it (see vmNotLive).
   */
  vm?: VmTruth;
  /** Why the laptop VM cannot answer this probe either (printed by the VM oracle). */
  vmNotLive?: string;
}

/** The VM oracle's ways of computing a probe's truth (test/vm/oracle.ts). */
export type VmTruth = "audit-events" | "usb-devices" | "usb-audit" | "grub-mkconfig";

export interface Mutation {
  id: string;
  description: string;
  /** Expected verdict per affected control (the others are not asserted). */
  expect: Record<string, Verdict>;
  /** Where the reason matters: what the control's message must match. */
  reason?: Record<string, RegExp>;
  apply: (root: string) => Promise<void>;
  liveProbe: LiveProbe[];
  /** Mutations that change what a boot does to other mutations (masks, grub) boot alone. */
  exclusive?: boolean;
  /**
   * The mutation only writes `paths` and takes effect without a boot: the live test applies it
   * to a running machine, restarts `restart` as the boot would start it (nftables.service runs
   * `nft -f /etc/nftables.conf`; its stop flushes the ruleset, so a rejected file leaves none,
   * as at boot), probes, and puts the paths back. All such mutations share one boot. With
   * `reload`, systemd reads its unit files again (daemon-reload) after the change and after
   * the paths are put back, as a boot would: masks, links, drop-ins.
   */
  inPlace?: { paths: string[]; restart?: string; reload?: boolean };
  /** Why booting the mutated tree cannot show this mutation (live.test.ts leaves it out). */
  notLive?: string;
  /** Why the laptop VM cannot answer this mutation although it answers its probes' class. */
  vmNotLive?: string;
}

/** A file in the tree's /run: on a running laptop something wrote it after boot. */
const runHidden =
  "a file in /run exists only on the running system: booting the tree mounts a fresh tmpfs on /run, which hides it";

/** A mount unit's mask or an fstab line takes effect at the next boot only. */
const reboot =
  "takes effect at the next boot only (tmp.mount is mounted once, at boot): each such mutation needs its own boot of the VM, 60-140 s to the login under TCG plus the TPM PIN, more than the oracle's budget of about 6 minutes allows";
/** USB-03's question needs a device that is keyboard and storage at once. */
const noComposite =
  "the truth is what happens to a device that is keyboard and storage at once; QEMU emulates no such composite USB device (usb-storage is 08:06:50 only, usb-kbd 03:01:01 only)";
// ─── file helpers (paths are paths on the laptop) ───────────────────────────

const at = (root: string, path: string) => join(root, path);
async function put(root: string, path: string, text: string): Promise<void> {
  await mkdir(dirname(at(root, path)), { recursive: true });
  await writeFile(at(root, path), text);
}
async function append(root: string, path: string, text: string): Promise<void> {
  await mkdir(dirname(at(root, path)), { recursive: true });
  await appendFile(at(root, path), text);
}
/** Rewrites a file; an edit that changes nothing is a mutation that tests nothing: it throws. */
async function edit(root: string, path: string, fn: (text: string) => string): Promise<void> {
  const before = await readFile(at(root, path), "utf8");
  const after = fn(before);
  if (after === before) throw new Error(`the edit of ${path} changed nothing`);
  await writeFile(at(root, path), after);
}
/**
 * koffer's audit rules: koffer.rules in the hardened fixture (test/helpers/laptop.ts),
 * 90-koffer.rules where koffer provisioned the tree (the laptop VM, test/vm/oracle.ts).
 */
function auditRulesFile(root: string): string {
  const fixture = "/etc/audit/rules.d/koffer.rules";
  return existsSync(at(root, fixture)) ? fixture : "/etc/audit/rules.d/90-koffer.rules";
}
async function link(root: string, path: string, to: string): Promise<void> {
  await mkdir(dirname(at(root, path)), { recursive: true });
  await rm(at(root, path), { force: true });
  await symlink(to, at(root, path));
}

// ─── live probes ────────────────────────────────────────────────────────────

/**
 * What the running laptop's systemd-sysctl sets a key to: it reads sysctl.d with its own
 * precedence and logs (at debug level) "Setting '/proc/sys/KEY' to 'VALUE'" before the write,
 * which a container refuses (/proc/sys is the host kernel's, read-only). No line: the kernel
 * default stays (Debian: kernel.sysrq 438, fs.suid_dumpable 0).
 */
const sysctlProbe = (control: string, key: string, kernelDefault: string): LiveProbe => ({
  control,
  argv: [
    "sh",
    "-c",
    "SYSTEMD_LOG_LEVEL=debug SYSTEMD_LOG_COLOR=0 /lib/systemd/systemd-sysctl 2>&1 || true",
  ],
  judge: (out) => {
    const set = [...out.matchAll(/^Setting '\/proc\/sys\/([^']+)' to '([^']*)'/gm)]
      .filter((m) => m[1] === key.replace(/\./g, "/"))
      .at(-1);
    return kernelInteger(set?.[2] ?? kernelDefault) === 0 ? "pass" : "fail";
  },
});
/** A value as the kernel's proc_dointvec reads it (strtoul base 0: 0x hex, leading 0 octal). */
function kernelInteger(text: string): number {
  const t = text.trim();
  if (/^0x[0-9a-f]+$/i.test(t)) return Number.parseInt(t.slice(2), 16);
  if (/^0[0-7]*$/.test(t)) return Number.parseInt(t, 8);
  return /^\d+$/.test(t) ? Number.parseInt(t, 10) : Number.NaN;
}
const sysrqProbe = sysctlProbe("BOOT-04", "kernel.sysrq", "438");
const dumpableProbe = sysctlProbe("DATA-03", "fs.suid_dumpable", "0");
const tmpProbe: LiveProbe = {
  control: "DATA-01",
  argv: ["findmnt", "-n", "-o", "FSTYPE", "--mountpoint", "/tmp"],
  judge: (out) => (out.trim() === "tmpfs" ? "pass" : "fail"),
  notLive: "systemd-nspawn mounts a tmpfs of its own on /tmp, whether tmp.mount runs or not",
  vmNotLive: reboot,
};
const noexecProbe = (path: string): LiveProbe => ({
  control: "APP-01",
  argv: ["findmnt", "-n", "-o", "OPTIONS", "--mountpoint", path],
  judge: (out) =>
    out
      .split(",")
      .map((o) => o.trim())
      .includes("noexec")
      ? "pass"
      : "fail",
  ...(path === "/home"
    ? {
        notLive:
          "in a container systemd-fstab-generator ignores fstab lines of devices (/home binds /dev/mapper/cryptroot)",
        vmNotLive: reboot,
      }
    : {}),
});
const unitProbe = (control: string, unit: string): LiveProbe => ({
  control,
  argv: ["systemctl", "show", "-p", "UnitFileState", "--value", unit],
  judge: (out) => (["enabled", "static", "alias"].includes(out.trim()) ? "pass" : "fail"),
});
const sshdGoneProbe: LiveProbe = {
  control: "NET-02",
  argv: ["systemctl", "show", "-p", "LoadState", "--value", "sshd.service"],
  judge: (out) => (out.trim() === "loaded" ? "fail" : "pass"),
};
/** auditctl -l after augenrules --load: the kernel's list decides (re-judged by the same model on the live list). */
const auditProbe: LiveProbe = {
  control: "LOG-01",
  argv: ["sh", "-c", "augenrules --load >/dev/null 2>&1; auditctl -s; auditctl -l"],
  judge: () => "pass",
  notLive:
    "the kernel accepts audit netlink requests only from the initial PID namespace: auditctl gets EPERM in a container",
  vm: "audit-events",
};
/** USBGuard's daemon cannot run in a container (test/rig/laptop.test.ts, containerFailures). */
/**
 * Tried for issue 11: the host has usbguard-daemon but no USB bus; under umockdev's faked
 * sysfs (three devices with real descriptors) usbguard-daemon 1.1.2 enumerates them and
 * rejects each before any rule is matched, so no rule verdict comes out of it.
 */
const usbguardDown =
  "no running USBGuard can answer here: in a container usbguard-daemon exits (AuditBackend=LinuxAudit needs the initial namespaces' audit netlink), the host has no USB bus, and under umockdev's fake sysfs the daemon rejects every device before matching a rule ('Cannot generate device rule: parent hash value not available'); USB rules are proven on the VM's QEMU USB bus (test/vm)";
const usbProbe = (control: string): LiveProbe => ({
  control,
  argv: ["usbguard", "list-rules"],
  judge: () => "pass",
  notLive: usbguardDown,
  ...(control === "USB-03" ? { vmNotLive: noComposite } : { vm: "usb-devices" as const }),
});
const cmdlineProbe = (control: string): LiveProbe => ({
  control,
  // the rig boots the tree's kernel command line as update-grub would write it
  argv: ["sh", "-c", "update-grub >/dev/null 2>&1; grep -m1 -o 'linux\\s.*' /boot/grub/grub.cfg"],
  judge: () => "pass",
  notLive: "a container runs on the host's kernel command line, not the one grub.cfg would boot",
  vm: "grub-mkconfig",
});
/** Nothing unsolicited gets in: netfilter's input hook admitted none of the peer's packets. */
const inboundProbe: LiveProbe = {
  control: "NET-01",
  experiment: "inbound",
  judge: (out) => (out.trim() === "" ? "pass" : "fail"),
};
/** The kill switch holds while the tunnel is down: nothing but IKE, ESP and DHCP left. */
const egressProbe: LiveProbe = {
  control: "VPN-06",
  experiment: "egress",
  judge: (out) => (out.trim() === "" ? "pass" : "fail"),
};
const firewallProbes = [inboundProbe, egressProbe];
const nftInPlace = { paths: ["/etc/nftables.conf"], restart: "nftables.service" };
const resolverProbe: LiveProbe = {
  control: "VPN-07",
  argv: ["sh", "-c", "resolvectl dns 2>/dev/null; cat /etc/resolv.conf"],
  judge: () => "pass",
  notLive:
    "the truth is whether a query travels inside the IPsec tunnel: with the tunnel down the kill switch drops every query (the egress probe of VPN-06 shows it), and a tunnel needs the strongSwan gateway rig (kernel-libipsec over TUN; the host kernel has no ESP) in the same boot, not wired into this oracle; a listing of the configured servers would be judged by koffer's own model",
  vmNotLive:
    "needs the tunnel up (laptop-vm.test.ts boot 2) and a capture on the tap per mutation; not wired into the VM oracle yet",
};
/**
 * Which personal accounts outside the profile PAM still lets in: for every account with a
 * UID 1000–65533 and a login shell, root's `su` to it (pam_rootok skips the password, the
 * account phase still runs: pam_unix refuses an expired account). One line each: "name rc".
 */
const accountProbe: LiveProbe = {
  control: "ACC-01",
  argv: [
    "sh",
    "-c",
    'getent passwd | awk -F: \'$3>=1000 && $3<65534 && $7 !~ /(nologin|false)$/ {print $1}\' | while read u; do su -s /bin/sh "$u" -c true </dev/null >/dev/null 2>&1; echo "$u $?"; done',
  ],
  judge: (out, _code, profile) => {
    const approved = new Set([...profile.spec.accounts.admins, ...profile.spec.accounts.users]);
    const usable = out
      .split("\n")
      .map((l) => l.trim().split(" "))
      .filter(([name, rc]) => name !== undefined && name !== "" && rc === "0");
    return usable.some(([name]) => !approved.has(name as string)) ? "fail" : "pass";
  },
};
/**
 * ACC-01 as the running laptop's programs decide it: PAM (accountProbe) for who can log in,
 * sudo itself (`sudo -l -U NAME`, which reads sudoers with its includes, aliases and groups)
 * for who may run commands as root, and the accounts with UID 0 from NSS. Lines: "su NAME
 * RC", "sudo NAME yes|no", "uid0 NAME".
 */
const adminProbe: LiveProbe = {
  control: "ACC-01",
  argv: [
    "sh",
    "-c",
    [
      accountProbe.argv![2]!.replace(/echo "\$u \$\?"/, 'echo "su $u $?"'),
      'getent passwd | while IFS=: read u _ uid _; do [ "$u" = root ] && continue; if sudo -n -l -U "$u" 2>/dev/null | grep -q "may run the following"; then echo "sudo $u yes"; else echo "sudo $u no"; fi; [ "$uid" = 0 ] && echo "uid0 $u"; done',
    ].join("\n"),
  ],
  judge: (out, _code, profile) => {
    const admins = new Set(profile.spec.accounts.admins);
    const approved = new Set([...admins, ...profile.spec.accounts.users]);
    const lines = out.split("\n").map((l) => l.trim().split(" "));
    const usable = lines.filter(([k, , rc]) => k === "su" && rc === "0").map(([, n]) => n!);
    const sudo = new Map(lines.filter(([k]) => k === "sudo").map(([, n, v]) => [n!, v === "yes"]));
    const bad =
      lines.some(([k]) => k === "uid0") ||
      usable.some((n) => !approved.has(n)) ||
      [...sudo].some(([n, yes]) => yes && !admins.has(n)) ||
      [...admins].some((n) => sudo.get(n) !== true);
    return bad ? "fail" : "pass";
  },
};
const aptProbe: LiveProbe = {
  control: "APP-03",
  argv: ["apt-get", "update", "--print-uris"],
  judge: () => "pass",
  notLive:
    "the truth is which files the real apt reads and how: test/facts/apt-sources.test.ts asks this machine's apt-get (update --print-uris) on trees of the same kinds; the booted desktop root keeps debootstrap's unsigned sources.list under the hardened /etc, which fails APP-03 in every copy",
};
/**
 * What GNOME Shell lists: GLib's g_app_info_get_all() filtered by g_app_info_should_show()
 * (the calls Shell's app system makes), asked through ctypes by the laptop's own python3 and
 * libgio, in the environment a session gets: gnome-session starts it from a login shell
 * (/etc/profile and profile.d set XDG_DATA_DIRS and PATH), XDG_CURRENT_DESKTOP=GNOME, as an
 * unprivileged user. Each listed entry's owner comes from dpkg-query -S. One line each:
 * "id<TAB>path<TAB>package" ("(none)" without owner).
 */
const gioLister = `
import ctypes, subprocess
gio = ctypes.CDLL("libgio-2.0.so.0")
class GList(ctypes.Structure):
    pass
GList._fields_ = [("data", ctypes.c_void_p), ("next", ctypes.POINTER(GList)), ("prev", ctypes.POINTER(GList))]
gio.g_app_info_get_all.restype = ctypes.POINTER(GList)
gio.g_app_info_should_show.argtypes = [ctypes.c_void_p]
gio.g_app_info_get_id.argtypes = [ctypes.c_void_p]
gio.g_app_info_get_id.restype = ctypes.c_char_p
gio.g_desktop_app_info_get_filename.argtypes = [ctypes.c_void_p]
gio.g_desktop_app_info_get_filename.restype = ctypes.c_char_p
node = gio.g_app_info_get_all()
while node:
    app = node.contents.data
    if gio.g_app_info_should_show(app):
        path = gio.g_desktop_app_info_get_filename(app).decode()
        q = subprocess.run(["dpkg-query", "-S", path], capture_output=True, text=True)
        owner = q.stdout.split(":")[0] if q.returncode == 0 else "(none)"
        print("%s\\t%s\\t%s" % (gio.g_app_info_get_id(app).decode(), path, owner))
    node = node.contents.next
`;
export const desktopListing = [
  "runuser",
  "-u",
  "nobody",
  "--",
  "env",
  "-i",
  "HOME=/nonexistent",
  "SHELL=/bin/bash",
  "XDG_SESSION_TYPE=wayland",
  "XDG_CURRENT_DESKTOP=GNOME",
  "/bin/bash",
  "-l",
  "-c",
  'exec python3 -c "$1"',
  "gio-lister",
  gioLister,
];
/** The listed applications whose package the profile does not allow: "id path package". */
export function unapprovedApps(stdout: string, profile: Profile): string[][] {
  return stdout
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => l.split("\t"))
    .filter(([, , owner]) => owner === undefined || !profile.spec.apps.allow.includes(owner));
}
const desktopProbe: LiveProbe = {
  control: "APP-02",
  argv: desktopListing,
  judge: (out, code, profile) => {
    if (code !== 0) throw new Error(`the GLib lister failed (exit ${code})`);
    return unapprovedApps(out, profile).length === 0 ? "pass" : "fail";
  },
};

/**
 * What systemd loads for the console gettys getty@tty1…tty6 (tty1 from getty.target, the
 * others started by logind as autovt@, an alias of getty@): a unit that loads and runs agetty
 * with --autologin/-a logs in without authentication.
 */
const gettyProbe: LiveProbe = {
  control: "ACC-02",
  argv: [
    "sh",
    "-c",
    "for t in 1 2 3 4 5 6; do echo unit=tty$t; systemctl show -p LoadState -p ExecStart getty@tty$t.service; done",
  ],
  judge: (out) => {
    const units = out.split(/^unit=/m);
    const auto = units.some(
      (u) =>
        /^LoadState=loaded$/m.test(u) &&
        /^ExecStart=.*argv\[\]=[^;]*\s(--autologin[\s=]|-a\s)/m.test(u),
    );
    return auto ? "fail" : "pass";
  },
};
/**
 * The servers the running systemd-timesyncd uses (timedatectl show-timesync over D-Bus).
 * timesyncd.service skips containers (ConditionVirtualization=!container): a runtime drop-in
 * clears its conditions for the probe, and the probe restarts it after each change.
 */
const timesyncProbe: LiveProbe = {
  control: "TIME-01",
  argv: [
    "sh",
    "-c",
    [
      "d=/run/systemd/system/systemd-timesyncd.service.d",
      'mkdir -p "$d"',
      "printf '[Unit]\\nConditionVirtualization=\\n' > \"$d/oracle.conf\"",
      "systemctl daemon-reload",
      "systemctl reset-failed systemd-timesyncd.service",
      "systemctl restart systemd-timesyncd.service || exit 3",
      "timedatectl show-timesync -p SystemNTPServers -p LinkNTPServers",
    ].join("\n"),
  ],
  judge: (out, code, profile) => {
    if (code !== 0) throw new Error(`timesyncd probe failed (exit ${code}): ${out}`);
    const servers = [...out.matchAll(/^(?:System|Link)NTPServers=(.*)$/gm)].flatMap((m) =>
      (m[1] ?? "").split(/\s+/).filter((s) => s !== ""),
    );
    const approved = profile.spec.logging.ntpServers;
    return servers.length > 0 &&
      servers.every((s) => approved === undefined || approved.includes(s))
      ? "pass"
      : "fail";
  },
};
/** Whether journald (restarted after the change) keeps a new message in /var/log/journal. */
const journalProbe: LiveProbe = {
  control: "LOG-02",
  argv: [
    "sh",
    "-c",
    'm="kof-oracle-$(date +%s%N)"; logger -t kof-oracle "$m"; journalctl --flush >/dev/null 2>&1; journalctl --sync >/dev/null 2>&1; journalctl -D /var/log/journal -t kof-oracle -o cat 2>/dev/null | grep -c "$m"',
  ],
  judge: (out) => (Number(out.trim()) > 0 ? "pass" : "fail"),
};
/** What GNOME reads (gsettings, dconf backend, as an unprivileged user) and whether it can change it. */
const screenLockKeys = [
  "org.gnome.desktop.session idle-delay",
  "org.gnome.desktop.screensaver lock-enabled",
  "org.gnome.desktop.screensaver lock-delay",
];
const screenLockProbe: LiveProbe = {
  control: "ACC-03",
  argv: [
    "runuser",
    "-u",
    "nobody",
    "--",
    "env",
    "-i",
    "HOME=/nonexistent",
    "sh",
    "-c",
    screenLockKeys
      .map((k) => `printf '%s\\t' "$(gsettings get ${k})" "$(gsettings writable ${k})"; echo`)
      .join("; "),
  ],
  judge: (out, _code, profile) => {
    const rows = out
      .trim()
      .split("\n")
      .map((l) => l.split("\t"));
    if (rows.length !== 3) throw new Error(`gsettings probe: ${out}`);
    const num = (v: string | undefined) => Number((v ?? "").replace(/^u?int32\s+/, ""));
    const idle = num(rows[0]?.[0]);
    const ok =
      idle >= 1 &&
      idle <= profile.spec.accounts.screenLockSeconds &&
      rows[1]?.[0] === "true" &&
      num(rows[2]?.[0]) === 0 &&
      rows.every((r) => r[1] === "false");
    return ok ? "pass" : "fail";
  },
};
/** `dconf update` as the admin runs it: each /etc/dconf/db/NAME.d compiled into NAME. */
async function dconfUpdate(root: string): Promise<void> {
  const dir = at(root, "/etc/dconf/db");
  for (const name of await readdir(dir))
    if (name.endsWith(".d"))
      await execa("dconf", ["compile", join(dir, name.slice(0, -2)), join(dir, name)]);
}

// ─── the generator ──────────────────────────────────────────────────────────

export function generateMutations(): Mutation[] {
  const out: Mutation[] = [];
  const add = (m: Mutation) =>
    out.push(/\/run\//.test(m.description) ? { notLive: runHidden, ...m } : m);

  // sysctl: systemd-sysctl's order and precedence (BOOT-04 kernel.sysrq, DATA-03 fs.suid_dumpable).
  for (const [file, value] of [
    ["/etc/sysctl.d/95-debug.conf", "1"],
    ["/etc/sysctl.d/99-magic-sysrq.conf", "176"],
    ["/etc/sysctl.d/91-admin.conf", "16"],
    ["/run/sysctl.d/95-runtime.conf", "1"],
    ["/usr/lib/sysctl.d/99-vendor.conf", "438"],
    ["/usr/local/lib/sysctl.d/95-local.conf", "1"],
    ["/lib/sysctl.d/95-lib.conf", "1"],
  ] as const)
    add({
      id: `sysctl-later-${file.replace(/\W+/g, "-")}`,
      description: `${file} (read after 90-koffer.conf) sets kernel.sysrq = ${value}`,
      expect: { "BOOT-04": "fail" },
      apply: (r) => put(r, file, `kernel.sysrq = ${value}\n`),
      liveProbe: [sysrqProbe],
      inPlace: { paths: [file] },
    });
  for (const file of [
    "/etc/sysctl.d/10-debug.conf",
    "/run/sysctl.d/50-x.conf",
    "/usr/lib/sysctl.d/50-default.conf",
    "/etc/sysctl.d/89-x.conf",
  ])
    add({
      id: `sysctl-earlier-${file.replace(/\W+/g, "-")}`,
      description: `${file} (read before 90-koffer.conf) sets kernel.sysrq = 1, which 90-koffer.conf overrides`,
      expect: { "BOOT-04": "pass" },
      apply: (r) => put(r, file, "kernel.sysrq = 1\n"),
      liveProbe: [sysrqProbe],
      inPlace: { paths: [file] },
    });
  add({
    id: "sysctl-conf-without-link",
    description:
      "/etc/sysctl.conf sets kernel.sysrq = 1 but /etc/sysctl.d/99-sysctl.conf is missing: not applied",
    expect: { "BOOT-04": "pass" },
    apply: (r) => put(r, "/etc/sysctl.conf", "kernel.sysrq = 1\n"),
    liveProbe: [sysrqProbe],
    inPlace: { paths: ["/etc/sysctl.conf"] },
  });
  add({
    id: "sysctl-conf-with-link",
    description:
      "/etc/sysctl.conf sets kernel.sysrq = 1 and Debian's 99-sysctl.conf link makes systemd-sysctl read it last",
    expect: { "BOOT-04": "fail" },
    apply: async (r) => {
      await put(r, "/etc/sysctl.conf", "kernel.sysrq = 1\n");
      await link(r, "/etc/sysctl.d/99-sysctl.conf", "../sysctl.conf");
    },
    liveProbe: [sysrqProbe],
    inPlace: { paths: ["/etc/sysctl.conf", "/etc/sysctl.d/99-sysctl.conf"] },
  });
  add({
    id: "sysctl-only-in-sysctl-conf",
    description:
      "kernel.sysrq = 0 moved to /etc/sysctl.conf without the 99-sysctl.conf link: never applied",
    expect: { "BOOT-04": "fail" },
    apply: async (r) => {
      await rm(at(r, "/etc/sysctl.d/90-koffer.conf"));
      await put(r, "/etc/sysctl.conf", "kernel.sysrq = 0\nfs.suid_dumpable = 0\n");
    },
    liveProbe: [sysrqProbe, dumpableProbe],
    inPlace: { paths: ["/etc/sysctl.d/90-koffer.conf", "/etc/sysctl.conf"] },
  });
  add({
    id: "sysctl-same-name-lower",
    description:
      "/usr/lib/sysctl.d/90-koffer.conf (same name, lower precedence) sets kernel.sysrq = 1: hidden by /etc",
    expect: { "BOOT-04": "pass" },
    apply: (r) => put(r, "/usr/lib/sysctl.d/90-koffer.conf", "kernel.sysrq = 1\n"),
    liveProbe: [sysrqProbe],
    inPlace: { paths: ["/usr/lib/sysctl.d/90-koffer.conf"] },
  });
  add({
    id: "sysctl-same-name-higher",
    description:
      "/etc/sysctl.d/99-vendor.conf hides /usr/lib/sysctl.d/99-vendor.conf and sets kernel.sysrq = 1",
    expect: { "BOOT-04": "fail" },
    apply: async (r) => {
      await put(r, "/usr/lib/sysctl.d/99-vendor.conf", "kernel.sysrq = 0\n");
      await put(r, "/etc/sysctl.d/99-vendor.conf", "kernel.sysrq = 1\n");
    },
    liveProbe: [sysrqProbe],
    inPlace: { paths: ["/usr/lib/sysctl.d/99-vendor.conf", "/etc/sysctl.d/99-vendor.conf"] },
  });
  for (const [name, line, verdict] of [
    ["dash", "-kernel.sysrq = 1", "fail"],
    ["slash", "kernel/sysrq = 1", "fail"],
    ["spaces", "  kernel.sysrq=1  ", "fail"],
    ["comment", "# kernel.sysrq = 1", "pass"],
    ["semicolon", "; kernel.sysrq = 1", "pass"],
  ] as const)
    add({
      id: `sysctl-syntax-${name}`,
      description: `99-x.conf: "${line}"`,
      expect: { "BOOT-04": verdict },
      apply: (r) => put(r, "/etc/sysctl.d/99-x.conf", `${line}\n`),
      liveProbe: [sysrqProbe],
      inPlace: { paths: ["/etc/sysctl.d/99-x.conf"] },
    });
  add({
    id: "sysctl-not-conf",
    description: "99-x.conf.disabled sets kernel.sysrq = 1: not a .conf file, not read",
    expect: { "BOOT-04": "pass" },
    apply: (r) => put(r, "/etc/sysctl.d/99-x.conf.disabled", "kernel.sysrq = 1\n"),
    liveProbe: [sysrqProbe],
    inPlace: { paths: ["/etc/sysctl.d/99-x.conf.disabled"] },
  });
  for (const [file, value, verdict] of [
    ["/etc/sysctl.d/99-dump.conf", "2", "fail"],
    ["/etc/sysctl.d/95-dump.conf", "1", "fail"],
    ["/etc/sysctl.d/10-dump.conf", "2", "pass"],
    ["/run/sysctl.d/99-dump.conf", "1", "fail"],
  ] as const)
    add({
      id: `sysctl-dumpable-${file.replace(/\W+/g, "-")}`,
      description: `${file} sets fs.suid_dumpable = ${value}`,
      expect: { "DATA-03": verdict },
      apply: (r) => put(r, file, `fs.suid_dumpable = ${value}\n`),
      liveProbe: [dumpableProbe],
      inPlace: { paths: [file] },
    });

  // units: masks outrank generated units; dangling aliases are a verdict.
  for (const dir of ["/etc/systemd/system", "/run/systemd/system"]) {
    add({
      id: `mask-tmp-mount-${dir.split("/")[1]}`,
      description: `tmp.mount masked in ${dir}: the fstab tmpfs line never mounts, /tmp stays on disk`,
      expect: { "DATA-01": "fail", "APP-01": "fail" },
      apply: (r) => link(r, `${dir}/tmp.mount`, "/dev/null"),
      liveProbe: [tmpProbe, noexecProbe("/tmp")],
      exclusive: true,
    });
    add({
      id: `mask-var-tmp-mount-${dir.split("/")[1]}`,
      description: `var-tmp.mount masked in ${dir}: /var/tmp without noexec`,
      expect: { "APP-01": "fail", "DATA-01": "pass" },
      apply: (r) => link(r, `${dir}/var-tmp.mount`, "/dev/null"),
      liveProbe: [noexecProbe("/var/tmp")],
      exclusive: true,
    });
    add({
      id: `mask-home-mount-${dir.split("/")[1]}`,
      description: `home.mount masked in ${dir}: /home without noexec`,
      expect: { "APP-01": "fail" },
      apply: (r) => link(r, `${dir}/home.mount`, "/dev/null"),
      liveProbe: [noexecProbe("/home")],
      exclusive: true,
    });
  }
  for (const [unit, control] of [
    ["nftables.service", "NET-01"],
    ["usbguard.service", "USB-01"],
    ["auditd.service", "LOG-01"],
  ] as const)
    for (const dir of ["/etc/systemd/system", "/run/systemd/system"])
      add({
        id: `mask-${unit}-${dir.split("/")[1]}`,
        description: `${unit} masked in ${dir}`,
        expect: { [control]: "fail", ...(unit === "nftables.service" ? { "VPN-06": "fail" } : {}) },
        apply: (r) => link(r, `${dir}/${unit}`, "/dev/null"),
        liveProbe: [
          unitProbe(control, unit),
          ...(unit === "nftables.service" ? firewallProbes : []),
        ],
        exclusive: true,
      });
  add({
    id: "dangling-sshd-alias",
    description: "sshd.service left behind as an alias of the purged ssh.service (dangling link)",
    expect: { "NET-02": "pass" },
    apply: (r) => link(r, "/etc/systemd/system/sshd.service", "/lib/systemd/system/ssh.service"),
    liveProbe: [sshdGoneProbe],
  });
  add({
    id: "dangling-ssh-wants",
    description: "multi-user.target.wants/ssh.service points at the purged unit",
    expect: { "NET-02": "pass" },
    apply: (r) =>
      link(
        r,
        "/etc/systemd/system/multi-user.target.wants/ssh.service",
        "/lib/systemd/system/ssh.service",
      ),
    liveProbe: [sshdGoneProbe],
  });
  add({
    id: "dangling-usbguard-alias",
    description:
      "an alias usbguard-daemon.service pointing nowhere next to the real usbguard.service",
    expect: { "USB-01": "pass" },
    apply: (r) =>
      link(
        r,
        "/etc/systemd/system/usbguard-daemon.service",
        "/lib/systemd/system/usbguard-old.service",
      ),
    liveProbe: [unitProbe("USB-01", "usbguard.service")],
  });

  // audit: augenrules order, first match, -p, argument filters, exclude, -e.
  const early = "/etc/audit/rules.d/10-quiet.rules";
  // augenrules sorts with `ls -v`: digits before letters, so 99-local.rules comes BEFORE the
  // laptop's koffer.rules (see audit-sorted-before) and zz-local.rules after it.
  const late = "/etc/audit/rules.d/zz-local.rules";
  for (const [name, rule, verdict] of [
    ["never-execve", "-a never,exit -F arch=b64 -S execve", "fail"],
    ["never-all", "-a never,exit", "fail"],
    ["never-all-b64", "-a never,exit -F arch=b64", "fail"],
    ["never-settimeofday", "-a never,exit -F arch=b64 -S settimeofday", "fail"],
    ["never-modules", "-a never,exit -F arch=b64 -S finit_module", "fail"],
    ["never-dir-etc", "-a never,exit -F dir=/etc", "fail"],
    ["never-path-shadow", "-a never,exit -F path=/etc/shadow", "fail"],
    ["never-auid", "-a never,exit -F arch=b64 -S execve -F auid=1000", "fail"],
    ["exit-never-order", "-a exit,never -F arch=b64 -S execve", "fail"],
    ["never-euid-1000", "-a never,exit -F arch=b64 -S execve -F euid=1000", "pass"],
    ["never-b32-execve", "-a never,exit -F arch=b32 -S execve", "pass"],
    // execve of a program below /tmp is not recorded any more: part of the privilege use.
    ["never-dir-tmp", "-a never,exit -F dir=/tmp", "fail"],
    ["never-openat-var", "-a never,exit -F arch=b64 -S openat -F dir=/var/log", "pass"],
    // a user-list rule matches only through a field (kernel/auditfilter.c): no field, no match
    ["never-user", "-a never,user", "pass"],
    ["never-user-auid", "-a never,user -F auid=1000", "fail"],
    ["exclude-syscall", "-a always,exclude -F msgtype=SYSCALL", "fail"],
    ["exclude-cwd", "-a always,exclude -F msgtype=CWD", "pass"],
    ["exclude-user-login", "-a always,exclude -F msgtype=USER_LOGIN", "fail"],
    // on the exclude list a matching never rule drops the record too (kernel/auditfilter.c)
    ["exclude-never", "-a never,exclude -F msgtype=SYSCALL", "fail"],
    ["extra-watch", "-w /etc/hosts -p wa -k hosts", "pass"],
  ] as const) {
    add({
      id: `audit-early-${name}`,
      description: `${early}: ${rule}`,
      expect: { "LOG-01": verdict },
      apply: (r) => put(r, early, `${rule}\n`),
      liveProbe: [auditProbe],
    });
  }
  for (const [name, rule, verdict] of [
    ["never-execve", "-a never,exit -F arch=b64 -S execve", "pass"],
    ["never-all", "-a never,exit", "pass"],
    ["prepend-never-execve", "-A never,exit -F arch=b64 -S execve", "fail"],
    ["disable", "-e 0", "fail"],
    ["immutable", "-e 2", "pass"],
    ["exclude-syscall", "-a always,exclude -F msgtype=SYSCALL", "fail"],
  ] as const)
    add({
      id: `audit-late-${name}`,
      description: `${late} (after koffer.rules): ${rule}`,
      expect: { "LOG-01": verdict },
      apply: (r) => put(r, late, `${rule}\n`),
      liveProbe: [auditProbe],
    });
  add({
    id: "audit-sorted-before",
    description: "99-local.rules sorts before koffer.rules (ls -v): its never rule comes first",
    expect: { "LOG-01": "fail" },
    apply: (r) =>
      put(r, "/etc/audit/rules.d/99-local.rules", "-a never,exit -F arch=b64 -S execve\n"),
    liveProbe: [auditProbe],
  });
  for (const path of [
    "/etc/passwd",
    "/etc/shadow",
    "/etc/group",
    "/etc/sudoers",
    "/etc/usbguard",
    "/etc/nftables.conf",
    "/etc/swanctl",
  ])
    for (const perm of ["w", "r", "x", "a"])
      add({
        id: `audit-perm-${perm}-${path.replace(/\W+/g, "-")}`,
        description: `the watch on ${path} records -p ${perm} only`,
        expect: { "LOG-01": "fail" },
        apply: (r) =>
          edit(r, auditRulesFile(r), (t) => t.replace(`-w ${path} -p wa`, `-w ${path} -p ${perm}`)),
        liveProbe: [auditProbe],
      });
  for (const [name, from, to] of [
    ["privileged-a0", "-S execve -F euid=0", "-S execve -F euid=0 -F a0=0"],
    ["privileged-exe", "-S execve -F euid=0", "-S execve -F euid=0 -F exe=/usr/bin/sudo"],
    ["time-a0", "-S settimeofday,clock_settime", "-S settimeofday,clock_settime -F a0=0"],
    ["modules-uid", "-S init_module,finit_module", "-S init_module,finit_module -F uid=1000"],
    ["time-b32", "-F arch=b64 -S settimeofday", "-F arch=b32 -S settimeofday"],
    ["privileged-euid-1000", "-F euid=0", "-F euid=1000"],
    ["watch-file-below", "-w /etc/usbguard -p wa", "-w /etc/usbguard/rules.conf -p wa"],
    ["watch-dir-above", "-w /etc/swanctl -p wa", "-w /etc -p wa"],
  ] as const)
    add({
      id: `audit-filter-${name}`,
      description: `koffer.rules: "${from}" became "${to}"`,
      expect: { "LOG-01": name === "watch-dir-above" ? "pass" : "fail" },
      apply: (r) => edit(r, auditRulesFile(r), (t) => t.replace(from, to)),
      liveProbe: [auditProbe],
    });

  // USBGuard: what a rule admits, first match, the audit backend.
  for (const [name, rule, expect] of [
    ["allow-id-any", "allow id *:*", { "USB-01": "fail", "USB-02": "fail" }],
    ["allow-bare", "allow", { "USB-01": "fail", "USB-02": "fail" }],
    [
      "allow-one-of",
      "allow with-interface one-of { 03:*:* 08:*:* 09:*:* }",
      { "USB-01": "fail", "USB-02": "fail" },
    ],
    [
      "allow-one-of-hid",
      "allow with-interface one-of { 03:*:* }",
      { "USB-01": "fail", "USB-02": "fail" },
    ],
    ["allow-vendor-any", "allow id 1234:*", { "USB-01": "fail", "USB-02": "fail" }],
    [
      "allow-storage",
      "allow with-interface equals { 08:06:50 }",
      { "USB-01": "fail", "USB-02": "fail" },
    ],
    [
      "allow-all-of-hid",
      "allow with-interface all-of { 03:*:* }",
      { "USB-01": "fail", "USB-02": "fail" },
    ],
    [
      "allow-none-of-storage",
      "allow with-interface none-of { 08:*:* }",
      { "USB-01": "fail", "USB-02": "pass" },
    ],
    [
      "allow-hid-only",
      "allow with-interface equals { 03:01:01 }",
      { "USB-01": "fail", "USB-02": "pass" },
    ],
    [
      "allow-match-all-hid",
      "allow with-interface match-all { 03:*:* }",
      { "USB-01": "fail", "USB-02": "pass" },
    ],
    [
      "block-storage",
      "block with-interface one-of { 08:*:* }",
      { "USB-01": "pass", "USB-02": "pass" },
    ],
    ["allow-serial", 'allow id 0c4b:0501 serial "X123"', { "USB-02": "pass" }],
  ] as const)
    add({
      id: `usbguard-append-${name}`,
      description: `rules.conf gains "${rule}" at the end`,
      expect,
      apply: (r) => append(r, "/etc/usbguard/rules.conf", `${rule}\n`),
      liveProbe: [usbProbe("USB-02")],
      ...(name === "allow-vendor-any"
        ? {
            vmNotLive:
              "the truth is whether a stick of vendor 1234 gets through; QEMU's usb-storage always has the id 46f4:0001",
          }
        : name === "allow-one-of-hid" || name === "allow-all-of-hid"
          ? { vmNotLive: noComposite }
          : {}),
    });
  for (const [name, rule, expect] of [
    ["allow-id-any", "allow id *:*", { "USB-02": "fail", "USB-03": "fail" }],
    ["allow-bare", "allow", { "USB-02": "fail", "USB-03": "fail" }],
    [
      "allow-one-of",
      "allow with-interface one-of { 03:*:* }",
      { "USB-02": "fail", "USB-03": "fail" },
    ],
    [
      "allow-hid-only",
      "allow with-interface equals { 03:01:01 }",
      { "USB-02": "pass", "USB-03": "pass" },
    ],
  ] as const)
    add({
      id: `usbguard-prepend-${name}`,
      description: `rules.conf starts with "${rule}": it matches before the reject rule`,
      expect,
      apply: (r) => edit(r, "/etc/usbguard/rules.conf", (t) => `${rule}\n${t}`),
      liveProbe: [usbProbe("USB-03")],
    });
  add({
    id: "usbguard-reject-storage-first",
    description: "a reject for every storage interface comes first, then allow id *:*",
    expect: { "USB-02": "pass", "USB-01": "fail" },
    apply: async (r) => {
      await edit(
        r,
        "/etc/usbguard/rules.conf",
        (t) => `reject with-interface one-of { 08:*:* }\n${t}`,
      );
      await append(r, "/etc/usbguard/rules.conf", "allow id *:*\n");
    },
    liveProbe: [usbProbe("USB-02")],
  });
  add({
    id: "usbguard-rule-folder",
    description: "RuleFolder=/etc/usbguard/rules.d with a file allowing every device",
    expect: { "USB-02": "fail", "USB-01": "fail" },
    apply: async (r) => {
      await append(r, "/etc/usbguard/usbguard-daemon.conf", "RuleFolder=/etc/usbguard/rules.d/\n");
      await put(r, "/etc/usbguard/rules.d/50-vendor.conf", "allow id *:*\n");
    },
    liveProbe: [usbProbe("USB-02")],
  });
  for (const [name, fn, verdict] of [
    [
      "file-audit",
      (t: string) =>
        t.replace(
          "AuditBackend=LinuxAudit",
          "AuditBackend=FileAudit\nAuditFilePath=/var/log/usbguard/usbguard-audit.log",
        ),
      "fail",
    ],
    ["no-backend", (t: string) => t.replace("AuditBackend=LinuxAudit\n", ""), "fail"],
    ["later-file-audit", (t: string) => `${t}AuditBackend=FileAudit\n`, "fail"],
    [
      "later-linux-audit",
      (t: string) =>
        `${t.replace("AuditBackend=LinuxAudit", "AuditBackend=FileAudit")}AuditBackend=LinuxAudit\n`,
      "pass",
    ],
  ] as const)
    add({
      id: `usbguard-audit-${name}`,
      description: `usbguard-daemon.conf: ${name}`,
      expect: { "LOG-01": verdict },
      apply: (r) => edit(r, "/etc/usbguard/usbguard-daemon.conf", fn),
      liveProbe: [
        {
          control: "LOG-01",
          argv: ["usbguard", "get-parameter", "AuditBackend"],
          judge: (o) => (o.trim() === "LinuxAudit" ? "pass" : "fail"),
          notLive: usbguardDown,
          vm: "usb-audit",
        },
      ],
    });
  add({
    id: "usbguard-implicit-allow",
    description: "ImplicitPolicyTarget=allow",
    expect: { "USB-01": "fail" },
    apply: (r) =>
      edit(r, "/etc/usbguard/usbguard-daemon.conf", (t) =>
        t.replace("ImplicitPolicyTarget=block", "ImplicitPolicyTarget=allow"),
      ),
    liveProbe: [
      {
        control: "USB-01",
        argv: ["usbguard", "get-parameter", "ImplicitPolicyTarget"],
        judge: (o) => (o.trim() === "allow" ? "fail" : "pass"),
        notLive: usbguardDown,
        vm: "usb-devices",
      },
    ],
  });

  // kernel command line: grub's shell.
  for (const [name, text, expect] of [
    [
      "apparmor-0",
      'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX apparmor=0"',
      { "APP-01": "fail", "BOOT-04": "pass" },
    ],
    [
      "apparmor-0-braces",
      'GRUB_CMDLINE_LINUX="${GRUB_CMDLINE_LINUX} apparmor=0"',
      { "APP-01": "fail", "BOOT-04": "pass" },
    ],
    [
      "security-selinux",
      'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX security=selinux"',
      { "APP-01": "fail", "BOOT-04": "pass" },
    ],
    [
      "lsm-without-apparmor",
      'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX lsm=landlock,lockdown,yama"',
      { "APP-01": "fail" },
    ],
    [
      "lsm-with-apparmor",
      'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX lsm=landlock,lockdown,yama,apparmor"',
      { "APP-01": "pass" },
    ],
    [
      "apparmor-1",
      'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX apparmor=1 security=apparmor"',
      { "APP-01": "pass", "BOOT-04": "pass" },
    ],
    [
      "append-quiet",
      'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX splash"',
      { "BOOT-04": "pass", "APP-01": "pass" },
    ],
    ["replace", 'GRUB_CMDLINE_LINUX="splash"', { "BOOT-04": "fail", "APP-01": "pass" }],
    [
      "export-apparmor-0",
      'export GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX apparmor=0"',
      { "APP-01": "fail" },
    ],
    [
      "single-quotes",
      "GRUB_CMDLINE_LINUX='$GRUB_CMDLINE_LINUX apparmor=0'",
      { "APP-01": "fail", "BOOT-04": "fail" },
    ],
    [
      "default-iommu-off",
      'GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT intel_iommu=off"',
      { "BOOT-04": "fail" },
    ],
    ["default-apparmor-0", 'GRUB_CMDLINE_LINUX_DEFAULT="quiet apparmor=0"', { "APP-01": "fail" }],
    ["unquoted", "GRUB_CMDLINE_LINUX=$GRUB_CMDLINE_LINUX\\ apparmor=0", { "APP-01": "fail" }],
    [
      "default-fallback",
      'GRUB_CMDLINE_LINUX="${GRUB_CMDLINE_LINUX:-quiet} apparmor=0"',
      { "APP-01": "fail", "BOOT-04": "pass" },
    ],
    // the kernel reads apparmor= as a number (kstrtoul) and apparmor.enabled= as a boolean
    [
      "apparmor-off-word",
      'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX apparmor=off"',
      { "APP-01": "pass" },
    ],
    [
      "apparmor-hex-zero",
      'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX apparmor=0x0"',
      { "APP-01": "fail" },
    ],
    [
      "apparmor-module-param",
      'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX apparmor.enabled=0"',
      { "APP-01": "fail", "BOOT-04": "pass" },
    ],
  ] as const)
    add({
      id: `grub-dropin-${name}`,
      description: `/etc/default/grub.d/50-local.cfg: ${text}`,
      expect,
      apply: (r) => put(r, "/etc/default/grub.d/50-local.cfg", `${text}\n`),
      liveProbe: [cmdlineProbe("APP-01"), cmdlineProbe("BOOT-04")],
      exclusive: true,
    });
  add({
    id: "grub-dropin-not-cfg",
    description: "/etc/default/grub.d/50-local.cfg.bak sets apparmor=0: not sourced",
    expect: { "APP-01": "pass", "BOOT-04": "pass" },
    apply: (r) =>
      put(r, "/etc/default/grub.d/50-local.cfg.bak", 'GRUB_CMDLINE_LINUX="apparmor=0"\n'),
    liveProbe: [cmdlineProbe("APP-01")],
  });
  add({
    id: "grub-dropin-order",
    description: "10-a.cfg sets apparmor=0, 20-b.cfg replaces the line with the IOMMU options",
    expect: { "APP-01": "pass", "BOOT-04": "pass" },
    apply: async (r) => {
      await put(r, "/etc/default/grub.d/10-a.cfg", 'GRUB_CMDLINE_LINUX="apparmor=0"\n');
      await put(
        r,
        "/etc/default/grub.d/20-b.cfg",
        'GRUB_CMDLINE_LINUX="intel_iommu=on iommu=force"\n',
      );
    },
    liveProbe: [cmdlineProbe("APP-01")],
    exclusive: true,
  });
  add({
    id: "grub-main-later-line",
    description: '/etc/default/grub gains a later GRUB_CMDLINE_LINUX="quiet" line',
    expect: { "BOOT-04": "fail" },
    apply: (r) => append(r, "/etc/default/grub", 'GRUB_CMDLINE_LINUX="quiet"\n'),
    liveProbe: [cmdlineProbe("BOOT-04")],
    exclusive: true,
  });
  add({
    id: "grub-main-continuation",
    description: "a continued line in /etc/default/grub appends apparmor=0",
    expect: { "APP-01": "fail", "BOOT-04": "pass" },
    apply: (r) =>
      append(r, "/etc/default/grub", 'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX \\\n apparmor=0"\n'),
    liveProbe: [cmdlineProbe("APP-01")],
    exclusive: true,
  });

  // firewall: inbound default deny, the kill switch, DNS.
  const input = (rule: string) => (t: string) =>
    t.replace('    iif "lo" accept\n', `    iif "lo" accept\n    ${rule}\n`);
  const output = (rule: string) => (t: string) =>
    t.replace('    oif "lo" accept\n', `    oif "lo" accept\n    ${rule}\n`);
  for (const [rule, verdict] of [
    ["tcp dport 5900 accept", "fail"],
    ["tcp dport 22 accept", "fail"],
    ["tcp dport 3389 accept", "fail"],
    ["tcp dport { 139, 445 } accept", "fail"],
    ["udp dport 5353 accept", "fail"],
    ["tcp dport 631 accept", "fail"],
    ["ct state new accept", "fail"],
    ["ct state established,related,new accept", "fail"],
    // the office network trusted; the peer of the live test sits in it (10.251.11.2)
    ["ip saddr 10.0.0.0/8 accept", "fail"],
    ["meta l4proto icmp accept", "fail"],
    ["meta l4proto ipv6-icmp accept", "fail"],
    ['iifname "wlan0" accept', "fail"],
    ["counter tcp dport 8080 accept", "fail"],
    ["icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept", "pass"],
    ['iifname "lo" accept', "pass"],
    ["ct state related accept", "pass"],
    ["tcp dport 5900 drop", "pass"],
    ["ip saddr 10.0.0.0/8 counter", "pass"],
  ] as const)
    add({
      id: `nft-input-${rule.replace(/\W+/g, "-")}`,
      description: `input chain: ${rule}`,
      expect: { "NET-01": verdict },
      apply: (r) => edit(r, "/etc/nftables.conf", input(rule)),
      liveProbe: firewallProbes,
      inPlace: nftInPlace,
    });
  add({
    id: "nft-input-policy-accept",
    description: "input chain policy accept",
    expect: { "NET-01": "fail" },
    apply: (r) =>
      edit(r, "/etc/nftables.conf", (t) =>
        t.replace(
          "hook input priority filter; policy drop;",
          "hook input priority filter; policy accept;",
        ),
      ),
    liveProbe: firewallProbes,
    inPlace: nftInPlace,
  });
  add({
    id: "nft-second-table-accept",
    description: "a second table whose input chain accepts SSH: the koffer chain still drops it",
    expect: { "NET-01": "pass" },
    apply: (r) =>
      append(
        r,
        "/etc/nftables.conf",
        "table inet extra {\n  chain input {\n    type filter hook input priority filter + 10; policy accept;\n    tcp dport 22 accept\n  }\n}\n",
      ),
    liveProbe: firewallProbes,
    inPlace: nftInPlace,
  });
  add({
    id: "nft-jump-accept",
    description: "the input chain jumps to a chain accepting VNC",
    expect: { "NET-01": "fail" },
    apply: (r) =>
      edit(r, "/etc/nftables.conf", (t) =>
        input("jump admin")(t).replace(
          "  chain output {",
          "  chain admin {\n    tcp dport 5900 accept\n  }\n  chain output {",
        ),
      ),
    liveProbe: firewallProbes,
    inPlace: nftInPlace,
  });
  for (const [rule, verdict] of [
    ["udp dport 53 accept", "fail"],
    ["tcp dport 53 accept", "fail"],
    ["meta l4proto { tcp, udp } th dport 53 accept", "fail"],
    ["ip daddr 9.9.9.9 udp dport 53 accept", "fail"],
    ["ip daddr 192.168.178.1 udp dport domain accept", "fail"],
    ["tcp dport 853 accept", "fail"],
    ["udp dport 1-1024 accept", "fail"],
    ["ip daddr 9.9.9.9 accept", "fail"],
    ["meta l4proto udp accept", "fail"],
    ["udp dport 123 accept", "fail"],
    ["tcp dport 443 accept", "fail"],
    ["meta l4proto esp accept", "pass"],
    ["udp dport 4500 accept", "pass"],
    ["ct state established,related accept", "pass"],
    ["udp dport 53 drop", "pass"],
    // DNS only through the tunnel: in an output chain the IPsec policy is asked with `rt`.
    ["rt ipsec exists udp dport 53 accept", "pass"],
    // `meta ipsec` matches only on input/forward/prerouting: nft rejects the whole file
    // ("meta ipsec" in an output hook is an error), so the kill switch never loads.
    ["meta ipsec exists udp dport 53 accept", "fail"],
  ] as const)
    add({
      id: `nft-output-${rule.replace(/\W+/g, "-")}`,
      description: rule.startsWith("meta ipsec")
        ? `kill switch output chain: ${rule} — the kernel rejects the whole ruleset (meta ipsec is not valid in an output chain), nothing loads`
        : `kill switch output chain: ${rule}`,
      expect: { "VPN-06": verdict },
      ...(rule.startsWith("meta ipsec")
        ? { reason: { "VPN-06": /meta ipsec[\s\S]*rt ipsec exists/ } }
        : {}),
      apply: (r) => edit(r, "/etc/nftables.conf", output(rule)),
      liveProbe: firewallProbes,
      inPlace: nftInPlace,
    });
  // The gateway named in /etc/hosts (as a kill-switched laptop must resolve it without DNS):
  // its address is known, so IKE/NAT-T and ESP to any other address leave outside the tunnel.
  const ikeToAny = "    udp dport { 500, 4500 } accept\n";
  for (const [id, description, nft, verdict] of [
    ["unpinned", "IKE/NAT-T still accepted to any address", (t: string) => t, "fail"],
    [
      "pinned",
      "IKE/NAT-T pinned to it (ip daddr 192.0.2.10)",
      (t: string) =>
        t.replace(ikeToAny, "    ip daddr 192.0.2.10 udp dport { 500, 4500 } accept\n"),
      "pass",
    ],
    [
      "pinned-esp-to-any",
      "IKE/NAT-T pinned to it, ESP accepted to any address",
      (t: string) =>
        t.replace(
          ikeToAny,
          "    ip daddr 192.0.2.10 udp dport { 500, 4500 } accept\n    meta l4proto esp accept\n",
        ),
      "fail",
    ],
  ] as const)
    add({
      id: `nft-output-gateway-in-hosts-${id}`,
      description: `/etc/hosts names the gateway vpn.meerane.example (192.0.2.10); kill switch: ${description}`,
      expect: { "VPN-06": verdict },
      ...(verdict === "fail"
        ? { reason: { "VPN-06": /192\.0\.2\.10[\s\S]*nftables\.conf:\d+/ } }
        : {}),
      apply: async (r) => {
        await append(r, "/etc/hosts", "192.0.2.10\tvpn.meerane.example\n");
        if (id !== "unpinned") await edit(r, "/etc/nftables.conf", nft);
      },
      liveProbe: firewallProbes,
      inPlace: { paths: ["/etc/hosts", "/etc/nftables.conf"], restart: "nftables.service" },
    });
  add({
    id: "nft-output-policy-accept",
    description: "output chain policy accept",
    expect: { "VPN-06": "fail" },
    apply: (r) =>
      edit(r, "/etc/nftables.conf", (t) =>
        t.replace(
          "hook output priority filter; policy drop;",
          "hook output priority filter; policy accept;",
        ),
      ),
    liveProbe: firewallProbes,
    inPlace: nftInPlace,
  });
  for (const [text, verdict] of [
    ["nameserver 192.168.178.1\n", "fail"],
    ["nameserver 8.8.8.8\n", "fail"],
    ["nameserver 10.20.0.54\n", "fail"],
    ["nameserver 172.16.0.1\n", "fail"],
    ["nameserver 127.0.0.53\n", "pass"],
    ["nameserver 10.20.0.53   # by strongSwan\nnameserver 10.20.0.54   # by strongSwan\n", "pass"],
    ["nameserver 10.20.0.53   # by strongSwan\nnameserver 1.1.1.1\n", "fail"],
  ] as const)
    add({
      id: `resolv-${text.split("\n")[0]!.replace(/\W+/g, "-")}${text.includes("1.1.1.1") ? "-plus-public" : ""}`,
      description: `/etc/resolv.conf: ${text.trim().replace(/\n/g, "; ")}`,
      expect: { "VPN-07": verdict },
      apply: (r) => put(r, "/etc/resolv.conf", text),
      liveProbe: [resolverProbe],
    });
  // resolved.conf(.d) is read only by systemd-resolved, a package of its own on Debian 12 that
  // the laptop does not have: glibc asks /etc/resolv.conf's servers (nsswitch `files dns`).
  // Installed and enabled (its unit, enabled as the package does), its servers are asked (by
  // NetworkManager and whoever uses its stub or D-Bus API); resolv.conf keeps strongSwan's.
  const resolvedUnit = "/lib/systemd/system/systemd-resolved.service";
  const installResolved = async (r: string) => {
    await put(
      r,
      resolvedUnit,
      "[Unit]\nDescription=Network Name Resolution\n\n[Service]\nType=notify\nExecStart=/lib/systemd/systemd-resolved\n\n[Install]\nWantedBy=sysinit.target\nAlias=dbus-org.freedesktop.resolve1.service\n",
    );
    await link(
      r,
      "/etc/systemd/system/sysinit.target.wants/systemd-resolved.service",
      resolvedUnit,
    );
    await link(r, "/etc/systemd/system/dbus-org.freedesktop.resolve1.service", resolvedUnit);
  };
  for (const [key, value, verdict] of [
    ["FallbackDNS", "9.9.9.9", "fail"],
    ["DNS", "192.168.1.1", "fail"],
    // the server the gateway pushes, also configured statically: reached through the tunnel
    ["DNS", "10.20.0.53", "pass"],
  ] as const) {
    add({
      id: `resolved-${key}-${value.replace(/\W+/g, "-")}-not-installed`,
      description: `resolved.conf.d: ${key}=${value}, systemd-resolved not installed (nothing reads it)`,
      expect: { "VPN-07": "pass" },
      apply: (r) =>
        put(r, "/etc/systemd/resolved.conf.d/50-local.conf", `[Resolve]\n${key}=${value}\n`),
      liveProbe: [resolverProbe],
    });
    add({
      id: `resolved-${key}-${value.replace(/\W+/g, "-")}`,
      description: `systemd-resolved installed and enabled, resolved.conf.d: ${key}=${value}`,
      expect: { "VPN-07": verdict },
      apply: async (r) => {
        await installResolved(r);
        await put(r, "/etc/systemd/resolved.conf.d/50-local.conf", `[Resolve]\n${key}=${value}\n`);
      },
      liveProbe: [resolverProbe],
    });
  }

  // Personal accounts outside the profile (ACC-01): one that can log in, one whose password is
  // locked only (an SSH key or another PAM method still gets in), one locked and expired as
  // `usermod -L -e 1` leaves it (no PAM account check passes), one with no login shell.
  for (const [id, hash, expire, shell, verdict] of [
    ["usable", `$y$j9T$${"e".repeat(22)}$${"f".repeat(43)}`, "", "/bin/bash", "fail"],
    ["locked-only", `!$y$j9T$${"e".repeat(22)}$${"f".repeat(43)}`, "", "/bin/bash", "fail"],
    ["locked-expired", `!$y$j9T$${"e".repeat(22)}$${"f".repeat(43)}`, "1", "/bin/bash", "pass"],
    ["nologin-shell", "*", "", "/usr/sbin/nologin", "pass"],
  ] as const)
    add({
      id: `account-praktikant-${id}`,
      description: `a personal account outside the profile (praktikant, UID 1003): ${id}`,
      expect: { "ACC-01": verdict },
      apply: async (r) => {
        await append(r, "/etc/passwd", `praktikant:x:1003:1003::/home/praktikant:${shell}\n`);
        await append(r, "/etc/group", "praktikant:x:1003:\n");
        await append(r, "/etc/shadow", `praktikant:${hash}:19700:0:99999:7::${expire}:\n`);
      },
      liveProbe: [adminProbe],
      inPlace: { paths: ["/etc/passwd", "/etc/group", "/etc/shadow"] },
    });

  // APT sources as apt reads them (APP-03): which parts it takes (`.list`, `.sources`; not
  // `.disabled`, `.save`, names with a space), deb822 `Enabled: no`, per-source and global
  // switches that let unsigned packages in.
  const vendorLine = (options: string) => `deb ${options}http://vendor.example/apt stable main\n`;
  const vendorStanza = (extra: string) =>
    `Types: deb\nURIs: http://vendor.example/apt\nSuites: stable\nComponents: main\n${extra}`;
  for (const [id, path, text, verdict] of [
    ["list-trusted", "vendor.list", vendorLine("[trusted=yes] "), "fail"],
    ["list-unsigned", "vendor.list", vendorLine(""), "fail"],
    [
      "list-allow-insecure",
      "vendor.list",
      vendorLine("[signed-by=/etc/apt/keyrings/v.gpg allow-insecure=yes] "),
      "fail",
    ],
    ["list-signed", "vendor.list", vendorLine("[signed-by=/etc/apt/keyrings/v.gpg] "), "pass"],
    ["list-disabled-extension", "vendor.list.disabled", vendorLine("[trusted=yes] "), "pass"],
    ["list-save-extension", "vendor.list.save", vendorLine("[trusted=yes] "), "pass"],
    ["list-name-with-space", "vendor repo.list", vendorLine("[trusted=yes] "), "pass"],
    ["sources-trusted", "vendor.sources", vendorStanza("Trusted: yes\n"), "fail"],
    [
      "sources-trusted-enabled-no",
      "vendor.sources",
      vendorStanza("Trusted: yes\nEnabled: no\n"),
      "pass",
    ],
    [
      "sources-signed-allow-weak",
      "vendor.sources",
      vendorStanza("Signed-By: /etc/apt/keyrings/v.gpg\nAllow-Weak: yes\n"),
      "fail",
    ],
  ] as const)
    add({
      id: `apt-${id}`,
      description: `/etc/apt/sources.list.d/${path}: ${text.trim().replace(/\n/g, "; ")}`,
      expect: { "APP-03": verdict },
      apply: (r) => put(r, `/etc/apt/sources.list.d/${path}`, text),
      liveProbe: [aptProbe],
    });
  add({
    id: "apt-conf-allow-insecure-repositories",
    description: 'apt.conf.d: Acquire::AllowInsecureRepositories "true" (every source)',
    expect: { "APP-03": "fail" },
    apply: (r) =>
      put(r, "/etc/apt/apt.conf.d/99insecure", 'Acquire::AllowInsecureRepositories "true";\n'),
    liveProbe: [aptProbe],
  });

  // desktop applications as GNOME resolves them (APP-02). An unpackaged application is a
  // launcher plus its program (/opt/<name>/<name>): GLib lists an entry only when it finds
  // the program of Exec= (and TryExec=), so a launcher alone shows nothing.
  const programOf = (name: string) => `/opt/${name.toLowerCase()}/${name.toLowerCase()}`;
  const entry = (name: string, extra = "") =>
    `[Desktop Entry]\nType=Application\nName=${name}\nExec=${programOf(name)} %U\n${extra}`;
  const program = async (r: string, name: string) => {
    await put(r, programOf(name), "#!/bin/sh\nexit 0\n");
    await chmod(at(r, programOf(name)), 0o755);
  };
  for (const [name, path, app, text, verdict] of [
    ["unowned-usr-share", "/usr/share/applications/xterm.desktop", "XTerm", "", "fail"],
    ["unowned-local", "/usr/local/share/applications/anydesk.desktop", "AnyDesk", "", "fail"],
    ["gnome-dir", "/usr/share/gnome/applications/vnc.desktop", "VNC", "", "fail"],
    // flatpak is not installed: its profile.d hook never puts the exports into XDG_DATA_DIRS
    [
      "flatpak-not-installed",
      "/var/lib/flatpak/exports/share/applications/com.anydesk.Anydesk.desktop",
      "AnyDesk",
      "",
      "pass",
    ],
    ["nodisplay", "/usr/share/applications/helper.desktop", "Helper", "NoDisplay=true\n", "pass"],
    ["hidden", "/usr/share/applications/old.desktop", "Old", "Hidden=true\n", "pass"],
    [
      "shadow-allowed-visible",
      "/usr/local/share/applications/firefox-esr.desktop",
      "Firefox",
      "",
      "fail",
    ],
    [
      "shadow-allowed-hidden",
      "/usr/local/share/applications/firefox-esr.desktop",
      "Firefox",
      "Hidden=true\n",
      "pass",
    ],
    [
      "only-show-in-kde",
      "/usr/share/applications/krdc.desktop",
      "KRDC",
      "OnlyShowIn=KDE;\n",
      "pass",
    ],
    [
      "only-show-in-gnome",
      "/usr/share/applications/rdp.desktop",
      "RDP",
      "OnlyShowIn=GNOME;\n",
      "fail",
    ],
    [
      "not-show-in-gnome",
      "/usr/share/applications/vnc.desktop",
      "VNC",
      "NotShowIn=GNOME;\n",
      "pass",
    ],
    [
      "try-exec-missing",
      "/usr/share/applications/tv.desktop",
      "TV",
      "TryExec=teamviewer\n",
      "pass",
    ],
    ["try-exec-found", "/usr/share/applications/tv.desktop", "TV", "TryExec=/opt/tv/tv\n", "fail"],
  ] as const)
    add({
      id: `desktop-${name}`,
      description: `${path} (${app}${text === "" ? "" : `, ${text.trim()}`}) and its program ${programOf(app)}`,
      expect: { "APP-02": verdict },
      apply: async (r) => {
        await put(r, path, entry(app, text));
        await program(r, app);
      },
      liveProbe: [desktopProbe],
      inPlace: { paths: [path, programOf(app)] },
    });
  for (const [name, path, verdict] of [
    ["not-desktop", "/usr/share/applications/readme.txt", "pass"],
    // the launcher of a program that is not (or no longer) installed: GNOME does not list it
    ["program-missing", "/usr/local/share/applications/anydesk.desktop", "pass"],
  ] as const)
    add({
      id: `desktop-${name}`,
      description: `${path} without a program`,
      expect: { "APP-02": verdict },
      apply: (r) => put(r, path, path.endsWith(".txt") ? "hello\n" : entry("AnyDesk")),
      liveProbe: [desktopProbe],
      inPlace: { paths: [path] },
    });
  add({
    id: "desktop-hidden-override",
    description:
      "an unapproved /usr/share entry hidden by a Hidden=true override in /usr/local/share/applications",
    expect: { "APP-02": "pass" },
    apply: async (r) => {
      await put(r, "/usr/share/applications/vim.desktop", entry("Vim"));
      await put(r, "/usr/local/share/applications/vim.desktop", entry("Vim", "Hidden=true\n"));
      await program(r, "Vim");
    },
    liveProbe: [desktopProbe],
    inPlace: {
      paths: [
        "/usr/share/applications/vim.desktop",
        "/usr/local/share/applications/vim.desktop",
        programOf("Vim"),
      ],
    },
  });
  add({
    id: "desktop-override-lower",
    description:
      "the Hidden=true override sits in /var/lib/flatpak, not in XDG_DATA_DIRS without flatpak: it hides nothing",
    expect: { "APP-02": "fail" },
    apply: async (r) => {
      await put(r, "/usr/share/applications/vim.desktop", entry("Vim"));
      await put(
        r,
        "/var/lib/flatpak/exports/share/applications/vim.desktop",
        entry("Vim", "Hidden=true\n"),
      );
      await program(r, "Vim");
    },
    liveProbe: [desktopProbe],
    inPlace: {
      paths: [
        "/usr/share/applications/vim.desktop",
        "/var/lib/flatpak/exports/share/applications/vim.desktop",
        programOf("Vim"),
      ],
    },
  });

  // ─── more of the effective state, each applied to the running laptop in place ───

  // sysctl: masks, same-name shadowing, one file's last line, numbers as the kernel reads them.
  for (const [id, description, expect, files] of [
    [
      "mask-koffer",
      "/etc/sysctl.d/90-koffer.conf linked to /dev/null: koffer's own file masked, the kernel defaults stay (sysrq 438)",
      { "BOOT-04": "fail", "DATA-03": "pass" },
      [["/etc/sysctl.d/90-koffer.conf", null]],
    ],
    [
      "usr-local-same-name",
      "/usr/local/lib/sysctl.d/90-koffer.conf sets kernel.sysrq = 1: hidden by /etc's file of that name",
      { "BOOT-04": "pass" },
      [["/usr/local/lib/sysctl.d/90-koffer.conf", "kernel.sysrq = 1\n"]],
    ],
    [
      "last-line-wins",
      "/etc/sysctl.d/99-z.conf sets kernel.sysrq = 1, then 0 on a later line",
      { "BOOT-04": "pass" },
      [["/etc/sysctl.d/99-z.conf", "kernel.sysrq = 1\nkernel.sysrq = 0\n"]],
    ],
    [
      "last-line-wins-on",
      "/etc/sysctl.d/99-z.conf sets kernel.sysrq = 0, then 1 on a later line",
      { "BOOT-04": "fail" },
      [["/etc/sysctl.d/99-z.conf", "kernel.sysrq = 0\nkernel.sysrq = 1\n"]],
    ],
    [
      "hex-one",
      "/etc/sysctl.d/95-x.conf: kernel.sysrq = 0x1 (the kernel reads hex)",
      { "BOOT-04": "fail" },
      [["/etc/sysctl.d/95-x.conf", "kernel.sysrq = 0x1\n"]],
    ],
    [
      "double-zero",
      "/etc/sysctl.d/95-x.conf: kernel.sysrq = 00 (zero all the same)",
      { "BOOT-04": "pass" },
      [["/etc/sysctl.d/95-x.conf", "kernel.sysrq = 00\n"]],
    ],
    [
      "letters-after-digits",
      "/etc/sysctl.d/local.conf sets kernel.sysrq = 1: names sort by strcmp, letters after 90-koffer.conf",
      { "BOOT-04": "fail" },
      [["/etc/sysctl.d/local.conf", "kernel.sysrq = 1\n"]],
    ],
    [
      "99-sysctl-regular-file",
      "/etc/sysctl.d/99-sysctl.conf is a file of its own (not the link) setting kernel.sysrq = 1",
      { "BOOT-04": "fail" },
      [["/etc/sysctl.d/99-sysctl.conf", "kernel.sysrq = 1\n"]],
    ],
    [
      "sysctl-conf-link-overrides",
      "95-x.conf sets kernel.sysrq = 1, /etc/sysctl.conf sets 0 and Debian's 99-sysctl.conf link reads it last",
      { "BOOT-04": "pass" },
      [
        ["/etc/sysctl.d/95-x.conf", "kernel.sysrq = 1\n"],
        ["/etc/sysctl.conf", "kernel.sysrq = 0\n"],
        ["/etc/sysctl.d/99-sysctl.conf", "->../sysctl.conf"],
      ],
    ],
    [
      "dpkg-dist",
      "/etc/sysctl.d/99-x.conf.dpkg-dist sets kernel.sysrq = 1: not a .conf name",
      { "BOOT-04": "pass" },
      [["/etc/sysctl.d/99-x.conf.dpkg-dist", "kernel.sysrq = 1\n"]],
    ],
    [
      "vendor-coredump",
      "systemd-coredump's /usr/lib/sysctl.d/50-coredump.conf sets fs.suid_dumpable = 2, read before 90-koffer.conf",
      { "DATA-03": "pass" },
      [["/usr/lib/sysctl.d/50-coredump.conf", "fs.suid_dumpable = 2\n"]],
    ],
    [
      "vendor-coredump-wins",
      "90-koffer.conf no longer sets fs.suid_dumpable and systemd-coredump's 50-coredump.conf sets 2",
      { "DATA-03": "fail", "BOOT-04": "pass" },
      [
        ["/usr/lib/sysctl.d/50-coredump.conf", "fs.suid_dumpable = 2\n"],
        ["/etc/sysctl.d/90-koffer.conf", "kernel.sysrq = 0\n"],
      ],
    ],
  ] as const)
    add({
      id: `sysctl-${id}`,
      description,
      expect,
      apply: async (r) => {
        for (const [path, text] of files)
          // rm first: a write through Debian's 99-sysctl.conf link would change sysctl.conf
          if (text === null) await link(r, path, "/dev/null");
          else if (text.startsWith("->")) await link(r, path, text.slice(2));
          else {
            await rm(at(r, path), { force: true });
            await put(r, path, text);
          }
      },
      liveProbe: [sysrqProbe, dumpableProbe].filter((p) => p.control in expect),
      inPlace: { paths: files.map(([path]) => path) },
    });

  // sudo (ACC-01): who may run commands as root is what sudo makes of sudoers — includes, the
  // names @includedir skips, aliases, groups (primary ones too), and the rule for %sudo.
  const dropIn = "/etc/sudoers.d/50-buero";
  for (const [id, description, path, text, verdict] of [
    [
      "user-all",
      "the citizen-office account may run everything",
      dropIn,
      "buergerbuero ALL=(ALL:ALL) ALL\n",
      "fail",
    ],
    [
      "user-nopasswd-apt",
      "the citizen-office account may run apt without a password",
      dropIn,
      "buergerbuero ALL=(root) NOPASSWD: /usr/bin/apt\n",
      "fail",
    ],
    [
      "user-alias",
      "a User_Alias holding the citizen-office account",
      dropIn,
      "User_Alias OFFICE = buergerbuero\nOFFICE ALL=(ALL) ALL\n",
      "fail",
    ],
    [
      "primary-group",
      "a rule for the citizen-office account's own group",
      dropIn,
      "%buergerbuero ALL=(ALL) ALL\n",
      "fail",
    ],
    ["all-users", "a rule for ALL users", dropIn, "ALL ALL=(ALL) ALL\n", "fail"],
    [
      "name-with-dot",
      "the rule sits in 50-buero.conf: @includedir skips names with a dot",
      "/etc/sudoers.d/50-buero.conf",
      "buergerbuero ALL=(ALL:ALL) ALL\n",
      "pass",
    ],
    [
      "name-with-tilde",
      "the rule sits in an editor backup 50-buero~: @includedir skips it",
      "/etc/sudoers.d/50-buero~",
      "buergerbuero ALL=(ALL:ALL) ALL\n",
      "pass",
    ],
    [
      "commented",
      "the rule is commented out",
      dropIn,
      "# buergerbuero ALL=(ALL:ALL) ALL\n",
      "pass",
    ],
    [
      "defaults-only",
      "a Defaults line for the account grants nothing",
      dropIn,
      "Defaults:buergerbuero !lecture\n",
      "pass",
    ],
  ] as const)
    add({
      id: `sudo-${id}`,
      description: `${path}: ${description}`,
      expect: { "ACC-01": verdict },
      apply: async (r) => {
        await put(r, path, text);
        await chmod(at(r, path), 0o440);
      },
      liveProbe: [adminProbe],
      inPlace: { paths: [path] },
    });
  add({
    id: "sudo-include-file",
    description:
      "/etc/sudoers includes /etc/sudoers.local, which lets the citizen-office account run everything",
    expect: { "ACC-01": "fail" },
    apply: async (r) => {
      await append(r, "/etc/sudoers", "@include /etc/sudoers.local\n");
      await put(r, "/etc/sudoers.local", "buergerbuero ALL=(ALL:ALL) ALL\n");
      await chmod(at(r, "/etc/sudoers.local"), 0o440);
    },
    liveProbe: [adminProbe],
    inPlace: { paths: ["/etc/sudoers", "/etc/sudoers.local"] },
  });
  add({
    id: "sudo-group-member",
    description: "the citizen-office account added to group sudo",
    expect: { "ACC-01": "fail" },
    apply: (r) =>
      edit(r, "/etc/group", (t) =>
        t.replace(/^sudo:x:27:kisa-admin$/m, "sudo:x:27:kisa-admin,buergerbuero"),
      ),
    liveProbe: [adminProbe],
    inPlace: { paths: ["/etc/group"] },
  });
  add({
    id: "sudo-rule-commented",
    description:
      "the %sudo rule in /etc/sudoers commented out: the admin in group sudo may run nothing",
    expect: { "ACC-01": "fail" },
    apply: (r) =>
      edit(r, "/etc/sudoers", (t) =>
        t.replace("%sudo\tALL=(ALL:ALL) ALL", "#%sudo\tALL=(ALL:ALL) ALL"),
      ),
    liveProbe: [adminProbe],
    inPlace: { paths: ["/etc/sudoers"] },
  });
  add({
    id: "sudo-admin-by-name",
    description:
      "the admin left group sudo but has a rule of their own: still the profile's admin, nobody else",
    expect: { "ACC-01": "pass" },
    apply: async (r) => {
      await edit(r, "/etc/group", (t) => t.replace(/^sudo:x:27:kisa-admin$/m, "sudo:x:27:"));
      await put(r, dropIn, "kisa-admin ALL=(ALL:ALL) ALL\n");
      await chmod(at(r, dropIn), 0o440);
    },
    liveProbe: [adminProbe],
    inPlace: { paths: ["/etc/group", dropIn] },
  });
  add({
    id: "uid0-second-root",
    description: "a second account with UID 0 (toor), password locked",
    expect: { "ACC-01": "fail" },
    apply: async (r) => {
      await append(r, "/etc/passwd", "toor:x:0:0:root:/root:/bin/bash\n");
      await append(r, "/etc/shadow", "toor:!:19700:0:99999:7:::\n");
    },
    liveProbe: [adminProbe],
    inPlace: { paths: ["/etc/passwd", "/etc/shadow"] },
  });

  // getty autologin (ACC-02): what systemd loads for the console gettys — drop-ins of the
  // instance and of the template, in /etc and in the vendor directories, and a drop-in that
  // adds a second ExecStart= without clearing the first (systemd refuses to load the unit).
  const autologinExec = (opt: string) =>
    `[Service]\nExecStart=\nExecStart=-/sbin/agetty ${opt} --noclear %I $TERM\n`;
  for (const [id, path, text, verdict] of [
    [
      "instance",
      "/etc/systemd/system/getty@tty1.service.d/autologin.conf",
      autologinExec("--autologin buergerbuero"),
      "fail",
    ],
    [
      "template",
      "/etc/systemd/system/getty@.service.d/autologin.conf",
      autologinExec("--autologin buergerbuero"),
      "fail",
    ],
    [
      "short-option",
      "/etc/systemd/system/getty@tty1.service.d/autologin.conf",
      autologinExec("-a buergerbuero"),
      "fail",
    ],
    [
      "vendor-dir",
      "/usr/lib/systemd/system/getty@tty1.service.d/autologin.conf",
      autologinExec("--autologin buergerbuero"),
      "fail",
    ],
    [
      "usr-local-dir",
      "/usr/local/lib/systemd/system/getty@.service.d/autologin.conf",
      autologinExec("--autologin buergerbuero"),
      "fail",
    ],
    [
      "no-reset",
      "/etc/systemd/system/getty@tty1.service.d/autologin.conf",
      "[Service]\nExecStart=-/sbin/agetty --autologin buergerbuero --noclear %I $TERM\n",
      "pass",
    ],
    [
      "not-conf",
      "/etc/systemd/system/getty@tty1.service.d/autologin.conf.off",
      autologinExec("--autologin buergerbuero"),
      "pass",
    ],
    [
      "unit-section",
      "/etc/systemd/system/getty@tty1.service.d/autologin.conf",
      "[Unit]\nExecStart=\nExecStart=-/sbin/agetty --autologin buergerbuero --noclear %I $TERM\n",
      "pass",
    ],
  ] as const)
    add({
      id: `getty-autologin-${id}`,
      description: `${path}: ${text.trim().replace(/\n/g, "; ")}`,
      expect: { "ACC-02": verdict },
      apply: (r) => put(r, path, text),
      liveProbe: [gettyProbe],
      inPlace: { paths: [path], reload: true },
    });
  add({
    id: "getty-autologin-masked-by-etc",
    description:
      "the vendor drop-in with autologin is masked by /etc's drop-in of the same name (a link to /dev/null)",
    expect: { "ACC-02": "pass" },
    apply: async (r) => {
      await put(
        r,
        "/usr/lib/systemd/system/getty@.service.d/autologin.conf",
        autologinExec("--autologin buergerbuero"),
      );
      await link(r, "/etc/systemd/system/getty@.service.d/autologin.conf", "/dev/null");
    },
    liveProbe: [gettyProbe],
    inPlace: {
      paths: [
        "/usr/lib/systemd/system/getty@.service.d/autologin.conf",
        "/etc/systemd/system/getty@.service.d/autologin.conf",
      ],
      reload: true,
    },
  });
  add({
    id: "getty-autologin-unit-copy",
    description: "a full copy of getty@.service in /etc/systemd/system with --autologin",
    expect: { "ACC-02": "fail" },
    apply: (r) =>
      put(
        r,
        "/etc/systemd/system/getty@.service",
        "[Unit]\nDescription=Getty on %I\n\n[Service]\nExecStart=-/sbin/agetty --autologin buergerbuero --noclear %I $TERM\nType=idle\nRestart=always\n\n[Install]\nWantedBy=getty.target\n",
      ),
    liveProbe: [gettyProbe],
    inPlace: { paths: ["/etc/systemd/system/getty@.service"], reload: true },
  });

  // units: what systemd starts at boot (TIME-01's timesyncd, NET-01's nftables). Debian's
  // units are wanted by sysinit.target; the fixture links them from multi-user.target.
  for (const [unit, control] of [
    ["systemd-timesyncd.service", "TIME-01"],
    ["nftables.service", "NET-01"],
  ] as const) {
    const wants = ["sysinit", "multi-user"].map(
      (t) => `/etc/systemd/system/${t}.target.wants/${unit}`,
    );
    const disable = async (r: string) => {
      for (const w of wants) await rm(at(r, w), { force: true });
    };
    add({
      id: `unit-${unit}-disabled`,
      description: `${unit} disabled: its .wants links removed`,
      expect: { [control]: "fail" },
      apply: disable,
      liveProbe: [unitProbe(control, unit)],
      inPlace: { paths: wants, reload: true },
    });
    add({
      id: `unit-${unit}-masked-in-place`,
      description: `${unit} masked in /etc/systemd/system (read at the next daemon-reload or boot)`,
      expect: { [control]: "fail" },
      apply: (r) => link(r, `/etc/systemd/system/${unit}`, "/dev/null"),
      liveProbe: [unitProbe(control, unit)],
      inPlace: { paths: [`/etc/systemd/system/${unit}`], reload: true },
    });
    const other = `/etc/systemd/system/graphical.target.wants/${unit}`;
    add({
      id: `unit-${unit}-other-target`,
      description: `${unit} wanted by graphical.target instead of its [Install] target`,
      expect: { [control]: "pass" },
      apply: async (r) => {
        await disable(r);
        await link(r, other, `/lib/systemd/system/${unit}`);
      },
      liveProbe: [unitProbe(control, unit)],
      inPlace: { paths: [...wants, other], reload: true },
    });
  }

  // timesyncd (TIME-01): NTP= is a list — every assignment adds servers, an empty one clears
  // them — read from timesyncd.conf, then the drop-ins by name; the running daemon tells.
  const ntpDir = "/etc/systemd/timesyncd.conf.d";
  for (const [id, path, text, verdict] of [
    [
      "earlier-drop-in-adds",
      `${ntpDir}/50-pool.conf`,
      "[Time]\nNTP=0.debian.pool.ntp.org\n",
      "fail",
    ],
    ["later-drop-in-adds", `${ntpDir}/zz-pool.conf`, "[Time]\nNTP=0.debian.pool.ntp.org\n", "fail"],
    [
      "main-file-adds",
      "/etc/systemd/timesyncd.conf",
      "[Time]\nNTP=0.debian.pool.ntp.org\n",
      "fail",
    ],
    ["later-reset", `${ntpDir}/zz-reset.conf`, "[Time]\nNTP=\n", "fail"],
    ["earlier-reset", `${ntpDir}/00-reset.conf`, "[Time]\nNTP=\n", "pass"],
    ["reset-then-approved", `${ntpDir}/zz-only.conf`, "[Time]\nNTP=\nNTP=10.20.0.1\n", "pass"],
    [
      "fallback-only",
      `${ntpDir}/zz-fallback.conf`,
      "[Time]\nFallbackNTPServers=0.debian.pool.ntp.org\n",
      "pass",
    ],
    ["not-conf", `${ntpDir}/zz-pool.conf.bak`, "[Time]\nNTP=0.debian.pool.ntp.org\n", "pass"],
    [
      "same-name-lower",
      "/usr/lib/systemd/timesyncd.conf.d/koffer.conf",
      "[Time]\nNTP=0.debian.pool.ntp.org\n",
      "pass",
    ],
    ["lowercase-section", `${ntpDir}/zz-pool.conf`, "[time]\nNTP=0.debian.pool.ntp.org\n", "pass"],
  ] as const)
    add({
      id: `timesyncd-${id}`,
      description: `${path}: ${text.trim().replace(/\n/g, "; ")}`,
      expect: { "TIME-01": verdict },
      apply: (r) => put(r, path, text),
      liveProbe: [timesyncProbe],
      inPlace: { paths: [path] },
    });

  // journald (LOG-02): Storage= as journald merges journald.conf and its drop-ins.
  const journalDir = "/etc/systemd/journald.conf.d";
  for (const [id, path, text, verdict] of [
    ["later-volatile", `${journalDir}/zz-volatile.conf`, "[Journal]\nStorage=volatile\n", "fail"],
    ["later-none", `${journalDir}/zz-none.conf`, "[Journal]\nStorage=none\n", "fail"],
    ["earlier-volatile", `${journalDir}/00-volatile.conf`, "[Journal]\nStorage=volatile\n", "pass"],
    ["main-volatile", "/etc/systemd/journald.conf", "[Journal]\nStorage=volatile\n", "pass"],
    ["later-spaces", `${journalDir}/zz-volatile.conf`, "[Journal]\nStorage = volatile\n", "fail"],
    [
      "not-conf",
      `${journalDir}/zz-volatile.conf.disabled`,
      "[Journal]\nStorage=volatile\n",
      "pass",
    ],
    ["other-section", `${journalDir}/zz-volatile.conf`, "[Coredump]\nStorage=volatile\n", "pass"],
    [
      "same-name-lower",
      "/usr/lib/systemd/journald.conf.d/koffer.conf",
      "[Journal]\nStorage=volatile\n",
      "pass",
    ],
  ] as const)
    add({
      id: `journald-${id}`,
      description: `${path}: ${text.trim().replace(/\n/g, "; ")}`,
      expect: { "LOG-02": verdict },
      apply: (r) => put(r, path, text),
      liveProbe: [journalProbe],
      inPlace: { paths: [path], restart: "systemd-journald.service" },
    });

  // dconf (ACC-03): what GNOME reads after `dconf update` — keyfile order, the profile's
  // database order, and locks that make a lower database win.
  const local = "/etc/dconf/db/local.d";
  const compiled = ["/etc/dconf/db/local", "/etc/dconf/db/site"];
  for (const [id, description, files, verdict] of [
    [
      "later-keyfile",
      "local.d/50-local sets idle-delay 3600",
      [[`${local}/50-local`, "[org/gnome/desktop/session]\nidle-delay=uint32 3600\n"]],
      "fail",
    ],
    [
      "earlier-keyfile",
      "local.d/0-early sets idle-delay 3600 (00-koffer comes later)",
      [[`${local}/0-early`, "[org/gnome/desktop/session]\nidle-delay=uint32 3600\n"]],
      "pass",
    ],
    [
      "lock-delay",
      "local.d/50-local sets lock-delay 60",
      [[`${local}/50-local`, "[org/gnome/desktop/screensaver]\nlock-delay=uint32 60\n"]],
      "fail",
    ],
    [
      "lock-disabled",
      "local.d/50-local sets lock-enabled false",
      [[`${local}/50-local`, "[org/gnome/desktop/screensaver]\nlock-enabled=false\n"]],
      "fail",
    ],
    [
      "unlocked",
      "the locks file lists only the media keys",
      [[`${local}/locks/koffer`, "/org/gnome/desktop/media-handling/automount\n"]],
      "fail",
    ],
    [
      "other-key",
      "local.d/50-local sets an unrelated key (the clock format)",
      [[`${local}/50-local`, "[org/gnome/desktop/interface]\nclock-format='24h'\n"]],
      "pass",
    ],
    [
      "site-db-first",
      "the profile names a site database first that sets idle-delay 3600 unlocked: local's lock keeps 300",
      [
        ["/etc/dconf/profile/user", "user-db:user\nsystem-db:site\nsystem-db:local\n"],
        ["/etc/dconf/db/site.d/00-site", "[org/gnome/desktop/session]\nidle-delay=uint32 3600\n"],
      ],
      "pass",
    ],
    [
      "site-db-first-locked",
      "the profile names a site database first that sets and locks idle-delay 3600: local's lock, the lower one, decides",
      [
        ["/etc/dconf/profile/user", "user-db:user\nsystem-db:site\nsystem-db:local\n"],
        ["/etc/dconf/db/site.d/00-site", "[org/gnome/desktop/session]\nidle-delay=uint32 3600\n"],
        ["/etc/dconf/db/site.d/locks/site", "/org/gnome/desktop/session/idle-delay\n"],
      ],
      "pass",
    ],
    [
      "site-db-last-locked",
      "the profile names a site database after local that sets and locks idle-delay 3600: the lowest lock decides",
      [
        ["/etc/dconf/profile/user", "user-db:user\nsystem-db:local\nsystem-db:site\n"],
        ["/etc/dconf/db/site.d/00-site", "[org/gnome/desktop/session]\nidle-delay=uint32 3600\n"],
        ["/etc/dconf/db/site.d/locks/site", "/org/gnome/desktop/session/idle-delay\n"],
      ],
      "fail",
    ],
    [
      "site-db-last-unlocked",
      "the profile names a site database after local that sets idle-delay 3600 without a lock",
      [
        ["/etc/dconf/profile/user", "user-db:user\nsystem-db:local\nsystem-db:site\n"],
        ["/etc/dconf/db/site.d/00-site", "[org/gnome/desktop/session]\nidle-delay=uint32 3600\n"],
      ],
      "pass",
    ],
    [
      "no-system-db",
      "the profile names the user database only",
      [["/etc/dconf/profile/user", "user-db:user\n"]],
      "fail",
    ],
  ] as const)
    add({
      id: `dconf-${id}`,
      description: `${description}; dconf update run`,
      expect: { "ACC-03": verdict },
      apply: async (r) => {
        for (const [path, text] of files) await put(r, path, text);
        await dconfUpdate(r);
      },
      liveProbe: [screenLockProbe],
      inPlace: { paths: [...files.map(([path]) => path), ...compiled] },
    });
  return out;
}
