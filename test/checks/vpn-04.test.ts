import { vpn04 } from "../../src/checks/vpn-04.js";
import { verifyCertificatePath } from "../../src/pki/path.js";
import { clientCertificate, hardenedFacts } from "../helpers/facts.js";
import { testControl } from "./control-tester.js";
import { vpnPki } from "./vpn-pki.js";

const pki = await vpnPki();
const now = new Date();
const inDays = (d: number) => new Date(now.getTime() + d * 86_400_000).toISOString();
const valid = clientCertificate({
  pem: pki.clientPem,
  notBefore: inDays(-1),
  notAfter: inDays(364),
});
const ctx = { now, vpnCa: pki.ca, verifyPath: verifyCertificatePath };
const factsWith = (c: typeof valid) => hardenedFacts({ vpn: { certificates: [c] } });
testControl(vpn04, import.meta.url, [
  {
    name: "valid, chains to the municipality CA",
    facts: factsWith(valid),
    context: ctx,
    status: "pass",
    messages: ["ok"],
    exact: true,
  },
  {
    name: "foreign CA",
    facts: factsWith({ ...valid, pem: pki.foreignClientPem, issuer: pki.foreignCa.subject }),
    context: ctx,
    status: "fail",
    messages: ["chain"],
    exact: true,
  },
  {
    name: "expired (judged a year later)",
    facts: factsWith(valid),
    context: { ...ctx, now: new Date(now.getTime() + 400 * 86_400_000) },
    status: "fail",
    messages: ["expired", "chain"],
  },
  {
    name: "not yet valid",
    facts: factsWith(valid),
    context: { ...ctx, now: new Date(now.getTime() - 10 * 86_400_000) },
    status: "fail",
    messages: ["notYetValid"],
  },
  {
    name: "inside the renewal window",
    facts: factsWith(valid),
    context: { ...ctx, now: new Date(now.getTime() + 350 * 86_400_000) },
    status: "fail",
    messages: ["renew"],
    exact: true,
  },
  {
    name: "beyond 2035",
    facts: factsWith({ ...valid, notAfter: "2036-06-30T00:00:00.000Z" }),
    context: ctx,
    status: "fail",
    messages: ["horizon"],
  },
  {
    name: "no CA in the profile",
    facts: factsWith(valid),
    context: { now },
    status: "skip",
    messages: ["chainUnchecked"],
  },
  {
    name: "no certificate",
    facts: hardenedFacts({ vpn: { certificates: [] } }),
    context: ctx,
    status: "fail",
    messages: ["noCertificate"],
  },
]);
