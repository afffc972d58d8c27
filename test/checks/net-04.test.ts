import { net04 } from "../../src/checks/net-04.js";
import { hardenedFacts, live } from "../helpers/facts.js";
import { makeProfile } from "../helpers/profile.js";
import { testControl } from "./control-tester.js";

testControl(net04, import.meta.url, [
  { name: "bluetooth masked", status: "pass", messages: ["ok"], exact: true },
  {
    name: "bluetooth enabled",
    facts: hardenedFacts({ services: { unitFiles: { "bluetooth.service": "enabled" } } }),
    status: "fail",
    messages: ["unit"],
    exact: true,
  },
  {
    name: "radio unblocked (live)",
    facts: hardenedFacts({
      network: { rfkill: live([{ type: "bluetooth", soft: false, hard: false }], "rfkill -J") },
    }),
    status: "fail",
    messages: ["radio"],
  },
  {
    name: "allowed by the profile",
    profile: makeProfile({ spec: { network: { bluetooth: true } } }),
    status: "not-applicable",
    messages: ["notApplicable"],
  },
]);
