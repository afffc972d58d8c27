import { acc04 } from "../../src/checks/acc-04.js";
import { hardenedFacts, settings } from "../helpers/facts.js";
import { testControl } from "./control-tester.js";

const f = hardenedFacts();
const a = f.accounts;
const withAccounts = (x: Partial<typeof a>) => ({ ...f, accounts: { ...a, ...x } });
testControl(acc04, import.meta.url, [
  { name: "policy in place", status: "pass", messages: ["ok"], exact: true },
  {
    name: "minlen 8",
    facts: withAccounts({ pwquality: settings("/etc/security/pwquality.conf", { minlen: "8" }) }),
    status: "fail",
    messages: ["minlen"],
    exact: true,
  },
  {
    name: "no faillock in PAM",
    facts: withAccounts({ pamModules: { "common-auth": ["pam_unix.so"] } }),
    status: "fail",
    messages: ["faillock"],
  },
  {
    name: "MD5",
    facts: withAccounts({
      loginDefs: settings("/etc/login.defs", { ENCRYPT_METHOD: "MD5" }),
      shadow: [...a.shadow, { name: "old", locked: false, empty: false, scheme: "md5" }],
    }),
    status: "fail",
    messages: ["encryptMethod", "weakHash"],
  },
]);
