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
]);
