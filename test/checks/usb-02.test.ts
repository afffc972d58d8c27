import { usb02 } from "../../src/checks/usb-02.js";
import { hardenedFacts, withPackages } from "../helpers/facts.js";
import { makeProfile } from "../helpers/profile.js";
import { testControl } from "./control-tester.js";
import { parseRule, toRuleFact } from "../../src/facts/usbguard-rules.js";

/** A rule fact as the gatherer makes it from rules.conf text. */
const rule = (text: string, line = 9) =>
  toRuleFact(parseRule(text), `/etc/usbguard/rules.conf:${line}`);

const f = hardenedFacts();
const storage = {
  target: "allow" as const,
  canonical: "allow with-interface equals { 08:*:* }",
  ids: [],
  withInterface: { operator: "equals", values: ["08:*:*"] },
  hasSerial: false,
  hasHash: false,
  source: "/etc/usbguard/rules.conf:9",
};
testControl(usb02, import.meta.url, [
  { name: "blocked", status: "pass", messages: ["ok"], exact: true },
  {
    name: "allow rule for class 08",
    facts: hardenedFacts({ usb: { rules: [...f.usb.rules, storage] } }),
    status: "fail",
    messages: ["allowRule"],
    exact: true,
  },
  // issue 11: USBGuard's rule semantics — these allow every device, storage included.
  ...[
    "allow id *:*",
    "allow",
    "allow with-interface one-of { 03:*:* 09:*:* }",
    "allow id 1234:*",
  ].map((text) => ({
    name: `"${text}" admits storage`,
    facts: hardenedFacts({ usb: { rules: [...f.usb.rules, rule(text)] } }),
    status: "fail" as const,
    messages: ["allowRule"],
    exact: true,
  })),
  {
    name: "a generic allow after a rule rejecting every storage device admits no storage (first match)",
    facts: hardenedFacts({
      usb: {
        rules: [
          rule("reject with-interface one-of { 08:*:* }", 1),
          ...f.usb.rules,
          rule("allow id *:*"),
        ],
      },
    }),
    status: "pass",
    messages: ["ok"],
    exact: true,
  },
  {
    name: "usb_storage loadable",
    facts: hardenedFacts({ usb: { modprobeBlocked: [] } }),
    status: "fail",
    messages: ["module"],
  },
  {
    name: "only usb_storage blacklisted (UAS disks still load uas)",
    facts: hardenedFacts({ usb: { modprobeBlocked: ["usb_storage"] } }),
    status: "fail",
    messages: ["module"],
    data: { module: "uas" },
    exact: true,
  },
  {
    name: "automount on",
    facts: { ...f, accounts: { ...f.accounts, dconf: { ...f.accounts.dconf, locks: [] } } },
    status: "fail",
    messages: ["automount"],
  },
  {
    name: "no udisks2: automount moot",
    facts: withPackages(
      { ...f, accounts: { ...f.accounts, dconf: { ...f.accounts.dconf, locks: [] } } },
      [],
      ["udisks2"],
    ),
    status: "pass",
    messages: ["ok"],
  },
  {
    name: "not required",
    profile: makeProfile({ spec: { devices: { blockMassStorage: false } } }),
    status: "not-applicable",
    messages: ["notRequired"],
  },
]);
