import { acc01 } from "../../src/checks/acc-01.js";
import { hardenedFacts } from "../helpers/facts.js";
import { testControl } from "./control-tester.js";

const f = hardenedFacts();
const a = f.accounts;
const withAccounts = (x: Partial<typeof a>) => ({ ...f, accounts: { ...a, ...x } });
testControl(acc01, import.meta.url, [
  { name: "exactly the approved accounts", status: "pass", messages: ["ok"], exact: true },
  {
    name: "extra sudo user",
    facts: withAccounts({
      passwd: [
        ...a.passwd,
        { name: "mallory", uid: 1002, gid: 1002, home: "/home/mallory", shell: "/bin/bash" },
      ],
      groups: a.groups.map((g) =>
        g.name === "sudo" ? { ...g, members: [...g.members, "mallory"] } : g,
      ),
    }),
    status: "fail",
    messages: ["unknownAccount", "extraAdmin"],
    exact: true,
  },
  {
    name: "second UID 0",
    facts: withAccounts({
      passwd: [...a.passwd, { name: "toor", uid: 0, gid: 0, home: "/root", shell: "/bin/sh" }],
    }),
    status: "fail",
    messages: ["uid0"],
  },
  {
    name: "admin not in sudo",
    facts: withAccounts({
      groups: a.groups.map((g) => (g.name === "sudo" ? { ...g, members: [] } : g)),
    }),
    status: "fail",
    messages: ["missingAdmin"],
  },
  {
    name: "sudoers rule for the staff user",
    facts: withAccounts({
      sudoRules: [
        ...a.sudoRules,
        { who: "buergerbuero", spec: "ALL=(ALL) NOPASSWD: ALL", source: "/etc/sudoers.d/x:1" },
      ],
    }),
    status: "fail",
    messages: ["sudoRule"],
  },
]);
