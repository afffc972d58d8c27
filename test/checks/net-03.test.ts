import { net03 } from "../../src/checks/net-03.js";
import { hardenedFacts, settings } from "../helpers/facts.js";
import { makeProfile } from "../helpers/profile.js";
import { testControl } from "./control-tester.js";

const ssh = makeProfile({ spec: { network: { ssh: true } } });
const hardened = settings("/etc/ssh/sshd_config.d/koffer.conf", {
  passwordauthentication: "no",
  kbdinteractiveauthentication: "no",
  permitrootlogin: "no",
  listenaddress: "10.99.0.7",
  kexalgorithms: "ecdh-sha2-nistp384,ecdh-sha2-nistp256",
  ciphers: "aes256-gcm@openssh.com,aes128-ctr",
  macs: "hmac-sha2-512-etm@openssh.com",
});
const tunnelProfile = makeProfile({
  spec: { network: { ssh: true, sshListenAddress: "10.99.0.7" } },
});
const bind = settings("/etc/sysctl.d/90-koffer-sshd.conf", { "net.ipv4.ip_nonlocal_bind": "1" });
const live = <T>(value: T) => ({ available: true as const, value, source: "ss -H -tulpn" });
const sshdOn = (address: string) => ({ proto: "tcp", address, port: 22, process: "sshd" });
testControl(net03, import.meta.url, [
  { name: "SSH not allowed", status: "not-applicable", messages: ["notApplicable"] },
  {
    name: "hardened sshd",
    profile: ssh,
    facts: hardenedFacts({ network: { sshd: hardened } }),
    status: "pass",
    messages: ["ok"],
  },
  {
    name: "passwords and root",
    profile: ssh,
    facts: hardenedFacts({
      network: {
        sshd: {
          ...hardened,
          passwordauthentication: { value: "yes", source: "x:1" },
          permitrootlogin: { value: "yes", source: "x:2" },
        },
      },
    }),
    status: "fail",
    messages: ["setting"],
    exact: true,
  },
  {
    name: "a Match block allows passwords",
    profile: ssh,
    facts: hardenedFacts({
      network: {
        sshd: hardened,
        sshdMatch: [
          {
            criteria: "Address 192.168.0.0/16",
            key: "passwordauthentication",
            value: "yes",
            source: "/etc/ssh/sshd_config:30",
          },
        ],
      },
    }),
    status: "fail",
    messages: ["setting"],
    exact: true,
    data: { key: "passwordauthentication (Match Address 192.168.0.0/16)", actual: "yes" },
  },
  {
    name: "a Match block that keeps the hardening",
    profile: ssh,
    facts: hardenedFacts({
      network: {
        sshd: hardened,
        sshdMatch: [
          { criteria: "User admin", key: "permitrootlogin", value: "No", source: "x:9" },
          { criteria: "User admin", key: "x11forwarding", value: "yes", source: "x:10" },
        ],
      },
    }),
    status: "pass",
    messages: ["ok"],
  },
  {
    name: "the tunnel address and the wildcard",
    profile: ssh,
    facts: hardenedFacts({
      network: {
        sshd: { ...hardened, listenaddress: { value: "10.99.0.7 0.0.0.0", source: "x:3" } },
      },
    }),
    status: "fail",
    messages: ["setting"],
    exact: true,
    data: { key: "listenaddress" },
  },
  {
    name: "OpenSSH defaults (curve25519)",
    profile: ssh,
    facts: hardenedFacts({
      network: { sshd: { passwordauthentication: { value: "no", source: "x:1" } } },
    }),
    status: "fail",
    messages: ["setting", "algorithms"],
  },
  {
    name: "the tunnel address without nonlocal bind: sshd cannot start at boot",
    profile: tunnelProfile,
    facts: hardenedFacts({ network: { sshd: hardened } }),
    status: "fail",
    messages: ["bootBind"],
    exact: true,
    data: { key: "net.ipv4.ip_nonlocal_bind", address: "10.99.0.7", actual: "(not set)" },
  },
  {
    name: "the tunnel address with nonlocal bind",
    profile: tunnelProfile,
    facts: hardenedFacts({ network: { sshd: hardened }, data: { sysctl: bind } }),
    status: "pass",
    messages: ["ok"],
  },
  {
    name: "an IPv6 tunnel address needs net.ipv6.ip_nonlocal_bind",
    profile: makeProfile({
      spec: { network: { ssh: true, sshListenAddress: "fd00:8::7" } },
    }),
    facts: hardenedFacts({
      network: {
        sshd: { ...hardened, listenaddress: { value: "[fd00:8::7]:22", source: "x:3" } },
      },
      data: { sysctl: bind },
    }),
    status: "fail",
    messages: ["bootBind"],
    exact: true,
    data: { key: "net.ipv6.ip_nonlocal_bind", address: "fd00:8::7" },
  },
  {
    name: "running: sshd listens on the tunnel address only",
    profile: tunnelProfile,
    facts: hardenedFacts({
      network: { sshd: hardened, listeners: live([sshdOn("10.99.0.7")]) },
      data: { sysctl: bind },
    }),
    status: "pass",
    messages: ["ok"],
  },
  {
    name: "running: sshd is down (it could not bind)",
    profile: tunnelProfile,
    facts: hardenedFacts({
      network: { sshd: hardened, listeners: live([]) },
      data: { sysctl: bind },
    }),
    status: "fail",
    messages: ["listening"],
    exact: true,
    data: { expected: "10.99.0.7", actual: "nothing (sshd is not listening)" },
  },
  {
    name: "running: sshd still listens everywhere (not reloaded)",
    profile: tunnelProfile,
    facts: hardenedFacts({
      network: { sshd: hardened, listeners: live([sshdOn("0.0.0.0"), sshdOn("::")]) },
      data: { sysctl: bind },
    }),
    status: "fail",
    messages: ["listening"],
    exact: true,
    data: { expected: "10.99.0.7", actual: "0.0.0.0, ::" },
  },
]);
