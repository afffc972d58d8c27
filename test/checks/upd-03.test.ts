import { upd03 } from "../../src/checks/upd-03.js";
import { hardenedFacts, live } from "../helpers/facts.js";
import { makeProfile } from "../helpers/profile.js";
import { testControl } from "./control-tester.js";

const fw = makeProfile({ spec: { updates: { firmware: true } } });
testControl(upd03, import.meta.url, [
  { name: "firmware checks not asked for", status: "not-applicable", messages: ["notApplicable"] },
  { name: "offline", profile: fw, status: "skip", messages: ["unavailable"] },
  {
    name: "current",
    profile: fw,
    facts: hardenedFacts({
      updates: { fwupd: live({ pendingSecurityUpdates: 0 }, "fwupdmgr get-updates --json") },
    }),
    status: "pass",
    messages: ["ok"],
  },
  {
    name: "pending",
    profile: fw,
    facts: hardenedFacts({
      updates: { fwupd: live({ pendingSecurityUpdates: 2 }, "fwupdmgr get-updates --json") },
    }),
    status: "fail",
    messages: ["pending"],
    data: { count: 2 },
  },
]);
