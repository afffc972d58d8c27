import { data03 } from "../../src/checks/data-03.js";
import { hardenedFacts, settings } from "../helpers/facts.js";
import { makeProfile } from "../helpers/profile.js";
import { testControl } from "./control-tester.js";

const f = hardenedFacts();
testControl(data03, import.meta.url, [
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
