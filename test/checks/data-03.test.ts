import { data03 } from "../../src/checks/data-03.js";
import { hardenedFacts, settings } from "../helpers/facts.js";
import { makeProfile } from "../helpers/profile.js";
import { testControl } from "./control-tester.js";

const f = hardenedFacts();
testControl(data03, import.meta.url, [
  {
    name: "the wildcard is 0 but root may dump",
    facts: {
      ...f,
      data: {
        ...f.data,
        coreLimits: [
          ...f.data.coreLimits,
          {
            domain: "root",
            type: "hard",
            value: "unlimited",
            source: "/etc/security/limits.d/debug.conf:1",
          },
        ],
      },
    },
    status: "fail",
    messages: ["limit"],
    data: { actual: "root hard core unlimited" },
    exact: true,
  },
  { name: "core dumps off", status: "pass", messages: ["ok"], exact: true },
  {
    name: "core dumps on",
    facts: {
      ...f,
      data: {
        ...f.data,
        coreLimits: [],
        coredump: settings("/etc/systemd/coredump.conf", { Storage: "external" }),
      },
    },
    status: "fail",
    messages: ["limit", "coredump"],
    exact: true,
  },
  {
    name: "suid dumps",
    facts: hardenedFacts({
      data: { sysctl: { "fs.suid_dumpable": { value: "2", source: "x:1" } } },
    }),
    status: "fail",
    messages: ["suidDumpable"],
  },
  {
    name: "allowed",
    profile: makeProfile({ spec: { data: { coreDumps: true } } }),
    status: "not-applicable",
    messages: ["notRequired"],
  },
]);
