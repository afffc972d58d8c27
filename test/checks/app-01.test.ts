import { app01 } from "../../src/checks/app-01.js";
import { hardenedFacts, live, withPackages } from "../helpers/facts.js";
import { testControl } from "./control-tester.js";

const f = hardenedFacts();
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
  {
    name: "/tmp on the root file system",
    facts: { ...f, disk: { ...f.disk, fstab: f.disk.fstab.filter((e) => e.file !== "/tmp") } },
    status: "fail",
    messages: ["noexec"],
    data: { mount: "/tmp" },
  },
]);
