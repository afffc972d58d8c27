import { acc01 } from "../../src/checks/acc-01.js";
import { hardenedFacts } from "../helpers/facts.js";
import { testControl } from "./control-tester.js";

const f = hardenedFacts();
const a = f.accounts;
const withAccounts = (x: Partial<typeof a>) => ({ ...f, accounts: { ...a, ...x } });
/** A personal account the profile does not list, with its shadow entry. */
const stray = (shadow: Partial<(typeof a.shadow)[number]>) =>
  withAccounts({
    passwd: [
      ...a.passwd,
      { name: "praktikant", uid: 1003, gid: 1003, home: "/home/praktikant", shell: "/bin/bash" },
    ],
    shadow: [
      ...a.shadow,
      { name: "praktikant", locked: false, empty: false, scheme: "yescrypt", ...shadow },
    ],
  });
testControl(acc01, import.meta.url, [
  {
    name: "an account outside the profile that can log in",
    facts: stray({}),
    status: "fail",
    messages: ["unknownAccount"],
    data: { name: "praktikant" },
    exact: true,
  },
  {
    name: "an account outside the profile, password locked only (an SSH key or PAM method still logs in)",
    facts: stray({ locked: true }),
    status: "fail",
    messages: ["unknownAccount"],
    exact: true,
  },
  {
    name: "an account outside the profile, expiring only next year",
    facts: stray({ locked: true, expireDay: 21_000 }),
    status: "fail",
    messages: ["unknownAccount"],
    exact: true,
  },
  {
    name: "an account outside the profile, locked and expired (usermod -L -e 1): switched off",
    facts: stray({ locked: true, expireDay: 1 }),
    status: "pass",
    messages: ["ok"],
    exact: true,
  },
  { name: "exactly the approved accounts", status: "pass", messages: ["ok"], exact: true },
  {
    // issue 11, found by the live oracle (sudo -l -U kisa-admin: not allowed)
    name: "the %sudo rule gone: the admin in group sudo may run nothing",
    facts: withAccounts({ sudoRules: a.sudoRules.filter((r) => r.who !== "%sudo") }),
    status: "fail",
    messages: ["missingAdmin"],
    data: { name: "kisa-admin" },
    exact: true,
  },
  {
    name: "the admin outside group sudo with a rule of their own",
    facts: withAccounts({
      groups: a.groups.map((g) => (g.name === "sudo" ? { ...g, members: [] } : g)),
      sudoRules: [
        ...a.sudoRules,
        { who: "kisa-admin", spec: "ALL=(ALL:ALL) ALL", source: "/etc/sudoers.d/50-admin:1" },
      ],
    }),
    status: "pass",
    messages: ["ok"],
    exact: true,
  },
  {
    name: "the admin's own rule only forbids (!ALL)",
    facts: withAccounts({
      groups: a.groups.map((g) => (g.name === "sudo" ? { ...g, members: [] } : g)),
      sudoRules: [
        ...a.sudoRules,
        { who: "kisa-admin", spec: "ALL=(ALL) !ALL", source: "/etc/sudoers.d/50-admin:1" },
      ],
    }),
    status: "fail",
    messages: ["missingAdmin"],
  },
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
