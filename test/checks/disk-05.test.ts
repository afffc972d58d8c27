import { disk05 } from "../../src/checks/disk-05.js";
import { hardenedFacts, hardenedVolume } from "../helpers/facts.js";
import { testControl } from "./control-tester.js";

const v = hardenedVolume();
const extra = { id: "2", type: "luks2", keyBytes: 64, kdf: { type: "argon2id", memory: 1048576 } };
testControl(disk05, import.meta.url, [
  { name: "one escrowed recovery key", status: "pass", messages: ["ok"], exact: true },
  {
    name: "stray passphrase slot",
    facts: hardenedFacts({ disk: { volumes: [{ ...v, keyslots: [...v.keyslots, extra] }] } }),
    status: "fail",
    messages: ["strayPassphrase"],
    data: { count: 1, keyslots: "2" },
    exact: true,
  },
  {
    name: "no recovery key",
    facts: hardenedFacts({ disk: { volumes: [{ ...v, tokens: [v.tokens[1]!] }] } }),
    status: "fail",
    messages: ["recoveryCount", "strayPassphrase"],
    data: { count: 0 },
  },
  {
    name: "not escrowed",
    facts: hardenedFacts({ disk: { escrowRecords: [] } }),
    status: "fail",
    messages: ["notEscrowed"],
    exact: true,
  },
  {
    name: "no header",
    facts: hardenedFacts({ disk: { volumes: [] } }),
    status: "skip",
    messages: ["noVolumes"],
  },
  {
    name: "no encrypted volume configured at all (plain installation): fail, not skip",
    facts: hardenedFacts({ disk: { volumes: [], crypttab: [] } }),
    status: "fail",
    messages: ["noEncryption"],
  },
  {
    name: "damaged header",
    facts: hardenedFacts({ disk: { volumes: [hardenedVolume({ error: "bad" })] } }),
    status: "error",
    messages: ["unreadable"],
  },
]);
