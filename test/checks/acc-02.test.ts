import { acc02 } from "../../src/checks/acc-02.js";
import { hardenedFacts } from "../helpers/facts.js";
import { makeProfile } from "../helpers/profile.js";
import { testControl } from "./control-tester.js";

testControl(acc02, import.meta.url, [
  { name: "no autologin", status: "pass", messages: ["ok"] },
  {
    name: "gdm3 autologin",
    facts: hardenedFacts({
      accounts: {
        autologin: [{ kind: "gdm3", user: "buergerbuero", source: "/etc/gdm3/daemon.conf:5" }],
      },
    }),
    status: "fail",
    messages: ["autologin"],
    data: { user: "buergerbuero" },
  },
  {
    name: "allowed by the profile",
    profile: makeProfile({ spec: { accounts: { autologin: true } } }),
    status: "not-applicable",
    messages: ["notRequired"],
  },
]);
