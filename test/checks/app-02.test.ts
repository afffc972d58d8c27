import { app02 } from "../../src/checks/app-02.js";
import { hardenedFacts, withPackages } from "../helpers/facts.js";
import { testControl } from "./control-tester.js";

const f = hardenedFacts();
testControl(app02, import.meta.url, [
  { name: "approved software only", status: "pass", messages: ["ok"], exact: true },
  {
    name: "gcc installed",
    facts: withPackages(f, ["gcc"]),
    status: "fail",
    messages: ["denied"],
    data: { package: "gcc" },
    exact: true,
  },
  {
    name: "denied package only configured (rc) counts as absent",
    facts: {
      ...f,
      apps: {
        ...f.apps,
        packages: [...f.apps.packages, { name: "gcc", version: "1", status: "rc" }],
      },
    },
    status: "pass",
    messages: ["ok"],
  },
  {
    name: "denied package on hold (hi) is still installed",
    facts: {
      ...f,
      apps: {
        ...f.apps,
        packages: [...f.apps.packages, { name: "gcc", version: "4:12.2.0-3", status: "hi" }],
      },
    },
    status: "fail",
    messages: ["denied"],
    data: { package: "gcc", version: "4:12.2.0-3" },
  },
  {
    name: "denied package half-configured (iF) has its files on disk",
    facts: {
      ...f,
      apps: {
        ...f.apps,
        packages: [...f.apps.packages, { name: "gcc", version: "1", status: "iF" }],
      },
    },
    status: "fail",
    messages: ["denied"],
  },
  {
    name: "unapproved desktop app",
    facts: hardenedFacts({
      apps: {
        desktopEntries: [
          ...f.apps.desktopEntries,
          {
            path: "/usr/share/applications/gimp.desktop",
            name: "GIMP",
            exec: "gimp",
            noDisplay: false,
            hidden: false,
            package: "gimp",
          },
        ],
      },
    }),
    status: "fail",
    messages: ["desktopApp"],
    data: { package: "gimp" },
  },
  {
    name: "a launcher GNOME does not list (its program is missing) is no desktop app",
    facts: hardenedFacts({
      apps: {
        desktopEntries: [
          ...f.apps.desktopEntries,
          {
            path: "/usr/local/share/applications/anydesk.desktop",
            name: "AnyDesk",
            exec: "/opt/anydesk/anydesk",
            noDisplay: false,
            hidden: false,
            package: null,
            notShown: "program /opt/anydesk/anydesk of Exec= not found",
          },
        ],
      },
    }),
    status: "pass",
    messages: ["ok"],
  },
]);
