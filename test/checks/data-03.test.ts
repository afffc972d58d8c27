import { data03 } from "../../src/checks/data-03.js";
import { hardenedFacts, settings } from "../helpers/facts.js";
import { makeProfile } from "../helpers/profile.js";
import { testControl } from "./control-tester.js";

const f = hardenedFacts();
const limit = (domain: string, type: string, value: string, source: string) => ({
  domain,
  type,
  value,
  source,
});
testControl(data03, import.meta.url, [
  {
    name: "the wildcard is 0 but root may dump",
    facts: {
      ...f,
      data: {
        ...f.data,
        coreLimits: [
          ...f.data.coreLimits,
          {
            domain: "root",
            type: "hard",
            value: "unlimited",
            source: "/etc/security/limits.d/debug.conf:1",
          },
        ],
      },
    },
    status: "fail",
    messages: ["limit"],
    data: { actual: "root hard core unlimited" },
    exact: true,
  },
  { name: "core dumps off", status: "pass", messages: ["ok"], exact: true },
  // Debian 13's systemd ships 10-coredump-debian.conf; pam_limits lets the root line win over
  // any "*" line, wherever it stands, and a later root line win over an earlier one.
  {
    name: "Debian 13: root hard core infinity is not overridden by a later * line",
    facts: {
      ...f,
      data: {
        ...f.data,
        coreLimits: [
          limit("root", "hard", "infinity", "/etc/security/limits.d/10-coredump-debian.conf:4"),
          limit("*", "hard", "0", "/etc/security/limits.d/90-koffer.conf:2"),
        ],
      },
    },
    status: "fail",
    messages: ["limit"],
    data: { actual: "root hard core infinity" },
    exact: true,
  },
  {
    name: "Debian 13: a later root line restores 0",
    facts: {
      ...f,
      data: {
        ...f.data,
        coreLimits: [
          limit("*", "hard", "infinity", "/etc/security/limits.d/10-coredump-debian.conf:3"),
          limit("root", "hard", "infinity", "/etc/security/limits.d/10-coredump-debian.conf:4"),
          limit("*", "hard", "0", "/etc/security/limits.d/90-koffer.conf:2"),
          limit("root", "-", "0", "/etc/security/limits.d/90-koffer.conf:4"),
        ],
      },
    },
    status: "pass",
    messages: ["ok"],
    exact: true,
  },
  {
    name: "core dumps on",
    facts: {
      ...f,
      data: {
        ...f.data,
        coreLimits: [],
        coredump: settings("/etc/systemd/coredump.conf", { Storage: "external" }),
      },
    },
    status: "fail",
    messages: ["limit", "coredump"],
    exact: true,
  },
  {
    name: "suid dumps",
    facts: hardenedFacts({
      data: { sysctl: { "fs.suid_dumpable": { value: "2", source: "x:1" } } },
    }),
    status: "fail",
    messages: ["suidDumpable"],
  },
  {
    // issue 11, found by the live oracle: with no file setting it the kernel's default 0 stays
    name: "fs.suid_dumpable set by no file: the kernel default 0",
    facts: (() => {
      const f = hardenedFacts();
      delete f.data.sysctl["fs.suid_dumpable"];
      return f;
    })(),
    status: "pass",
    messages: ["ok"],
    exact: true,
  },
  {
    name: "allowed",
    profile: makeProfile({ spec: { data: { coreDumps: true } } }),
    status: "not-applicable",
    messages: ["notRequired"],
  },
]);
