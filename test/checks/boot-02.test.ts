import { boot02 } from "../../src/checks/boot-02.js";
import { hardenedFacts, live } from "../helpers/facts.js";
import { testControl } from "./control-tester.js";

testControl(boot02, import.meta.url, [
  { name: "offline image", status: "skip", messages: ["unavailable"] },
  {
    name: "live TPM 2.0",
    facts: hardenedFacts({ boot: { tpm: live({ present: true, version: 2 }, "/sys/class/tpm") } }),
    status: "pass",
    messages: ["ok"],
  },
  {
    name: "live TPM 1.2",
    facts: hardenedFacts({ boot: { tpm: live({ present: true, version: 1 }, "/sys/class/tpm") } }),
    status: "fail",
    messages: ["missing"],
    data: { actual: "TPM 1" },
  },
  {
    name: "no TPM",
    facts: hardenedFacts({
      boot: { tpm: live({ present: false, version: null }, "/sys/class/tpm") },
    }),
    status: "fail",
    messages: ["missing"],
    data: { actual: "no TPM" },
  },
]);
