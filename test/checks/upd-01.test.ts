import { upd01 } from "../../src/checks/upd-01.js";
import { hardenedFacts, settings, withPackages } from "../helpers/facts.js";
import { makeProfile } from "../helpers/profile.js";
import { testControl } from "./control-tester.js";

const f = hardenedFacts();
testControl(upd01, import.meta.url, [
  { name: "daily unattended upgrades", status: "pass", messages: ["ok"], exact: true },
  {
    name: "not installed",
    facts: withPackages(f, [], ["unattended-upgrades"]),
    status: "fail",
    messages: ["notInstalled"],
    exact: true,
  },
  {
    name: "weekly",
    facts: {
      ...f,
      updates: {
        ...f.updates,
        aptConf: settings("/etc/apt/apt.conf.d/20auto-upgrades", {
          "APT::Periodic::Update-Package-Lists": "1",
          "APT::Periodic::Unattended-Upgrade": "7",
        }),
      },
    },
    status: "fail",
    messages: ["periodic"],
    data: { actual: "7" },
  },
  {
    name: "timer masked",
    facts: hardenedFacts({ services: { unitFiles: { "apt-daily-upgrade.timer": "masked" } } }),
    status: "fail",
    messages: ["timer"],
  },
  {
    name: "timer disabled",
    facts: hardenedFacts({ services: { unitFiles: { "apt-daily-upgrade.timer": "disabled" } } }),
    status: "fail",
    messages: ["timer"],
    data: { unit: "apt-daily-upgrade.timer", state: "disabled" },
    exact: true,
  },
  {
    name: "not required",
    profile: makeProfile({ spec: { updates: { unattended: false } } }),
    status: "not-applicable",
    messages: ["notRequired"],
  },
]);
