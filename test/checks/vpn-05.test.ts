import { vpn05 } from "../../src/checks/vpn-05.js";
import { caCertificate, hardenedFacts } from "../helpers/facts.js";
import { testControl } from "./control-tester.js";
import { vpnPki } from "./vpn-pki.js";

const pki = await vpnPki();
const f = hardenedFacts();
const conn = f.vpn.swanctl.connections[0]!;
const ours = caCertificate({ pem: pki.ca.pem, sha256Fingerprint: pki.ca.sha256 });
const foreign = caCertificate({
  path: "/etc/swanctl/x509ca/foreign.pem",
  subject: pki.foreignCa.subject,
  pem: pki.foreignCa.pem,
  sha256Fingerprint: pki.foreignCa.sha256,
});
const ctx = { vpnCa: pki.ca };
testControl(vpn05, import.meta.url, [
  {
    name: "pinned id and only our CA",
    facts: hardenedFacts({ vpn: { caCertificates: [ours] } }),
    context: ctx,
    status: "pass",
    messages: ["ok"],
    exact: true,
  },
  {
    name: "foreign CA trusted too",
    facts: hardenedFacts({ vpn: { caCertificates: [ours, foreign] } }),
    context: ctx,
    status: "fail",
    messages: ["foreignCa"],
    exact: true,
  },
  {
    name: "gateway id %any",
    facts: hardenedFacts({
      vpn: {
        caCertificates: [ours],
        swanctl: {
          connections: [
            { ...conn, remote: [{ auth: "pubkey", id: "%any", cacerts: ["meerane-vpn-ca.pem"] }] },
          ],
        },
      },
    }),
    context: ctx,
    status: "fail",
    messages: ["remoteId"],
  },
  {
    name: "no cacerts pinning",
    facts: hardenedFacts({
      vpn: {
        caCertificates: [ours],
        swanctl: { connections: [{ ...conn, remote: [{ ...conn.remote[0]!, cacerts: [] }] }] },
      },
    }),
    context: ctx,
    status: "fail",
    messages: ["cacerts"],
  },
  {
    name: "no CA at all",
    facts: hardenedFacts({ vpn: { caCertificates: [] } }),
    context: ctx,
    status: "fail",
    messages: ["noCa"],
  },
  { name: "profile names no CA", status: "skip", messages: ["caUnchecked"] },
  {
    name: "no connection",
    facts: hardenedFacts({ vpn: { swanctl: { connections: [] } } }),
    status: "fail",
    messages: ["noConnection"],
  },
]);
