import { describe, expect, it } from "vitest";
import { acc05, sudoLogging } from "../../src/checks/acc-05.js";
import { hardenedFacts, withPackages } from "../helpers/facts.js";
import { testControl } from "./control-tester.js";

const f = hardenedFacts();
testControl(acc05, import.meta.url, [
  { name: "root locked, sudo logs", status: "pass", messages: ["ok"], exact: true },
  {
    name: "root with a password",
    facts: {
      ...f,
      accounts: {
        ...f.accounts,
        shadow: [{ name: "root", locked: false, empty: false, scheme: "yescrypt" }],
      },
    },
    status: "fail",
    messages: ["rootOpen"],
    exact: true,
  },
  {
    name: "syslog switched off",
    facts: {
      ...f,
      accounts: {
        ...f.accounts,
        sudoDefaults: [
          { value: "Defaults env_reset, !syslog", source: "/etc/sudoers:9" },
          { value: "Defaults use_pty", source: "/etc/sudoers:10" },
        ],
      },
    },
    status: "fail",
    messages: ["noLogging"],
    exact: true,
  },
  {
    name: "a log file for one user only",
    facts: {
      ...f,
      accounts: {
        ...f.accounts,
        sudoDefaults: [{ value: "Defaults:dave logfile=/var/log/sudo.log", source: "x:1" }],
      },
    },
    status: "fail",
    messages: ["noLogging"],
    exact: true,
  },
  {
    name: "no sudo, no logging",
    facts: withPackages({ ...f, accounts: { ...f.accounts, sudoDefaults: [] } }, [], ["sudo"]),
    status: "fail",
    messages: ["noSudo", "noLogging"],
  },
]);

describe("sudoLogging", () => {
  const d = (value: string, source = "x:1") => ({ value, source });
  it("keeps what the last global Defaults say", () => {
    expect(sudoLogging([d('Defaults logfile="/var/log/a,b.log", use_pty')])).toEqual([
      d('Defaults logfile="/var/log/a,b.log", use_pty'),
    ]);
    expect(
      sudoLogging([d("Defaults logfile=/var/log/sudo.log"), d("Defaults !logfile", "x:2")]),
    ).toEqual([]);
    expect(sudoLogging([d("Defaults !syslog"), d("Defaults syslog=authpriv", "x:2")])).toEqual([
      d("Defaults syslog=authpriv", "x:2"),
    ]);
    expect(
      sudoLogging([d("Defaults>root log_output"), d("Defaults!/usr/bin/su log_output")]),
    ).toEqual([]);
  });
});
