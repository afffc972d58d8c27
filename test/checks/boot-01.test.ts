import { boot01 } from "../../src/checks/boot-01.js";
import { hardenedFacts, live } from "../helpers/facts.js";
import { makeProfile } from "../helpers/profile.js";
import { testControl } from "./control-tester.js";

testControl(boot01, import.meta.url, [
  { name: "offline image, attested", status: "pass", messages: ["attested"], exact: true },
  {
    name: "offline image, not attested",
    profile: makeProfile({ spec: { attestations: [] } }),
    status: "skip",
    messages: ["unavailable"],
  },
  {
    name: "live: enabled",
    facts: hardenedFacts({ boot: { secureBoot: live(true, "mokutil --sb-state") } }),
    status: "pass",
    messages: ["ok"],
  },
  {
    name: "live: disabled",
    facts: hardenedFacts({ boot: { secureBoot: live(false, "mokutil --sb-state") } }),
    status: "fail",
    messages: ["disabled"],
  },
  {
    name: "profile does not require it",
    profile: makeProfile({ spec: { boot: { secureBoot: false } } }),
    status: "not-applicable",
    messages: ["notRequired"],
  },
]);
