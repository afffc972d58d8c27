import { app05 } from "../../src/checks/app-05.js";
import { testControl } from "./control-tester.js";

testControl(app05, import.meta.url, [
  {
    name: "profile has no root CA baseline",
    status: "not-applicable",
    messages: ["notApplicable"],
  },
]);
