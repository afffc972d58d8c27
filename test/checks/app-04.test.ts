import { app04 } from "../../src/checks/app-04.js";
import { makeProfile } from "../helpers/profile.js";
import { testControl } from "./control-tester.js";

const base = makeProfile();
testControl(app04, import.meta.url, [
  {
    name: "attested by a named person",
    status: "pass",
    messages: ["attested"],
    data: { by: "Erika Mustermann (KISA)" },
  },
  {
    name: "no attestation",
    profile: makeProfile({ spec: { attestations: [] } }),
    status: "fail",
    messages: ["notAttested"],
  },
  {
    name: "attestation without a person",
    profile: makeProfile({
      spec: {
        attestations: base.spec.attestations.map((a) =>
          a.control === "APP-04" ? { ...a, by: " " } : a,
        ),
      },
    }),
    status: "fail",
    messages: ["notAttested"],
  },
]);
