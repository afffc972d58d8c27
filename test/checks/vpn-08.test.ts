import { vpn08 } from "../../src/checks/vpn-08.js";
import { hardenedFacts } from "../helpers/facts.js";
import { makeProfile } from "../helpers/profile.js";
import { testControl } from "./control-tester.js";

const p = makeProfile({
  spec: { network: { uplinks: { apn: ["meerane.apn"], wlans: ["Rathaus"] } } },
});
const nm = (type: string, extra: object) => ({
  id: "c",
  type,
  autoconnect: true,
  source: "/etc/NetworkManager/system-connections/c.nmconnection",
  ...extra,
});
testControl(vpn08, import.meta.url, [
  { name: "no uplinks in the profile", status: "not-applicable", messages: ["notApplicable"] },
  {
    name: "approved APN and WLAN",
    profile: p,
    facts: hardenedFacts({
      network: {
        networkManager: [
          nm("gsm", { apn: "meerane.apn" }),
          nm("802-11-wireless", { ssid: "Rathaus" }),
        ],
      },
    }),
    status: "pass",
    messages: ["ok"],
  },
  {
    name: "café WLAN",
    profile: p,
    facts: hardenedFacts({
      network: { networkManager: [nm("802-11-wireless", { ssid: "Cafe" })] },
    }),
    status: "fail",
    messages: ["wlan"],
  },
  {
    name: "public APN",
    profile: p,
    facts: hardenedFacts({ network: { networkManager: [nm("gsm", { apn: "internet" })] } }),
    status: "fail",
    messages: ["apn"],
  },
]);
