import { usb01 } from "../../src/checks/usb-01.js";
import { hardenedFacts, live, settings } from "../helpers/facts.js";
import { testControl } from "./control-tester.js";

const f = hardenedFacts();
const rules = f.usb.rules;
const anyStorage = {
  target: "allow" as const,
  canonical: "allow with-interface equals { 08:*:* }",
  ids: [],
  withInterface: { operator: "equals", values: ["08:*:*"] },
  hasSerial: false,
  hasHash: false,
  source: "/etc/usbguard/rules.conf:9",
};
testControl(usb01, import.meta.url, [
  { name: "allowlist enforced", status: "pass", messages: ["ok"], exact: true },
  {
    name: "usbguard missing",
    facts: hardenedFacts({
      usb: { usbguardInstalled: false, rules: [], daemonConf: {} },
      services: { unitFiles: { "usbguard.service": "not-found" } },
    }),
    status: "fail",
    messages: ["notInstalled", "notEnabled"],
    exact: true,
  },
  {
    name: "implicit allow",
    facts: hardenedFacts({
      usb: {
        daemonConf: settings("/etc/usbguard/usbguard-daemon.conf", {
          ImplicitPolicyTarget: "allow",
        }),
      },
    }),
    status: "fail",
    messages: ["daemonSetting"],
    data: { key: "ImplicitPolicyTarget", actual: "allow" },
  },
  {
    name: "allow rule without id",
    facts: hardenedFacts({ usb: { rules: [...rules, anyStorage] } }),
    status: "fail",
    messages: ["unlisted"],
  },
  {
    name: "device of the allowlist without rule",
    facts: hardenedFacts({ usb: { rules: rules.filter((r) => !r.ids.includes("2133:0001")) } }),
    status: "fail",
    messages: ["missing"],
    data: { id: "2133:0001" },
  },
  {
    name: "rules file with errors",
    facts: hardenedFacts({
      usb: { ruleErrors: [{ source: "/etc/usbguard/rules.conf:7", message: "unknown keyword" }] },
    }),
    status: "fail",
    messages: ["ruleErrors"],
  },
  {
    name: "foreign device attached (live)",
    facts: hardenedFacts({
      usb: {
        attached: live(
          [{ id: "0781:5581", name: "SanDisk Ultra", interfaces: ["08:06:50"], serial: "X" }],
          "/sys/bus/usb",
        ),
      },
    }),
    status: "fail",
    messages: ["attached"],
  },
]);
