import { net02 } from "../../src/checks/net-02.js";
import { hardenedFacts, live, withPackages } from "../helpers/facts.js";
import { makeProfile } from "../helpers/profile.js";
import { testControl } from "./control-tester.js";

testControl(net02, import.meta.url, [
  { name: "nothing listening", status: "pass", messages: ["ok"], exact: true },
  {
    name: "remote-access package on hold",
    facts: (() => {
      const f = hardenedFacts();
      const held = { name: "x11vnc", version: "0.9.16-9", status: "hi" };
      return { ...f, apps: { ...f.apps, packages: [...f.apps.packages, held] } };
    })(),
    status: "fail",
    messages: ["package"],
    data: { package: "x11vnc" },
    exact: true,
  },
  {
    name: "sshd enabled and installed",
    facts: withPackages(hardenedFacts({ services: { unitFiles: { "ssh.service": "enabled" } } }), [
      "openssh-server",
    ]),
    status: "fail",
    messages: ["unit", "package"],
    exact: true,
  },
  {
    name: "sshd allowed by the profile",
    profile: makeProfile({ spec: { network: { ssh: true } } }),
    facts: withPackages(hardenedFacts({ services: { unitFiles: { "ssh.service": "enabled" } } }), [
      "openssh-server",
    ]),
    status: "pass",
    messages: ["ok"],
  },
  {
    name: "live listener on all addresses",
    facts: hardenedFacts({
      network: {
        listeners: live(
          [{ proto: "tcp", address: "0.0.0.0", port: 5900, process: "x11vnc" }],
          "ss -tulpn",
        ),
      },
    }),
    status: "fail",
    messages: ["listener"],
    data: { port: 5900 },
  },
  {
    // What the booted laptop shows (test/rig): charon's IKE and NAT-T sockets.
    name: "the VPN client's own IKE sockets",
    facts: hardenedFacts({
      network: {
        listeners: live(
          [
            { proto: "udp", address: "0.0.0.0", port: 500, process: "charon-systemd" },
            { proto: "udp", address: "[::]", port: 4500, process: "charon-systemd" },
          ],
          "ss -tulpn",
        ),
      },
    }),
    status: "pass",
    messages: ["ok"],
  },
  {
    name: "another program on the IKE port",
    facts: hardenedFacts({
      network: {
        listeners: live(
          [{ proto: "udp", address: "0.0.0.0", port: 500, process: "socat" }],
          "ss -tulpn",
        ),
      },
    }),
    status: "fail",
    messages: ["listener"],
  },
]);
