/**
 * The gatherers over a small hand-made root: files a plain Debian root does not have
 * (desktop entries owned by packages, autologin, sshd drop-ins, policies, capture files).
 */
import { chmod, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gatherAccounts } from "../../src/facts/accounts.js";
import { gatherApps } from "../../src/facts/apps.js";
import { gatherData, scanCaptureFiles } from "../../src/facts/data.js";
import { gatherLogging } from "../../src/facts/logging.js";
import { gatherNetwork, parseSsListeners } from "../../src/facts/network.js";
import type { GatherContext } from "../../src/facts/types.js";
import { gatherUpdates } from "../../src/facts/updates.js";
import { RootTarget } from "../../src/targets/root.js";
import type { Target } from "../../src/targets/types.js";

const ctx: GatherContext = { profile: null, now: new Date("2025-06-01T00:00:00Z") };

const files: Record<string, string> = {
  "/var/lib/dpkg/status":
    "Package: firefox-esr\nStatus: install ok installed\nVersion: 128.11.0esr-1~deb12u1\n\nPackage: gimp\nStatus: deinstall ok config-files\nVersion: 2.10\n",
  "/var/lib/dpkg/info/firefox-esr.list": "/.\n/usr\n/usr/share/applications/firefox-esr.desktop\n",
  "/usr/share/applications/firefox-esr.desktop":
    "[Desktop Entry]\nName=Firefox ESR\nExec=/usr/lib/firefox-esr/firefox-esr %u\nType=Application\n",
  "/usr/local/share/applications/anydesk.desktop":
    "[Desktop Entry]\nName=AnyDesk\nExec=anydesk\nHidden=true\n",
  "/etc/apt/sources.list.d/vendor.list":
    "deb [trusted=yes] http://vendor.example/apt stable main\n",
  "/usr/lib/firefox-esr/distribution/policies.json":
    '{"policies":{"PasswordManagerEnabled":false,"SanitizeOnShutdown":true}}',
  "/etc/chromium/policies/managed/broken.json": "{not json",
  "/etc/passwd":
    "root:x:0:0:root:/root:/bin/bash\ntoor:x:0:0::/root:/bin/sh\nkoffer:x:1000:1000::/home/koffer:/bin/bash\n",
  "/etc/shadow": "root:$y$j9T$salt$hash:1::::::\nkoffer:!:1::::::\n",
  "/etc/group": "sudo:x:27:koffer\n",
  "/etc/sudoers": "@includedir /etc/sudoers.d\n",
  "/etc/sudoers.d/koffer": "koffer ALL=(ALL) NOPASSWD: ALL\n",
  "/etc/gdm3/daemon.conf": "[daemon]\nAutomaticLoginEnable = true\nAutomaticLogin = koffer\n",
  "/etc/systemd/system/getty@tty1.service.d/autologin.conf":
    "[Service]\nExecStart=\nExecStart=-/sbin/agetty --autologin koffer --noclear %I $TERM\n",
  "/etc/security/pwquality.conf": "minlen = 12\n",
  "/etc/security/pwquality.conf.d/10-x.conf": "minlen = 8\ndictcheck = 1\n",
  "/etc/pam.d/common-auth":
    "auth [success=1 default=ignore] pam_unix.so nullok\nauth requisite pam_deny.so\n-auth optional pam_faillock.so\n@include common-extra\n",
  "/etc/ssh/sshd_config": "Include /etc/ssh/sshd_config.d/*.conf\nPasswordAuthentication yes\n",
  "/etc/ssh/sshd_config.d/50-koffer.conf": "PasswordAuthentication no\nPermitRootLogin no\n",
  "/etc/nftables.conf":
    "table inet filter {\n chain input { type filter hook input priority 0; policy drop; iif lo accept }\n}\n",
  "/etc/NetworkManager/system-connections/lte.nmconnection":
    "[connection]\nid=LTE\ntype=gsm\n[gsm]\napn=kommune.apn\n",
  "/etc/resolv.conf": "nameserver 10.0.0.53\n",
  "/etc/os-release": 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n',
  "/etc/apt/apt.conf.d/20auto-upgrades":
    'APT::Periodic::Update-Package-Lists "1";\nAPT::Periodic::Unattended-Upgrade "1";\n',
  "/etc/apt/apt.conf.d/50unattended-upgrades":
    'Unattended-Upgrade::Origins-Pattern {\n "origin=Debian,codename=${distro_codename},label=Debian-Security";\n};\n',
  "/etc/audit/rules.d/koffer.rules": "-w /etc/sudoers -p wa -k scope\n",
  "/etc/systemd/journald.conf": "[Journal]\nStorage=persistent\nSystemMaxUse=500M\n",
  "/etc/chrony/chrony.conf": "server ntp.kommune.example iburst nts\n",
  "/etc/rsyslog.d/fwd.conf": "*.* @@logs.kommune.example:514\n",
  "/etc/systemd/coredump.conf": "[Coredump]\nStorage=none\nProcessSizeMax=0\n",
  "/etc/security/limits.d/core.conf": "* hard core 0\n",
  "/etc/sysctl.d/60-koffer.conf": "kernel.sysrq = 0\nfs.suid_dumpable = 0\n",
  "/etc/cups/cupsd.conf":
    "Listen localhost:631\nBrowsing No\nPreserveJobFiles No\nPreserveJobHistory No\n",
  "/home/koffer/Scans/antrag.pdf": "%PDF-1.4 applicant data",
  "/home/koffer/Bilder/FOTO.JPG": "jpeg",
  "/home/koffer/notes.txt": "not a capture file",
  "/var/tmp/fp_0001.wsq": "wsq",
  "/home/koffer/.cache/thumb.png": "cache, skipped",
};

describe("gatherers on a hand-made root", () => {
  let root: string;
  let target: Target;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "koffer-gather-"));
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(root, path)), { recursive: true });
      await writeFile(join(root, path), text);
    }
    await mkdir(join(root, "var/log/journal"), { recursive: true });
    await chmod(join(root, "var/log/journal"), 0o2755);
    await utimes(
      join(root, "var/tmp/fp_0001.wsq"),
      new Date("2025-05-01T10:00:00Z"),
      new Date("2025-05-01T10:00:00Z"),
    );
    // The program firefox-esr.desktop starts: GLib lists an entry only when it finds it.
    await mkdir(join(root, "usr/lib/firefox-esr"), { recursive: true });
    await writeFile(join(root, "usr/lib/firefox-esr/firefox-esr"), "#!/bin/sh\n");
    await chmod(join(root, "usr/lib/firefox-esr/firefox-esr"), 0o755);
    // A symlink loop below /home must not be followed.
    await symlink("/home", join(root, "home/koffer/loop"));
    target = await RootTarget.open({ root, disks: [] });
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("apps: desktop entries with owners, untrusted source, policies (broken one flagged)", async () => {
    const apps = await gatherApps(target, ctx);
    expect(apps.packages.map((p) => `${p.status} ${p.name}`)).toEqual([
      "ii firefox-esr",
      "rc gimp",
    ]);
    expect(apps.desktopEntries).toEqual([
      {
        path: "/usr/local/share/applications/anydesk.desktop",
        name: "AnyDesk",
        exec: "anydesk",
        noDisplay: false,
        hidden: true,
        package: null,
      },
      {
        path: "/usr/share/applications/firefox-esr.desktop",
        name: "Firefox ESR",
        exec: "/usr/lib/firefox-esr/firefox-esr %u",
        noDisplay: false,
        hidden: false,
        package: "firefox-esr",
      },
    ]);
    expect(apps.aptSources).toMatchObject([
      { trusted: true, source: "/etc/apt/sources.list.d/vendor.list:1" },
    ]);
    expect(apps.browserPolicies).toEqual([
      {
        path: "/usr/lib/firefox-esr/distribution/policies.json",
        policies: { policies: { PasswordManagerEnabled: false, SanitizeOnShutdown: true } },
      },
      {
        path: "/etc/chromium/policies/managed/broken.json",
        policies: { parseError: expect.any(String) },
      },
    ]);
  });

  it("accounts: second uid 0, passwordless sudo, gdm and getty autologin, pwquality main file wins", async () => {
    const acc = await gatherAccounts(target, ctx);
    expect(acc.passwd.filter((p) => p.uid === 0).map((p) => p.name)).toEqual(["root", "toor"]);
    expect(acc.shadow).toEqual([
      { name: "root", locked: false, empty: false, scheme: "yescrypt" },
      { name: "koffer", locked: true, empty: false, scheme: null },
    ]);
    expect(acc.sudoRules).toEqual([
      { who: "koffer", spec: "ALL=(ALL) NOPASSWD: ALL", source: "/etc/sudoers.d/koffer:1" },
    ]);
    expect(acc.autologin).toEqual([
      { kind: "gdm3", user: "koffer", source: "/etc/gdm3/daemon.conf:2" },
      {
        kind: "getty",
        user: "koffer",
        source: "/etc/systemd/system/getty@tty1.service.d/autologin.conf:3",
      },
    ]);
    expect(acc.pwquality["minlen"]).toEqual({
      value: "12",
      source: "/etc/security/pwquality.conf:1",
    });
    expect(acc.pwquality["dictcheck"]?.value).toBe("1");
    expect(acc.pamModules["common-auth"]).toEqual([
      "pam_unix.so",
      "pam_deny.so",
      "pam_faillock.so",
      "@include common-extra",
    ]);
  });

  it("network: drop-in wins in sshd, nft policy drop, LTE connection", async () => {
    const net = await gatherNetwork(target, ctx);
    expect(net.sshd["passwordauthentication"]).toEqual({
      value: "no",
      source: "/etc/ssh/sshd_config.d/50-koffer.conf:1",
    });
    expect(net.sshd["permitrootlogin"]?.value).toBe("no");
    expect(net.nftables.chains).toEqual([
      {
        family: "inet",
        table: "filter",
        name: "input",
        hook: "input",
        policy: "drop",
        rules: ["iif lo accept"],
        sites: ["/etc/nftables.conf:2"],
      },
    ]);
    expect(net.networkManager).toMatchObject([
      { id: "LTE", type: "gsm", apn: "kommune.apn", autoconnect: true },
    ]);
    expect(net.resolvConf).toMatchObject({
      nameservers: ["10.0.0.53"],
      source: "/etc/resolv.conf",
    });
  });

  it("updates and logging", async () => {
    const upd = await gatherUpdates(target, ctx);
    expect(upd.aptConf["APT::Periodic::Unattended-Upgrade"]).toEqual({
      value: "1",
      source: "/etc/apt/apt.conf.d/20auto-upgrades:2",
    });
    expect(upd.unattendedUpgradesOrigins).toEqual([
      "origin=Debian,codename=${distro_codename},label=Debian-Security",
    ]);
    const log = await gatherLogging(target, ctx);
    expect(log.auditRules).toEqual([
      { rule: "-w /etc/sudoers -p wa -k scope", source: "/etc/audit/rules.d/koffer.rules:1" },
    ]);
    expect(log.journald["Storage"]?.value).toBe("persistent");
    expect(log.journalDir).toMatchObject({ path: "/var/log/journal", mode: 0o2755 });
    expect(log.chrony).toEqual({
      servers: ["ntp.kommune.example iburst nts"],
      source: "/etc/chrony/chrony.conf",
    });
    expect(log.rsyslogForwarding).toEqual([
      "/etc/rsyslog.d/fwd.conf:1: *.* @@logs.kommune.example:514",
    ]);
  });

  it("data: capture files by extension (case-insensitive), never their content; caches and loops skipped", async () => {
    const data = await gatherData(target, ctx);
    expect(data.captureFiles.map((f) => f.path)).toEqual([
      "/home/koffer/Bilder/FOTO.JPG",
      "/home/koffer/Scans/antrag.pdf",
      "/var/tmp/fp_0001.wsq",
    ]);
    expect(data.captureFiles[2]).toEqual({
      path: "/var/tmp/fp_0001.wsq",
      size: 3,
      mtime: "2025-05-01T10:00:00.000Z",
    });
    expect(JSON.stringify(data)).not.toContain("applicant data");
    expect(data.coredump["Storage"]?.value).toBe("none");
    expect(data.coreLimits).toEqual([
      { domain: "*", type: "hard", value: "0", source: "/etc/security/limits.d/core.conf:1" },
    ]);
    expect(data.sysctl["kernel.sysrq"]).toMatchObject({
      value: "0",
      source: "/etc/sysctl.d/60-koffer.conf:1",
    });
    expect(data.cupsd["PreserveJobHistory"]?.value).toBe("No");
    expect(data.cupsdListen).toEqual(["localhost:631"]);
    const bounded = await scanCaptureFiles(target, ["/home"], {
      maxDepth: 8,
      maxEntries: 1000,
      maxResults: 1,
    });
    expect(bounded).toMatchObject({ truncated: true });
    expect(bounded.files).toHaveLength(1);
  });

  it("parses ss listeners", () => {
    const out =
      'tcp   LISTEN 0      128          0.0.0.0:22        0.0.0.0:*    users:(("sshd",pid=612,fd=3))\nudp   UNCONN 0      0      [::1]:323   [::]:*\n';
    expect(parseSsListeners(out)).toEqual([
      { proto: "tcp", address: "0.0.0.0", port: 22, process: "sshd" },
      { proto: "udp", address: "::1", port: 323, process: null },
    ]);
  });
});
