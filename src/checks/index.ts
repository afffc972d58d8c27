/**
 * The control registry: every control of CONTROLS.md, in catalogue order.
 * Explicit on purpose (STYLE.md: no self-registration by import side effects);
 * a test keeps it equal to the directory and to the catalogue.
 */
import type { Control } from "./types.js";
import { disk01 } from "./disk-01.js";
import { disk02 } from "./disk-02.js";
import { disk03 } from "./disk-03.js";
import { disk04 } from "./disk-04.js";
import { disk05 } from "./disk-05.js";
import { disk06 } from "./disk-06.js";
import { boot01 } from "./boot-01.js";
import { boot02 } from "./boot-02.js";
import { boot03 } from "./boot-03.js";
import { boot04 } from "./boot-04.js";
import { vpn01 } from "./vpn-01.js";
import { vpn02 } from "./vpn-02.js";
import { vpn03 } from "./vpn-03.js";
import { vpn04 } from "./vpn-04.js";
import { vpn05 } from "./vpn-05.js";
import { vpn06 } from "./vpn-06.js";
import { vpn07 } from "./vpn-07.js";
import { vpn08 } from "./vpn-08.js";
import { net01 } from "./net-01.js";
import { net02 } from "./net-02.js";
import { net03 } from "./net-03.js";
import { net04 } from "./net-04.js";
import { usb01 } from "./usb-01.js";
import { usb02 } from "./usb-02.js";
import { usb03 } from "./usb-03.js";
import { usb04 } from "./usb-04.js";
import { app01 } from "./app-01.js";
import { app02 } from "./app-02.js";
import { app03 } from "./app-03.js";
import { app04 } from "./app-04.js";
import { app05 } from "./app-05.js";
import { upd01 } from "./upd-01.js";
import { upd02 } from "./upd-02.js";
import { upd03 } from "./upd-03.js";
import { acc01 } from "./acc-01.js";
import { acc02 } from "./acc-02.js";
import { acc03 } from "./acc-03.js";
import { acc04 } from "./acc-04.js";
import { acc05 } from "./acc-05.js";
import { acc06 } from "./acc-06.js";
import { log01 } from "./log-01.js";
import { log02 } from "./log-02.js";
import { log03 } from "./log-03.js";
import { time01 } from "./time-01.js";
import { data01 } from "./data-01.js";
import { data02 } from "./data-02.js";
import { data03 } from "./data-03.js";
import { data04 } from "./data-04.js";
import { data05 } from "./data-05.js";
import { data06 } from "./data-06.js";

/** Version of the catalogue the registry implements (CONTROLS.md). */
export const catalogueVersion = "2026.1";

/** Every control, in catalogue order. */
export const controls: readonly Control[] = [
  disk01,
  disk02,
  disk03,
  disk04,
  disk05,
  disk06,
  boot01,
  boot02,
  boot03,
  boot04,
  vpn01,
  vpn02,
  vpn03,
  vpn04,
  vpn05,
  vpn06,
  vpn07,
  vpn08,
  net01,
  net02,
  net03,
  net04,
  usb01,
  usb02,
  usb03,
  usb04,
  app01,
  app02,
  app03,
  app04,
  app05,
  upd01,
  upd02,
  upd03,
  acc01,
  acc02,
  acc03,
  acc04,
  acc05,
  acc06,
  log01,
  log02,
  log03,
  time01,
  data01,
  data02,
  data03,
  data04,
  data05,
  data06,
];

/** The control with this id, if any. */
export function controlById(id: string): Control | undefined {
  return controls.find((c) => c.meta.id === id);
}

export type { Control, ControlMeta, Finding, EvaluateContext } from "./types.js";
