import { acc05 } from "../../src/checks/acc-05.js";
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
    name: "no sudo, no logging",
    facts: withPackages({ ...f, accounts: { ...f.accounts, sudoDefaults: [] } }, [], ["sudo"]),
    status: "fail",
    messages: ["noSudo", "noLogging"],
  },
]);
