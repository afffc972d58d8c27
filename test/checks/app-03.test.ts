import { app03 } from "../../src/checks/app-03.js";
import { hardenedFacts } from "../helpers/facts.js";
import { testControl } from "./control-tester.js";

const s = hardenedFacts().apps.aptSources[0]!;
testControl(app03, import.meta.url, [
  { name: "deb822 with Signed-By", status: "pass", messages: ["ok"], exact: true },
  {
    name: "trusted=yes",
    facts: hardenedFacts({ apps: { aptSources: [{ ...s, trusted: true }] } }),
    status: "fail",
    messages: ["trusted"],
    exact: true,
  },
  {
    name: "one-line source without signed-by",
    facts: hardenedFacts({
      apps: { aptSources: [{ ...s, signedBy: null, source: "/etc/apt/sources.list:1" }] },
    }),
    status: "fail",
    messages: ["signedBy"],
  },
  // issue 11: apt accepts a signed-by source unsigned when it allows insecure repositories.
  {
    name: "signed-by set, but allow-insecure=yes",
    facts: hardenedFacts({
      apps: {
        aptSources: [
          { ...s, weakened: ["allow-insecure"], source: "/etc/apt/sources.list.d/x.list:1" },
        ],
      },
    }),
    status: "fail",
    messages: ["weakened"],
    data: { option: "allow-insecure=yes", source: "/etc/apt/sources.list.d/x.list:1" },
    exact: true,
  },
  {
    name: "every source signed, but apt.conf accepts insecure repositories for all",
    facts: hardenedFacts({
      apps: {
        aptAuthentication: {
          "Acquire::AllowInsecureRepositories": {
            value: "true",
            source: "/etc/apt/apt.conf.d/99insecure:1",
          },
        },
      },
    }),
    status: "fail",
    messages: ["globalInsecure"],
    data: { key: "Acquire::AllowInsecureRepositories" },
    exact: true,
  },
  {
    name: "an apt.conf switch set to false checks signatures",
    facts: hardenedFacts({
      apps: {
        aptAuthentication: {
          "APT::Get::AllowUnauthenticated": { value: "false", source: "/etc/apt/apt.conf:3" },
        },
      },
    }),
    status: "pass",
    messages: ["ok"],
    exact: true,
  },
]);
