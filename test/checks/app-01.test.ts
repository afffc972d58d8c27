import { app01 } from "../../src/checks/app-01.js";
import { hardenedFacts, live, withPackages } from "../helpers/facts.js";
import { testControl } from "./control-tester.js";

const f = hardenedFacts();
/** The hardened facts booted with `extra` on the kernel command line (offline: from GRUB). */
const booted = (...extra: string[]) => ({
  ...f,
  boot: {
    ...f.boot,
    kernelCmdline: { value: ["quiet", "intel_iommu=on", ...extra], source: "/etc/default/grub" },
  },
});
testControl(app01, import.meta.url, [
  { name: "AppArmor enabled, noexec everywhere", status: "pass", messages: ["ok"], exact: true },
  {
    name: "AppArmor not installed",
    facts: withPackages(f, [], ["apparmor"]),
    status: "fail",
    messages: ["apparmor"],
    exact: true,
  },
  {
    name: "AppArmor off in the kernel (live)",
    facts: hardenedFacts({
      apps: {
        apparmor: {
          kernelEnabled: live(false, "/sys/module/apparmor"),
          profilesEnforced: live(0, "aa-status"),
        },
      },
    }),
    status: "fail",
    messages: ["apparmor", "noProfiles"],
  },
  // The kernel reads apparmor= with kstrtoul (numbers only) and apparmor.enabled= with
  // kstrtobool, in command-line order (security/apparmor/lsm.c).
  {
    name: "apparmor=off is no number: ignored",
    facts: booted("apparmor=off"),
    status: "pass",
    messages: ["ok"],
  },
  {
    name: "apparmor=0x0 is zero",
    facts: booted("apparmor=0x0"),
    status: "fail",
    messages: ["apparmor"],
  },
  {
    name: "the module parameter apparmor.enabled=0",
    facts: booted("apparmor.enabled=0"),
    status: "fail",
    messages: ["apparmor"],
  },
  {
    name: "apparmor.enabled=off",
    facts: booted("apparmor.enabled=off"),
    status: "fail",
    messages: ["apparmor"],
  },
  {
    name: "a later apparmor=1 wins",
    facts: booted("apparmor=0", "apparmor=1"),
    status: "pass",
    messages: ["ok"],
  },
  // libmount applies options left to right: a later `exec` clears `noexec` (`defaults` changes
  // no flag). systemd-fstab-generator creates each mount unit O_EXCL: of two lines for one
  // mount point the FIRST is mounted ("Duplicate entry in '/etc/fstab'?" for the second).
  ...(
    [
      ["`exec` after `noexec` (last option wins)", ["tmpfs /tmp tmpfs nosuid,noexec,exec"]],
      [
        "a second fstab line for /tmp (systemd mounts the first)",
        ["tmpfs /tmp tmpfs nosuid,nodev", "tmpfs /tmp tmpfs nosuid,nodev,noexec"],
      ],
    ] as const
  ).map(([what, lines]) => ({
    name: `/tmp: ${what}`,
    facts: {
      ...f,
      disk: {
        ...f.disk,
        fstab: [
          ...f.disk.fstab.filter((e) => e.file !== "/tmp"),
          ...lines.map((l, i) => {
            const [spec, file, vfstype, options] = l.split(" ") as [string, string, string, string];
            return {
              spec,
              file,
              vfstype,
              options: options.split(","),
              source: `/etc/fstab:${9 + i}`,
            };
          }),
        ],
      },
    },
    status: "fail" as const,
    messages: ["noexec"],
    data: { mount: "/tmp" },
    exact: true,
  })),
  {
    name: "`defaults` after `noexec` changes no flag",
    facts: {
      ...f,
      disk: {
        ...f.disk,
        fstab: f.disk.fstab.map((e) =>
          e.file === "/tmp" ? { ...e, options: [...e.options, "defaults"] } : e,
        ),
      },
    },
    status: "pass",
    messages: ["ok"],
    exact: true,
  },
  {
    name: "/tmp on the root file system",
    facts: { ...f, disk: { ...f.disk, fstab: f.disk.fstab.filter((e) => e.file !== "/tmp") } },
    status: "fail",
    messages: ["noexec"],
    data: { mount: "/tmp" },
  },
]);
