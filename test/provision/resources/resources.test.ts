/**
 * Each resource against the hardened laptop (no change) and against weak variants (the change
 * that fixes it). Facts are literals, as for the checks; no machine is touched.
 */
import { describe, expect, it } from "vitest";
import type { Facts } from "../../../src/facts/types.js";
import { planProvision } from "../../../src/provision/plan.js";
import { withFaillock, withYescrypt } from "../../../src/provision/resources/password.js";
import { fstabWithMounts } from "../../../src/provision/resources/tmp.js";
import type { Change } from "../../../src/provision/types.js";
import { hardenedFacts, hardenedVolume, judgedAt, withPackages } from "../../helpers/facts.js";
import { makeProfile } from "../../helpers/profile.js";

const now = judgedAt;
const profile = makeProfile();

/** What an image without a reachable TPM gets for its TPM2+PIN enrolment at first boot. */
const firstBootChanges = [
  "write-file /usr/lib/koffer/tpm2-enrol",
  "write-file /etc/systemd/system/koffer-tpm2-enrol.service",
  "write-file /etc/koffer/tpm2-enrol.conf",
  "enable-unit koffer-tpm2-enrol.service",
];

function describeChanges(changes: Change[]): string[] {
  return changes.map((c) => {
    switch (c.kind) {
      case "write-file":
      case "remove-file":
        return `${c.kind} ${c.path}`;
      case "enable-unit":
      case "mask-unit":
      case "unmask-unit":
      case "disable-unit":
        return `${c.kind} ${c.unit}`;
      case "install-packages":
      case "purge-packages":
        return `${c.kind} ${c.packages.join(" ")}`;
      case "set-group-members":
        return `${c.kind} ${c.group}=${c.members.join(",")}`;
      case "lock-account":
        return `${c.kind} ${c.user}`;
      case "luks-convert-keyslot":
      case "luks-remove-keyslot":
        return `${c.kind} ${c.keyslot}`;
      default:
        return c.kind;
    }
  });
}

const cases: { name: string; facts: Facts; expected: string[]; controls?: string[] }[] = [
  {
    name: "usbguard: an unlisted allow rule",
    facts: hardenedFacts({
      usb: {
        rules: [
          ...hardenedFacts().usb.rules,
          {
            target: "allow",
            canonical: "allow id 0781:5567",
            ids: ["0781:5567"],
            withInterface: null,
            hasSerial: false,
            hasHash: false,
            source: "/etc/usbguard/rules.conf:6",
          },
        ],
      },
    }),
    expected: ["write-file /etc/usbguard/rules.conf"],
    controls: ["USB-01", "USB-02", "USB-03"],
  },
  {
    name: "usbguard: implicit allow, service disabled",
    facts: hardenedFacts({
      usb: {
        daemonConf: {
          ImplicitPolicyTarget: { value: "allow", source: "/etc/usbguard/usbguard-daemon.conf:3" },
        },
      },
      services: { unitFiles: { "usbguard.service": "disabled" } },
    }),
    expected: ["write-file /etc/usbguard/usbguard-daemon.conf", "enable-unit usbguard.service"],
  },
  {
    name: "usbguard: not installed",
    facts: withPackages(
      hardenedFacts({
        usb: { usbguardInstalled: false },
        services: { unitFiles: { "usbguard.service": "not-found" } },
      }),
      [],
      ["usbguard"],
    ),
    expected: [
      "install-packages usbguard",
      "write-file /etc/usbguard/rules.conf",
      "write-file /etc/usbguard/usbguard-daemon.conf",
      "enable-unit usbguard.service",
    ],
  },
  {
    name: "modprobe: usb_storage loadable",
    facts: hardenedFacts({ usb: { modprobeBlocked: [] } }),
    expected: ["write-file /etc/modprobe.d/koffer-usb-storage.conf"],
  },
  {
    name: "sysctl: SysRq on, IOMMU off",
    facts: hardenedFacts({
      data: {
        sysctl: { "kernel.sysrq": { value: "176", source: "/usr/lib/sysctl.d/50-default.conf:1" } },
      },
      boot: { kernelCmdline: { value: ["quiet", "iommu=pt"], source: "/etc/default/grub" } },
    }),
    expected: [
      "write-file /etc/sysctl.d/90-koffer.conf",
      "write-file /etc/default/grub.d/90-koffer.cfg",
    ],
  },
  {
    name: "sleep: hibernation allowed",
    facts: hardenedFacts({
      disk: {
        sleepConf: { AllowHibernation: { value: "yes", source: "/etc/systemd/sleep.conf:2" } },
      },
      services: { unitFiles: { "hibernate.target": "static" } },
    }),
    expected: ["write-file /etc/systemd/sleep.conf.d/90-koffer.conf", "mask-unit hibernate.target"],
  },
  {
    name: "nftables: no output policy (no kill switch)",
    facts: hardenedFacts({
      network: {
        nftables: {
          chains: hardenedFacts().network.nftables.chains.filter((c) => c.hook !== "output"),
        },
      },
    }),
    expected: ["write-file /etc/nftables.conf"],
    controls: ["NET-01", "VPN-06"],
  },
  {
    name: "strongswan: split tunnel, IKEv1 allowed, service off",
    facts: hardenedFacts({
      vpn: {
        swanctl: {
          connections: [
            {
              ...hardenedFacts().vpn.swanctl.connections[0]!,
              version: null,
              children: [
                {
                  ...hardenedFacts().vpn.swanctl.connections[0]!.children[0]!,
                  remoteTs: ["10.0.0.0/8"],
                },
              ],
            },
          ],
        },
      },
      services: { unitFiles: { "strongswan.service": "disabled" } },
    }),
    expected: ["write-file /etc/swanctl/conf.d/koffer.conf", "enable-unit strongswan.service"],
  },
  {
    name: "strongswan: certificate expiring within renewBeforeDays",
    facts: hardenedFacts({
      vpn: {
        certificates: [
          { ...hardenedFacts().vpn.certificates[0]!, notAfter: "2026-06-10T00:00:00.000Z" },
        ],
      },
    }),
    expected: ["vpn-certificate"],
  },
  {
    name: "accounts: a personal account outside the profile is locked and expired (ACC-01); one already switched off is left",
    facts: hardenedFacts({
      accounts: {
        passwd: [
          ...hardenedFacts().accounts.passwd,
          {
            name: "praktikant",
            uid: 1003,
            gid: 1003,
            home: "/home/praktikant",
            shell: "/bin/bash",
          },
          { name: "alt", uid: 1004, gid: 1004, home: "/home/alt", shell: "/bin/bash" },
          { name: "dienst", uid: 1005, gid: 1005, home: "/srv", shell: "/usr/sbin/nologin" },
        ],
        shadow: [
          ...hardenedFacts().accounts.shadow,
          { name: "praktikant", locked: true, empty: false, scheme: "yescrypt" },
          { name: "alt", locked: true, empty: false, scheme: "yescrypt", expireDay: 1 },
          { name: "dienst", locked: false, empty: false, scheme: "yescrypt" },
        ],
      },
    }),
    expected: ["lock-account praktikant"],
    controls: ["ACC-01"],
  },
  {
    name: "accounts: `Defaults !syslog` switches logging off, as ACC-05 judges it",
    facts: hardenedFacts({
      accounts: { sudoDefaults: [{ value: "Defaults !syslog", source: "/etc/sudoers:10" }] },
    }),
    expected: ["write-file /etc/sudoers.d/koffer"],
  },
  {
    name: "accounts: extra admin, root open, no sudo log, stray sudoers.d, autologin",
    facts: hardenedFacts({
      accounts: {
        groups: [
          { name: "sudo", gid: 27, members: ["kisa-admin", "mallory"] },
          { name: "wheel", gid: 10, members: ["mallory"] },
        ],
        shadow: [{ name: "root", locked: false, empty: false, scheme: "yescrypt" }],
        sudoDefaults: [{ value: "use_pty", source: "/etc/sudoers:10" }],
        sudoRules: [
          { who: "%sudo", spec: "ALL=(ALL:ALL) ALL", source: "/etc/sudoers:23" },
          { who: "mallory", spec: "ALL=(ALL) NOPASSWD: ALL", source: "/etc/sudoers.d/mallory:1" },
        ],
        autologin: [
          {
            kind: "getty",
            user: "buergerbuero",
            source: "/etc/systemd/system/getty@tty1.service.d/override.conf:3",
          },
        ],
      },
    }),
    expected: [
      "write-file /etc/sudoers.d/koffer",
      "remove-file /etc/sudoers.d/mallory",
      "remove-file /etc/systemd/system/getty@tty1.service.d/override.conf",
      "set-group-members sudo=kisa-admin",
      "set-group-members wheel=",
      "lock-account root",
    ],
  },
  {
    // issue 11: systemd reads getty drop-ins from every unit directory (found by the live oracle)
    name: "accounts: a getty autologin drop-in in /usr/lib is hidden by one of the same name in /etc",
    facts: hardenedFacts({
      accounts: {
        autologin: [
          {
            kind: "getty",
            user: "buergerbuero",
            source: "/usr/lib/systemd/system/getty@.service.d/autologin.conf:3",
          },
        ],
      },
    }),
    expected: ["write-file /etc/systemd/system/getty@.service.d/autologin.conf"],
  },
  {
    name: "dconf: no system db, idle 900 s, unlocked",
    facts: hardenedFacts({
      accounts: { dconf: { profileUserHasSystemDb: false, locks: [] } },
    }),
    expected: [
      "write-file /etc/dconf/profile/user",
      // automount is judged together with its lock
      "write-file /etc/dconf/db/local.d/00-koffer",
      "write-file /etc/dconf/db/local.d/locks/00-koffer",
      // dconf reads only the compiled database: changed keyfiles are compiled
      "compile-dconf",
    ],
  },
  {
    // Found by the rig: without the openssl and gcm plugins charon could not load the
    // ECDSA P-384 certificate and key, and strongswan.service failed on the booted laptop.
    name: "packages: strongSwan without its standard plugins (openssl, gcm)",
    facts: withPackages(hardenedFacts(), [], ["libstrongswan-standard-plugins"]),
    expected: ["install-packages libstrongswan-standard-plugins"],
  },
  {
    name: "dconf: keyfiles as wanted but never compiled",
    facts: hardenedFacts({
      accounts: {
        dconf: {
          databases: [
            {
              name: "local",
              path: "/etc/dconf/db/local",
              compiledMs: null,
              newestSource: "/etc/dconf/db/local.d/00-koffer",
              newestSourceMs: 1000,
            },
          ],
        },
      },
    }),
    expected: ["compile-dconf"],
  },
  {
    name: "password: short minimum, lockout off",
    facts: hardenedFacts({
      accounts: {
        pwquality: { minlen: { value: "8", source: "/etc/security/pwquality.conf:1" } },
        faillock: { deny: { value: "0", source: "/etc/security/faillock.conf:1" } },
      },
    }),
    expected: [
      "write-file /etc/security/pwquality.conf.d/90-koffer.conf",
      "write-file /etc/security/faillock.conf",
    ],
  },
  {
    name: "ssh: server running although the profile forbids it",
    facts: withPackages(hardenedFacts({ services: { unitFiles: { "ssh.service": "enabled" } } }), [
      "openssh-server",
    ]),
    expected: ["purge-packages openssh-server", "mask-unit ssh.service"],
  },
  {
    name: "packages: a denied package on hold (hi) is purged, as APP-02 counts it present",
    facts: (() => {
      const f = withPackages(hardenedFacts(), ["anydesk"]);
      const packages = f.apps.packages.map((p) =>
        p.name === "anydesk" ? { ...p, status: "hi" } : p,
      );
      return { ...f, apps: { ...f.apps, packages } };
    })(),
    expected: ["purge-packages anydesk"],
  },
  {
    // Without openssl and gcm charon cannot read the ECDSA P-384 certificate or do ECP-384/AES-GCM.
    name: "packages: strongSwan without its standard plugins",
    facts: withPackages(hardenedFacts(), [], ["libstrongswan-standard-plugins"]),
    expected: ["install-packages libstrongswan-standard-plugins"],
  },
  {
    name: "bluetooth and apparmor",
    facts: hardenedFacts({
      services: { unitFiles: { "bluetooth.service": "enabled", "apparmor.service": "disabled" } },
    }),
    expected: ["mask-unit bluetooth.service", "enable-unit apparmor.service"],
  },
  {
    name: "cups keeps job history",
    facts: hardenedFacts({
      data: { cupsd: { PreserveJobHistory: { value: "Yes", source: "/etc/cups/cupsd.conf:4" } } },
    }),
    expected: ["write-file /etc/cups/cupsd.conf"],
  },
  {
    name: "journald volatile, audit rules missing, auditd off",
    facts: hardenedFacts({
      logging: { journald: { Storage: { value: "volatile", source: "x:1" } }, auditRules: [] },
      services: { unitFiles: { "auditd.service": "disabled" } },
    }),
    expected: [
      "write-file /etc/systemd/journald.conf.d/90-koffer.conf",
      "write-file /etc/audit/rules.d/90-koffer.rules",
      "enable-unit auditd.service",
    ],
  },
  {
    name: "core dumps stored",
    facts: hardenedFacts({
      data: {
        coredump: { Storage: { value: "external", source: "/etc/systemd/coredump.conf:3" } },
        coreLimits: [],
      },
    }),
    expected: [
      "write-file /etc/systemd/coredump.conf.d/90-koffer.conf",
      "write-file /etc/security/limits.d/90-koffer.conf",
    ],
  },
  {
    name: "time from a foreign server, updates off, timer masked",
    facts: hardenedFacts({
      logging: { timesyncd: { NTP: { value: "pool.ntp.org", source: "x:1" } } },
      updates: {
        aptConf: {
          "APT::Periodic::Unattended-Upgrade": { value: "0", source: "/etc/apt/apt.conf.d/20a:2" },
        },
      },
      services: { unitFiles: { "apt-daily-upgrade.timer": "masked" } },
    }),
    expected: [
      "write-file /etc/systemd/timesyncd.conf.d/90-koffer.conf",
      "write-file /etc/apt/apt.conf.d/20auto-upgrades",
      "unmask-unit apt-daily-upgrade.timer",
      "enable-unit apt-daily-upgrade.timer",
    ],
  },
  {
    name: "disk: stray pbkdf2 slots, no recovery key",
    facts: hardenedFacts({
      disk: {
        volumes: [
          hardenedVolume({
            keyslots: [
              ...hardenedVolume().keyslots,
              { id: "2", type: "luks2", keyBytes: 64, kdf: { type: "pbkdf2", hash: "sha256" } },
              { id: "3", type: "luks2", keyBytes: 64, kdf: { type: "pbkdf2", hash: "sha256" } },
            ],
            tokens: [hardenedVolume().tokens[1]!],
          }),
        ],
      },
    }),
    // No recovery key and no escrow certificate: slot 0 stays as the way back in.
    expected: ["luks-remove-keyslot 2", "luks-remove-keyslot 3"],
  },
  {
    name: "disk: a pbkdf2 passphrase slot kept until TPM enrolment is converted",
    facts: hardenedFacts({
      disk: {
        volumes: [
          hardenedVolume({
            keyslots: [
              hardenedVolume().keyslots[0]!,
              { id: "2", type: "luks2", keyBytes: 64, kdf: { type: "pbkdf2", hash: "sha256" } },
            ],
            tokens: [hardenedVolume().tokens[0]!],
          }),
        ],
      },
    }),
    // No TPM reachable: the enrolment is installed for the first boot (DISK-04) beside it.
    expected: [...firstBootChanges, "luks-convert-keyslot 2"],
  },
];

describe("resources", () => {
  it("plan nothing on the hardened laptop", () => {
    expect(planProvision(profile, hardenedFacts(), { now })).toEqual([]);
  });

  for (const c of cases)
    it(`fix: ${c.name}`, () => {
      const changes = planProvision(profile, c.facts, { now });
      expect(describeChanges(changes)).toEqual(c.expected);
      if (c.controls) expect(changes[0]?.controls).toEqual(c.controls);
      for (const change of changes) expect(change.summary).not.toBe("");
    });

  it("never removes the last way in: one passphrase stays while TPM enrolment waits", () => {
    const volume = hardenedVolume({
      keyslots: [
        { id: "0", type: "luks2", keyBytes: 64, kdf: { type: "argon2id", memory: 1048576 } },
      ],
      tokens: [],
    });
    const profileWithEscrow = makeProfile({
      spec: { disk: { recovery: { escrowCertificate: "/profiles/certs/escrow.pem" } } },
    });
    const facts = hardenedFacts({ disk: { volumes: [volume], escrowRecords: [] } });
    expect(describeChanges(planProvision(profileWithEscrow, facts, { now }))).toEqual([
      ...firstBootChanges,
      "luks-add-recovery-key",
    ]);
    // With a TPM at hand: enrol, then the passphrase slot may go.
    expect(
      describeChanges(
        planProvision(profileWithEscrow, facts, { now, tpm2Device: "swtpm:port=2321" }),
      ),
    ).toEqual(["luks-add-recovery-key", "tpm2-enrol", "luks-remove-keyslot 0"]);
  });

  it("installs the municipality CA and removes foreign ones when the CA is known", () => {
    const changes = planProvision(profile, hardenedFacts(), {
      now,
      vpnCa: {
        pem: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        sha256: "dd".repeat(32),
      },
    });
    expect(describeChanges(changes)).toEqual([
      "write-file /etc/swanctl/x509ca/koffer-vpn-ca.pem",
      "remove-file /etc/swanctl/x509ca/meerane-vpn-ca.pem",
    ]);
  });

  it("issues the certificate when a CA is at hand, else requests it once", () => {
    const facts = hardenedFacts({ vpn: { certificates: [] } });
    expect(planProvision(profile, facts, { now, canIssue: true })).toMatchObject([
      { kind: "vpn-certificate", action: "issue", name: "koffer-07" },
    ]);
    const key = "/etc/swanctl/private/koffer-07.pem";
    const pending = hardenedFacts({
      vpn: {
        certificates: [],
        csrs: ["/etc/swanctl/x509req/koffer-07.csr.pem"],
        privateKeys: [{ path: key, file: { path: key, mode: 0o600, uid: 0, gid: 0 } }],
      },
    });
    expect(planProvision(profile, pending, { now })).toEqual([]);
    // Another credential's request, or a request whose key is gone, does not count.
    const foreign = hardenedFacts({
      vpn: {
        certificates: [],
        csrs: ["/etc/swanctl/x509req/other.csr.pem"],
        privateKeys: [{ path: key, file: { path: key, mode: 0o600, uid: 0, gid: 0 } }],
      },
    });
    expect(planProvision(profile, foreign, { now })).toMatchObject([
      { kind: "vpn-certificate", action: "request", name: "koffer-07" },
    ]);
    const keyless = hardenedFacts({
      vpn: { certificates: [], csrs: ["/etc/swanctl/x509req/koffer-07.csr.pem"] },
    });
    expect(planProvision(profile, keyless, { now })).toMatchObject([
      { kind: "vpn-certificate", action: "request", name: "koffer-07" },
    ]);
  });
});

describe("ssh on the tunnel address", () => {
  const sshProfile = makeProfile({
    spec: { network: { ssh: true, sshListenAddress: "10.99.0.7" } },
  });
  const hardenedSshd = {
    passwordauthentication: { value: "no", source: "x:1" },
    kbdinteractiveauthentication: { value: "no", source: "x:2" },
    permitrootlogin: { value: "no", source: "x:3" },
    listenaddress: { value: "10.99.0.7", source: "x:4" },
  };
  it("lets sshd bind the tunnel address before the tunnel is up, activated before the sshd reload", () => {
    const facts = withPackages(hardenedFacts({ network: { sshd: hardenedSshd } }), [
      "openssh-server",
    ]);
    const changes = planProvision(sshProfile, facts, { now });
    expect(describeChanges(changes)).toEqual(["write-file /etc/sysctl.d/90-koffer-sshd.conf"]);
    const bind = changes[0] as Extract<Change, { kind: "write-file" }>;
    expect(bind.content).toMatch(/^net\.ipv4\.ip_nonlocal_bind = 1$/m);
    // Set live only where the address is not there yet (else the reload binds it anyway).
    expect(bind.activate?.slice(-2)).toEqual(["10.99.0.7", "/etc/sysctl.d/90-koffer-sshd.conf"]);
    // Written with sshd's drop-in: the sysctl comes first, so the reload can bind.
    const both = planProvision(sshProfile, withPackages(hardenedFacts(), ["openssh-server"]), {
      now,
    });
    expect(describeChanges(both).filter((c) => /sshd|ssh\//.test(c))).toEqual([
      "write-file /etc/sysctl.d/90-koffer-sshd.conf",
      "write-file /etc/ssh/sshd_config.d/00-koffer.conf",
    ]);
    const set = withPackages(
      hardenedFacts({
        network: { sshd: hardenedSshd },
        data: {
          sysctl: {
            "net.ipv4.ip_nonlocal_bind": {
              value: "1",
              source: "/etc/sysctl.d/90-koffer-sshd.conf:3",
            },
          },
        },
      }),
      ["openssh-server"],
    );
    expect(planProvision(sshProfile, set, { now })).toEqual([]);
  });

  it("removes koffer's nonlocal bind when SSH is no longer allowed", () => {
    const facts = hardenedFacts({
      managedFiles: {
        "/etc/sysctl.d/90-koffer-sshd.conf": { sha256: "00", mode: 0o644, uid: 0, gid: 0 },
      },
    });
    expect(describeChanges(planProvision(profile, facts, { now }))).toContain(
      "remove-file /etc/sysctl.d/90-koffer-sshd.conf",
    );
  });
});

describe("line edits", () => {
  it("puts pam_faillock around pam_unix and widens its success jump", () => {
    const text =
      "auth\t[success=1 default=ignore]\tpam_unix.so nullok\nauth\trequisite\tpam_deny.so\nauth\trequired\tpam_permit.so\n";
    const out = withFaillock(text).split("\n");
    expect(out.filter((l) => !l.startsWith("#"))).toEqual([
      "auth\trequired\t\t\tpam_faillock.so preauth",
      "auth\t[success=2 default=ignore]\tpam_unix.so nullok",
      "auth\t[default=die]\t\t\tpam_faillock.so authfail",
      "auth\trequisite\tpam_deny.so",
      "auth\trequired\tpam_permit.so",
      "",
    ]);
    expect(withFaillock(withFaillock(text))).toBe(withFaillock(text));
  });

  it("sets ENCRYPT_METHOD YESCRYPT in place", () => {
    expect(withYescrypt("A 1\nENCRYPT_METHOD MD5\nB 2\n")).toBe(
      "A 1\nENCRYPT_METHOD YESCRYPT\nB 2\n",
    );
    expect(withYescrypt("A 1\n")).toBe("A 1\nENCRYPT_METHOD YESCRYPT\n");
  });

  it("comments out a /tmp/ line too (systemd's fstab generator takes it for /tmp, the first line wins)", () => {
    const out = fstabWithMounts("/dev/sda3 /tmp/ ext4 defaults 0 2\n", ["/tmp"]);
    expect(out.split("\n")[0]).toBe(
      "# /dev/sda3 /tmp/ ext4 defaults 0 2  # koffer: replaced below",
    );
  });

  it("comments out an existing /tmp line and adds koffer's", () => {
    const out = fstabWithMounts("UUID=x / ext4 defaults 0 1\n/dev/sda3 /tmp ext4 defaults 0 2\n", [
      "/tmp",
    ]);
    expect(out).toBe(
      "UUID=x / ext4 defaults 0 1\n# /dev/sda3 /tmp ext4 defaults 0 2  # koffer: replaced below\n# koffer: /tmp noexec (APP-01, DATA-01)\ntmpfs\t/tmp\ttmpfs\tnosuid,nodev,noexec,mode=1777,size=25%\t0\t0\n",
    );
  });
});
