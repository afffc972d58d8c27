import { expect, it } from "vitest";
import { daysUntil, disallowedTokens, vpn02 } from "../../src/checks/vpn-02.js";
import { hardenedFacts, judgedAt } from "../helpers/facts.js";
import { makeProfile } from "../helpers/profile.js";
import { testControl } from "./control-tester.js";

const f = hardenedFacts();
const conn = f.vpn.swanctl.connections[0]!;
const child = conn.children[0]!;
const withConn = (c: Partial<typeof conn>) =>
  hardenedFacts({ vpn: { swanctl: { connections: [{ ...conn, ...c }] } } });
testControl(vpn02, import.meta.url, [
  {
    name: "aes256gcm16-prfsha384-ecp384 with PFS",
    status: "pass",
    messages: ["ok", "pqCountdown"],
    exact: true,
  },
  // The clock is test/helpers/facts.ts' judgedAt, 2026-06-01: 2,039 days to 2031-12-31.
  {
    name: "classical key exchange: days left until the end of 2031",
    status: "pass",
    messages: ["pqCountdown"],
    data: { horizon: "2031-12-31", groups: "ecp384", days: 2039 },
  },
  {
    name: "very high confidentiality: the horizon is the end of 2030",
    profile: makeProfile({
      metadata: {
        protectionNeeds: {
          confidentiality: "very-high",
          integrity: "high",
          availability: "normal",
        },
      },
    }),
    status: "pass",
    messages: ["pqCountdown"],
    data: { horizon: "2030-12-31", days: 1674 },
  },
  {
    name: "classical key exchange after 2031",
    context: { now: new Date("2032-01-05T08:00:00Z") },
    status: "fail",
    messages: ["pqExpired", "ok"],
    data: { horizon: "2031-12-31", days: 5 },
    exact: true,
  },
  {
    name: "hybrid ML-KEM key exchange",
    facts: withConn({ proposals: ["aes256gcm16-prfsha384-ecp384-ke1_mlkem768"] }),
    status: "pass",
    messages: ["ok", "pqHybrid"],
    exact: true,
  },
  {
    name: "a classical fallback keeps the countdown",
    facts: withConn({
      proposals: ["aes256gcm16-prfsha384-ecp384-ke1_mlkem768", "aes256gcm16-prfsha384-ecp384"],
    }),
    status: "pass",
    messages: ["ok", "pqCountdown"],
    exact: true,
  },
  {
    name: "hybrid required but classical configured",
    profile: makeProfile({ spec: { vpn: { postQuantum: "required" } } }),
    status: "fail",
    messages: ["pqRequired"],
    data: { proposal: "aes256gcm16-prfsha384-ecp384" },
  },
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
    messages: ["noPfs", "pqCountdown"],
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

it("counts whole UTC days to the horizon, 0 on the day itself", () => {
  expect(daysUntil("2031-12-31", judgedAt)).toBe(2039);
  expect(daysUntil("2031-12-31", new Date("2031-12-31T23:59:59Z"))).toBe(0);
  expect(daysUntil("2031-12-31", new Date("2032-01-01T00:00:00Z"))).toBe(-1);
});

it("accepts an optional additional key exchange (keN_none)", () => {
  expect(disallowedTokens("aes256gcm16-prfsha384-ecp384-ke1_mlkem768-ke1_none")).toEqual([]);
});
