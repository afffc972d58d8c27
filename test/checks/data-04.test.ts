import { data04 } from "../../src/checks/data-04.js";
import { hardenedFacts } from "../helpers/facts.js";
import { makeProfile } from "../helpers/profile.js";
import { testControl } from "./control-tester.js";

const ff = makeProfile({ spec: { data: { browser: { name: "firefox-esr" } } } });
const path = "/etc/firefox/policies/policies.json";
testControl(data04, import.meta.url, [
  { name: "no browser named", status: "not-applicable", messages: ["notApplicable"] },
  {
    name: "Firefox hardened",
    profile: ff,
    facts: hardenedFacts({
      apps: {
        browserPolicies: [
          {
            path,
            policies: {
              policies: {
                PasswordManagerEnabled: false,
                SanitizeOnShutdown: true,
                DisableFormHistory: true,
              },
            },
          },
        ],
      },
    }),
    status: "pass",
    messages: ["ok"],
  },
  {
    name: "Firefox saves passwords",
    profile: ff,
    facts: hardenedFacts({
      apps: { browserPolicies: [{ path, policies: { policies: { SanitizeOnShutdown: true } } }] },
    }),
    status: "fail",
    messages: ["policy"],
  },
  { name: "no policies", profile: ff, status: "fail", messages: ["noPolicies"] },
]);
