import { data02 } from "../../src/checks/data-02.js";
import { hardenedFacts, settings } from "../helpers/facts.js";
import { makeProfile } from "../helpers/profile.js";
import { testControl } from "./control-tester.js";

const f = hardenedFacts();
testControl(data02, import.meta.url, [
  { name: "no retention, local only", status: "pass", messages: ["ok"], exact: true },
  {
    name: "Debian defaults",
    facts: {
      ...f,
      data: { ...f.data, cupsd: settings("/etc/cups/cupsd.conf", { Browsing: "Yes" }) },
    },
    status: "fail",
    messages: ["directive"],
    exact: true,
  },
  {
    name: "listening on the network",
    facts: hardenedFacts({ data: { cupsdListen: ["0.0.0.0:631"] } }),
    status: "fail",
    messages: ["listen"],
  },
  {
    name: "retention allowed",
    profile: makeProfile({ spec: { data: { printJobRetention: true } } }),
    status: "not-applicable",
    messages: ["notRequired"],
  },
]);
