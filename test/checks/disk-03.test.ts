import { disk03 } from "../../src/checks/disk-03.js";
import { hardenedFacts, hardenedVolume } from "../helpers/facts.js";
import { testControl } from "./control-tester.js";

const v = hardenedVolume();
const slot0 = v.keyslots[0]!;
testControl(disk03, import.meta.url, [
  {
    name: "argon2id recovery slot, pbkdf2 only on the TPM slot",
    status: "pass",
    messages: ["ok"],
    exact: true,
  },
  {
    name: "pbkdf2 passphrase slot",
    facts: hardenedFacts({
      disk: {
        volumes: [
          {
            ...v,
            keyslots: [
              { ...slot0, kdf: { type: "pbkdf2", hash: "sha256", iterations: 1000 } },
              v.keyslots[1]!,
            ],
          },
        ],
      },
    }),
    status: "fail",
    messages: ["kdf"],
    data: { kdf: "pbkdf2-sha256", keyslot: "0" },
  },
  {
    name: "pbkdf2 slot once the TPM token is gone",
    facts: hardenedFacts({ disk: { volumes: [{ ...v, tokens: [v.tokens[0]!] }] } }),
    status: "fail",
    messages: ["kdf"],
    data: { keyslot: "1" },
  },
  {
    name: "argon2i",
    facts: hardenedFacts({
      disk: {
        volumes: [{ ...v, keyslots: [{ ...slot0, kdf: { type: "argon2i", memory: 1048576 } }] }],
      },
    }),
    status: "fail",
    messages: ["kdf"],
    data: { kdf: "argon2i" },
  },
  {
    name: "argon2id with 16 KiB",
    facts: hardenedFacts({
      disk: {
        volumes: [{ ...v, keyslots: [{ ...slot0, kdf: { type: "argon2id", memory: 16 } }] }],
      },
    }),
    status: "fail",
    messages: ["memory"],
    data: { memory: 16 },
  },
  {
    name: "LUKS1 header without an active keyslot (cryptsetup's valid_header_file)",
    facts: hardenedFacts({ disk: { volumes: [{ ...v, version: 1, keyslots: [], tokens: [] }] } }),
    status: "fail",
    messages: ["luks1Kdf"],
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
