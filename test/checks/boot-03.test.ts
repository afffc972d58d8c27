import { boot03 } from "../../src/checks/boot-03.js";
import { makeProfile } from "../helpers/profile.js";
import { testControl } from "./control-tester.js";

const base = makeProfile();
testControl(boot03, import.meta.url, [
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
          a.control === "BOOT-03" ? { ...a, by: " " } : a,
        ),
      },
    }),
    status: "fail",
    messages: ["notAttested"],
  },
]);
