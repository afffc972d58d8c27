import { expect, it } from "vitest";
import { disallowedTokens, vpn02 } from "../../src/checks/vpn-02.js";
import { hardenedFacts } from "../helpers/facts.js";
import { testControl } from "./control-tester.js";

const f = hardenedFacts();
const conn = f.vpn.swanctl.connections[0]!;
const child = conn.children[0]!;
const withConn = (c: Partial<typeof conn>) =>
  hardenedFacts({ vpn: { swanctl: { connections: [{ ...conn, ...c }] } } });
testControl(vpn02, import.meta.url, [
  { name: "aes256gcm16-prfsha384-ecp384 with PFS", status: "pass", messages: ["ok"], exact: true },
  {
    name: "no connection",
    facts: hardenedFacts({ vpn: { swanctl: { connections: [] } } }),
    status: "fail",
    messages: ["noConnection"],
  },
  {
    name: "default IKE proposals",
    facts: withConn({ proposals: [] }),
    status: "fail",
    messages: ["defaultProposals"],
    data: { kind: "IKE" },
  },
  {
    name: "default keyword",
    facts: withConn({ proposals: ["default"] }),
    status: "fail",
    messages: ["defaultProposals"],
  },
  {
    name: "3des, sha1, modp2048",
    facts: withConn({ proposals: ["3des-sha1-modp2048"] }),
    status: "fail",
    messages: ["disallowed"],
    data: { tokens: "3des, sha1, modp2048" },
  },
  {
    name: "ESP without PFS",
    facts: withConn({ children: [{ ...child, espProposals: ["aes256gcm16"] }] }),
    status: "fail",
    messages: ["noPfs"],
    exact: true,
  },
]);

it("accepts TR-02102-3 tokens incl. Brainpool and hybrid ML-KEM", () => {
  expect(disallowedTokens("aes256gcm16-prfsha512-ecp512bp-ke1_mlkem768")).toEqual([]);
  expect(disallowedTokens("aes256-sha384-modp3072")).toEqual([]);
  expect(disallowedTokens("chacha20poly1305-prfsha256-curve25519")).toEqual([
    "chacha20poly1305",
    "curve25519",
  ]);
});
