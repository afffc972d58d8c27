import { disk02 } from "../../src/checks/disk-02.js";
import { hardenedFacts, hardenedVolume } from "../helpers/facts.js";
import { testControl } from "./control-tester.js";

const v = hardenedVolume();
const keyslots256 = v.keyslots.map((k) => ({ ...k, keyBytes: 32 }));
testControl(disk02, import.meta.url, [
  { name: "aes-xts-plain64, 512 bits", status: "pass", messages: ["ok"], exact: true },
  {
    name: "256-bit XTS",
    facts: hardenedFacts({ disk: { volumes: [{ ...v, keyslots: keyslots256 }] } }),
    status: "fail",
    messages: ["keySize"],
    data: { bits: 256 },
    exact: true,
  },
  {
    name: "CBC cipher",
    facts: hardenedFacts({
      disk: {
        volumes: [
          { ...v, segments: [{ id: "0", type: "crypt", encryption: "aes-cbc-essiv:sha256" }] },
        ],
      },
    }),
    status: "fail",
    messages: ["cipher"],
    data: { cipher: "aes-cbc-essiv:sha256" },
  },
  {
    name: "no keyslots",
    facts: hardenedFacts({ disk: { volumes: [{ ...v, keyslots: [], tokens: [] }] } }),
    status: "fail",
    messages: ["keySizeUnknown"],
  },
  {
    name: "no crypt segment",
    facts: hardenedFacts({ disk: { volumes: [{ ...v, segments: [] }] } }),
    status: "fail",
    messages: ["noSegments"],
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
    facts: hardenedFacts({ disk: { volumes: [hardenedVolume({ error: "corrupted" })] } }),
    status: "error",
    messages: ["unreadable"],
  },
]);
