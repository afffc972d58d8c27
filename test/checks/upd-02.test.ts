import { upd02 } from "../../src/checks/upd-02.js";
import { hardenedFacts } from "../helpers/facts.js";
import { testControl } from "./control-tester.js";

const s = hardenedFacts().apps.aptSources[0]!;
testControl(upd02, import.meta.url, [
  { name: "Debian 12", status: "pass", messages: ["ok"] },
  {
    name: "Debian testing (no VERSION_ID)",
    facts: hardenedFacts({
      updates: {
        osRelease: { ID: "debian", VERSION_ID: "", PRETTY_NAME: "Debian GNU/Linux trixie/sid" },
      },
    }),
    status: "fail",
    messages: ["release"],
  },
  {
    name: "sid sources",
    facts: hardenedFacts({ apps: { aptSources: [{ ...s, suites: ["sid"] }] } }),
    status: "fail",
    messages: ["rolling"],
    exact: true,
  },
]);
