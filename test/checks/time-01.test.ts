import { time01 } from "../../src/checks/time-01.js";
import { hardenedFacts, live, settings } from "../helpers/facts.js";
import { makeProfile } from "../helpers/profile.js";
import { testControl } from "./control-tester.js";

const f = hardenedFacts();
testControl(time01, import.meta.url, [
  { name: "timesyncd with the internal server", status: "pass", messages: ["ok"], exact: true },
  {
    name: "no time service",
    facts: hardenedFacts({ services: { unitFiles: { "systemd-timesyncd.service": "disabled" } } }),
    status: "fail",
    messages: ["noService"],
    exact: true,
  },
  {
    name: "defaults only",
    facts: { ...f, logging: { ...f.logging, timesyncd: {} } },
    status: "fail",
    messages: ["noServers"],
  },
  {
    name: "public pool",
    facts: {
      ...f,
      logging: {
        ...f.logging,
        timesyncd: settings("/etc/systemd/timesyncd.conf", { NTP: "pool.ntp.org" }),
      },
    },
    status: "fail",
    messages: ["unapproved"],
  },
  {
    name: "chrony with the approved server and options",
    facts: hardenedFacts({
      services: {
        unitFiles: { "systemd-timesyncd.service": "masked", "chrony.service": "enabled" },
      },
      logging: {
        chrony: {
          servers: [`${f.logging.timesyncd["NTP"]!.value} iburst nts`],
          source: "/etc/chrony/chrony.conf",
        },
      },
    }),
    status: "pass",
    messages: ["ok"],
  },
  {
    name: "clock not synchronised (live)",
    facts: hardenedFacts({ logging: { timeSynchronized: live(false, "timedatectl") } }),
    status: "fail",
    messages: ["notSynced"],
  },
  {
    name: "not required",
    profile: makeProfile({ spec: { logging: { timeSync: false } } }),
    status: "not-applicable",
    messages: ["notRequired"],
  },
]);
