import { disk05 } from "../../src/checks/disk-05.js";
import { firstBootFacts, hardenedFacts, hardenedVolume } from "../helpers/facts.js";
import { makeProfile } from "../helpers/profile.js";
import { testControl } from "./control-tester.js";

const v = hardenedVolume();
const extra = { id: "2", type: "luks2", keyBytes: 64, kdf: { type: "argon2id", memory: 1048576 } };
/** An image before first boot whose volume has a second passphrase slot besides the technician's. */
function firstBootTwoPassphrases() {
  const facts = firstBootFacts({});
  facts.disk.volumes[0]!.keyslots.push(extra);
  return facts;
}

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
    name: "image before first boot: the technician's slot, wiped by the installed first-boot enrolment: pending",
    facts: firstBootFacts({}),
    status: "pending",
    messages: ["strayPassphrasePending"],
    data: { keyslot: "1", unit: "koffer-tpm2-enrol.service" },
    exact: true,
  },
  {
    name: "first-boot enrolment with its unit disabled: the technician's slot stays, fail",
    facts: firstBootFacts({}, "disabled"),
    status: "fail",
    messages: ["strayPassphrase"],
    exact: true,
  },
  {
    name: "first-boot enrolment pending but two passphrase slots (only one is wiped): fail",
    facts: firstBootTwoPassphrases(),
    status: "fail",
    messages: ["strayPassphrase"],
    data: { count: 2 },
    exact: true,
  },
  {
    name: "passphrase unlock by profile: the first-boot enrolment does not excuse a second passphrase",
    profile: makeProfile({ spec: { disk: { unlock: "passphrase" } } }),
    facts: firstBootTwoPassphrases(),
    status: "fail",
    messages: ["strayPassphrase"],
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
