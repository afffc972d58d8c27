import { upd02 } from "../../src/checks/upd-02.js";
import { hardenedFacts } from "../helpers/facts.js";
import { makeProfile } from "../helpers/profile.js";
import { testControl } from "./control-tester.js";

const trixie = {
  ID: "debian",
  VERSION_ID: "13",
  VERSION_CODENAME: "trixie",
  PRETTY_NAME: "Debian GNU/Linux 13 (trixie)",
};

const s = hardenedFacts().apps.aptSources[0]!;
testControl(upd02, import.meta.url, [
  { name: "Debian 12", status: "pass", messages: ["ok"] },
  {
    name: "Debian 13 for a debian-13 profile",
    profile: makeProfile({ spec: { platform: "debian-13" } }),
    facts: hardenedFacts({ updates: { osRelease: trixie } }),
    status: "pass",
    messages: ["ok"],
    data: { expected: "debian 13" },
  },
  {
    name: "testing: os-release says 13, debian_version trixie/sid",
    profile: makeProfile({ spec: { platform: "debian-13" } }),
    facts: hardenedFacts({
      updates: {
        osRelease: trixie,
        release: {
          platform: null,
          id: "debian",
          versionId: "13",
          codename: "trixie",
          debianVersion: "trixie/sid",
          prettyName: trixie.PRETTY_NAME,
          source: "/etc/os-release, /etc/debian_version",
        },
      },
    }),
    status: "fail",
    messages: ["release"],
  },
  {
    name: "Debian 13 where the profile says debian-12",
    facts: hardenedFacts({ updates: { osRelease: trixie } }),
    status: "fail",
    messages: ["release"],
    data: { expected: "debian 12", actual: "Debian GNU/Linux 13 (trixie)" },
  },
  {
    name: "Debian testing (no VERSION_ID)",
    facts: hardenedFacts({
      updates: {
        osRelease: { ID: "debian", VERSION_ID: "", PRETTY_NAME: "Debian GNU/Linux trixie/sid" },
      },
    }),
    status: "fail",
    messages: ["release"],
  },
  {
    name: "sid sources",
    facts: hardenedFacts({ apps: { aptSources: [{ ...s, suites: ["sid"] }] } }),
    status: "fail",
    messages: ["rolling"],
    exact: true,
  },
]);
