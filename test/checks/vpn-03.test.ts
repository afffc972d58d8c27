import { vpn03 } from "../../src/checks/vpn-03.js";
import { clientCertificate, hardenedFacts } from "../helpers/facts.js";
import { testControl } from "./control-tester.js";

const f = hardenedFacts();
const conn = f.vpn.swanctl.connections[0]!;
const key = f.vpn.privateKeys[0]!;
testControl(vpn03, import.meta.url, [
  { name: "ECDSA P-384, SHA-384, key 0600", status: "pass", messages: ["ok"], exact: true },
  {
    name: "RSA-2048 with SHA-1",
    facts: hardenedFacts({
      vpn: {
        certificates: [
          clientCertificate({
            keyType: "rsa",
            keyBits: 2048,
            curve: undefined,
            signatureAlgorithm: "sha1WithRSAEncryption",
          }),
        ],
      },
    }),
    status: "fail",
    messages: ["key", "signature"],
    data: { key: "RSA-2048" },
    exact: true,
  },
  {
    name: "RSA-3072 passes the key rule",
    facts: hardenedFacts({
      vpn: {
        certificates: [
          clientCertificate({
            keyType: "rsa",
            keyBits: 3072,
            curve: undefined,
            signatureAlgorithm: "sha256WithRSAEncryption",
          }),
        ],
      },
    }),
    status: "pass",
    messages: ["ok"],
  },
  {
    name: "Ed25519",
    facts: hardenedFacts({
      vpn: {
        certificates: [
          clientCertificate({
            keyType: "ed25519",
            keyBits: 256,
            curve: undefined,
            signatureAlgorithm: "ED25519",
          }),
        ],
      },
    }),
    status: "fail",
    messages: ["key"],
  },
  {
    name: "pre-shared key",
    facts: hardenedFacts({
      vpn: {
        swanctl: { connections: [{ ...conn, local: [{ auth: "psk", certs: [], id: null }] }] },
      },
    }),
    status: "fail",
    messages: ["auth"],
  },
  {
    name: "EAP-TTLS (a password inside TLS)",
    facts: hardenedFacts({
      vpn: {
        swanctl: {
          connections: [{ ...conn, local: [{ auth: "eap-ttls", certs: [], id: null }] }],
        },
      },
    }),
    status: "fail",
    messages: ["auth"],
    data: { auth: "eap-ttls" },
  },
  {
    name: "RSA-PSS public key authentication",
    facts: hardenedFacts({
      vpn: {
        swanctl: {
          connections: [{ ...conn, local: [{ ...conn.local[0]!, auth: "rsa/pss-sha384" }] }],
        },
      },
    }),
    status: "pass",
    messages: ["ok"],
  },
  {
    name: "no certificate",
    facts: hardenedFacts({ vpn: { certificates: [] } }),
    status: "fail",
    messages: ["noCertificate"],
  },
  {
    name: "key world-readable",
    facts: hardenedFacts({
      vpn: { privateKeys: [{ ...key, file: { ...key.file, mode: 0o644 } }] },
    }),
    status: "fail",
    messages: ["keyFileMode"],
    data: { mode: "0644" },
  },
  {
    name: "no key",
    facts: hardenedFacts({ vpn: { privateKeys: [] } }),
    status: "fail",
    messages: ["noKey"],
  },
]);
