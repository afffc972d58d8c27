import { usb03 } from "../../src/checks/usb-03.js";
import { hardenedFacts } from "../helpers/facts.js";
import { testControl } from "./control-tester.js";
import { parseRule, toRuleFact } from "../../src/facts/usbguard-rules.js";

const f = hardenedFacts();
testControl(usb03, import.meta.url, [
  { name: "reject rule present", status: "pass", messages: ["ok"], exact: true },
  {
    name: "no reject rule",
    facts: hardenedFacts({ usb: { rules: f.usb.rules.filter((r) => r.target !== "reject") } }),
    status: "fail",
    messages: ["missing"],
  },
  // The rule is only enforced by a running usbguard-daemon; a unit that does not start at boot
  // leaves every inserted HID + storage gadget authorised by the kernel's default.
  ...["disabled", "masked", "not-found"].map((state) => ({
    name: `usbguard.service ${state}: the reject rule is never applied`,
    facts: hardenedFacts({
      services: { unitFiles: { ...f.services.unitFiles, "usbguard.service": state } },
    } as Parameters<typeof hardenedFacts>[0]),
    status: "fail" as const,
    messages: ["notEnabled"],
    data: { state },
    exact: true,
  })),
  {
    name: "usbguard missing",
    facts: hardenedFacts({ usb: { usbguardInstalled: false } }),
    status: "fail",
    messages: ["missing"],
  },
  {
    name: "allow id *:* before the reject rule admits HID + storage gadgets (first match wins)",
    facts: hardenedFacts({
      usb: {
        rules: [
          toRuleFact(parseRule("allow id *:*"), "/etc/usbguard/rules.d/00-x.conf:1"),
          ...f.usb.rules,
        ],
      },
    }),
    status: "fail",
    messages: ["allowedFirst"],
    exact: true,
  },
]);
