import { usb04 } from "../../src/checks/usb-04.js";
import { makeProfile } from "../helpers/profile.js";
import { testControl } from "./control-tester.js";

const p = makeProfile();
testControl(usb04, import.meta.url, [
  { name: "certified fingerprint scanner", status: "pass", messages: ["ok"] },
  {
    name: "uncertified camera",
    profile: makeProfile({
      spec: {
        devices: {
          allow: [...p.spec.devices.allow, { name: "Webcam", role: "camera", usb: ["046d:0825"] }],
        },
      },
    }),
    status: "fail",
    messages: ["notCertified"],
    data: { device: "Webcam" },
  },
]);
