/**
 * The catalogue table of CONTROLS.md (id, severity, kind), copied here because tests must
 * not read the design folder. Changing a row here means the contract changed.
 */
import type { ControlKind } from "../../src/report/types.js";
import type { Severity } from "../../src/profiles/types.js";

const rows = `
DISK-01 critical auto|DISK-02 high auto|DISK-03 high auto|DISK-04 high auto|DISK-05 high auto|DISK-06 high auto
BOOT-01 high auto|BOOT-02 medium auto|BOOT-03 medium attest|BOOT-04 medium auto
VPN-01 critical auto|VPN-02 high auto|VPN-03 critical auto|VPN-04 high auto|VPN-05 high auto|VPN-06 critical auto|VPN-07 medium auto|VPN-08 low situational
NET-01 critical auto|NET-02 high auto|NET-03 medium situational|NET-04 medium auto
USB-01 critical auto|USB-02 critical auto|USB-03 high auto|USB-04 medium auto
APP-01 high auto|APP-02 high auto|APP-03 high auto|APP-04 low attest|APP-05 medium situational
UPD-01 high auto|UPD-02 high auto|UPD-03 low situational
ACC-01 critical auto|ACC-02 high auto|ACC-03 high auto|ACC-04 medium auto|ACC-05 high auto|ACC-06 medium attest
LOG-01 high auto|LOG-02 medium auto|LOG-03 low situational|TIME-01 medium auto
DATA-01 high auto|DATA-02 medium auto|DATA-03 high auto|DATA-04 medium situational|DATA-05 medium attest|DATA-06 low attest`;

export const catalogue: { id: string; severity: Severity; kind: ControlKind }[] = rows
  .split(/[|\n]/)
  .map((r) => r.trim())
  .filter((r) => r !== "")
  .map((r) => {
    const [id, severity, kind] = r.split(" ") as [string, Severity, ControlKind];
    return { id, severity, kind };
  });
