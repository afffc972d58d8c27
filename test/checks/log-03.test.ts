import { log03 } from "../../src/checks/log-03.js";
import { hardenedFacts } from "../helpers/facts.js";
import { makeProfile } from "../helpers/profile.js";
import { testControl } from "./control-tester.js";

const fwd = makeProfile({ spec: { logging: { forwardTo: "https://logs.meerane.example" } } });
testControl(log03, import.meta.url, [
  { name: "no destination", status: "not-applicable", messages: ["notApplicable"] },
  {
    name: "journal upload enabled",
    profile: fwd,
    facts: hardenedFacts({
      services: { unitFiles: { "systemd-journal-upload.service": "enabled" } },
    }),
    status: "pass",
    messages: ["ok"],
  },
  { name: "nothing forwards", profile: fwd, status: "fail", messages: ["missing"] },
]);
