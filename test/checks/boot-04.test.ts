import { boot04 } from "../../src/checks/boot-04.js";
import { hardenedFacts, live, settings } from "../helpers/facts.js";
import { testControl } from "./control-tester.js";

testControl(boot04, import.meta.url, [
  { name: "sysrq 0, IOMMU forced", status: "pass", messages: ["ok"], exact: true },
  {
    name: "sysrq 176",
    facts: hardenedFacts({
      data: { sysctl: settings("/etc/sysctl.d/10-magic-sysrq.conf", { "kernel.sysrq": "176" }) },
    }),
    status: "fail",
    messages: ["sysrq"],
    data: { value: "176" },
  },
  {
    // issue 11, found by the live oracle: the kernel reads "00" as 0 (strtoul, base 0)
    name: "sysrq 00 is zero as the kernel reads it",
    facts: hardenedFacts({
      data: { sysctl: settings("/etc/sysctl.d/95-x.conf", { "kernel.sysrq": "00" }) },
    }),
    status: "pass",
    messages: ["ok"],
    exact: true,
  },
  {
    name: "sysrq 0x1 is one as the kernel reads it",
    facts: hardenedFacts({
      data: { sysctl: settings("/etc/sysctl.d/95-x.conf", { "kernel.sysrq": "0x1" }) },
    }),
    status: "fail",
    messages: ["sysrq"],
  },
  {
    name: "live sysrq wins over files",
    facts: hardenedFacts({ data: { sysctlLive: live({ "kernel.sysrq": "1" }, "/proc/sys") } }),
    status: "fail",
    messages: ["sysrq"],
    data: { value: "1" },
  },
  {
    name: "no IOMMU parameter",
    facts: hardenedFacts({
      boot: { kernelCmdline: { value: ["quiet"], source: "/etc/default/grub:6" } },
    }),
    status: "fail",
    messages: ["iommu"],
    data: { actual: "quiet" },
  },
  {
    name: "IOMMU switched off",
    facts: hardenedFacts({
      boot: { kernelCmdline: { value: ["intel_iommu=on", "iommu=off"], source: "/proc/cmdline" } },
    }),
    status: "fail",
    messages: ["iommu"],
  },
]);
