import { usb03 } from "../../src/checks/usb-03.js";
import { hardenedFacts } from "../helpers/facts.js";
import { testControl } from "./control-tester.js";

const f = hardenedFacts();
testControl(usb03, import.meta.url, [
  { name: "reject rule present", status: "pass", messages: ["ok"], exact: true },
  {
    name: "no reject rule",
    facts: hardenedFacts({ usb: { rules: f.usb.rules.filter((r) => r.target !== "reject") } }),
    status: "fail",
    messages: ["missing"],
  },
  {
    name: "usbguard missing",
    facts: hardenedFacts({ usb: { usbguardInstalled: false } }),
    status: "fail",
    messages: ["missing"],
  },
]);
