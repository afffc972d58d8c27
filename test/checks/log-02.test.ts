import { log02 } from "../../src/checks/log-02.js";
import { hardenedFacts, settings } from "../helpers/facts.js";
import { makeProfile } from "../helpers/profile.js";
import { testControl } from "./control-tester.js";

const f = hardenedFacts();
testControl(log02, import.meta.url, [
  { name: "persistent, bounded", status: "pass", messages: ["ok"], exact: true },
  {
    name: "volatile, unbounded",
    facts: {
      ...f,
      logging: {
        ...f.logging,
        journald: settings("/etc/systemd/journald.conf", { Storage: "volatile" }),
      },
    },
    status: "fail",
    messages: ["storage", "unbounded"],
    exact: true,
  },
  {
    name: "world-writable journal dir",
    facts: hardenedFacts({ logging: { journalDir: { mode: 0o777 } } }),
    status: "fail",
    messages: ["mode"],
  },
  {
    name: "not required",
    profile: makeProfile({ spec: { logging: { persistentJournal: false } } }),
    status: "not-applicable",
    messages: ["notRequired"],
  },
]);
