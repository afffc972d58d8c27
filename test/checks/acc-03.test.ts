import { acc03 } from "../../src/checks/acc-03.js";
import { hardenedFacts } from "../helpers/facts.js";
import { testControl } from "./control-tester.js";

const f = hardenedFacts();
const d = f.accounts.dconf;
const withDconf = (x: Partial<typeof d>) => ({
  ...f,
  accounts: { ...f.accounts, dconf: { ...d, ...x } },
});
const db = (compiledMs: number | null, newestSourceMs: number) => ({
  name: "local",
  path: "/etc/dconf/db/local",
  compiledMs,
  newestSource: "/etc/dconf/db/local.d/00-koffer",
  newestSourceMs,
});
testControl(acc03, import.meta.url, [
  { name: "300 s, locked", status: "pass", messages: ["ok"], exact: true },
  {
    name: "15 minutes",
    facts: withDconf({
      keys: {
        ...d.keys,
        "org/gnome/desktop/session/idle-delay": { value: "uint32 900", source: "x:1" },
      },
    }),
    status: "fail",
    messages: ["idle"],
    exact: true,
  },
  {
    name: "lock disabled, delay 60",
    facts: withDconf({
      keys: {
        ...d.keys,
        "org/gnome/desktop/screensaver/lock-enabled": { value: "false", source: "x:2" },
        "org/gnome/desktop/screensaver/lock-delay": { value: "uint32 60", source: "x:3" },
      },
    }),
    status: "fail",
    messages: ["lockEnabled", "lockDelay"],
  },
  {
    name: "compiled database newer than its keyfiles",
    facts: withDconf({ databases: [db(2000, 1000)] }),
    status: "pass",
    messages: ["ok"],
  },
  {
    name: "keyfiles never compiled (dconf reads only the binary database)",
    facts: withDconf({ databases: [db(null, 1000)] }),
    status: "fail",
    messages: ["notCompiled"],
    exact: true,
  },
  {
    name: "a keyfile changed after the last dconf update",
    facts: withDconf({ databases: [db(1000, 2000)] }),
    status: "fail",
    messages: ["notCompiled"],
    exact: true,
  },
  {
    name: "not locked, no system db",
    facts: withDconf({ locks: [], profileUserHasSystemDb: false }),
    status: "fail",
    messages: ["notLocked", "noSystemDb"],
  },
]);
