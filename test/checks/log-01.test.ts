import { log01 } from "../../src/checks/log-01.js";
import { hardenedFacts, withPackages } from "../helpers/facts.js";
import { makeProfile } from "../helpers/profile.js";
import { testControl } from "./control-tester.js";

const f = hardenedFacts();
const rules = f.logging.auditRules;
testControl(log01, import.meta.url, [
  { name: "all required rules", status: "pass", messages: ["ok"], exact: true },
  {
    name: "auditd absent",
    facts: withPackages(
      hardenedFacts({ services: { unitFiles: { "auditd.service": "not-found" } } }),
      [],
      ["auditd"],
    ),
    status: "fail",
    messages: ["notInstalled", "notEnabled"],
    exact: true,
  },
  {
    name: "no usbguard watch",
    facts: {
      ...f,
      logging: { ...f.logging, auditRules: rules.filter((r) => !r.rule.includes("usbguard")) },
    },
    status: "fail",
    messages: ["watch"],
    data: { path: "/etc/usbguard" },
  },
  {
    name: "no time and module rules",
    facts: {
      ...f,
      logging: { ...f.logging, auditRules: rules.filter((r) => !r.rule.includes("-S")) },
    },
    status: "fail",
    messages: ["syscall", "privilege"],
  },
  {
    name: "a rule that suppresses auditing (-a never) records nothing",
    facts: {
      ...f,
      logging: {
        ...f.logging,
        auditRules: [
          ...rules.filter((r) => !r.rule.includes("clock_settime")),
          {
            rule: "-a always,exit -F arch=b64 -S settimeofday -k time-change",
            source: "/etc/audit/rules.d/x.rules:1",
          },
          {
            rule: "-a never,exit -F arch=b64 -S clock_settime",
            source: "/etc/audit/rules.d/x.rules:1",
          },
        ],
      },
    },
    status: "fail",
    messages: ["syscall"],
    data: { syscall: "clock_settime" },
  },
  {
    name: "not required",
    profile: makeProfile({ spec: { logging: { auditd: false } } }),
    status: "not-applicable",
    messages: ["notRequired"],
  },
]);
