/**
 * The control ids of the catalogue (CONTROLS.md). Profiles name them in waivers and
 * attestations, so the loader needs them without loading the checks themselves.
 * src/checks/ keeps its registry in step with this list (a test there compares them).
 */
export const controlIds = [
  "DISK-01",
  "DISK-02",
  "DISK-03",
  "DISK-04",
  "DISK-05",
  "DISK-06",
  "BOOT-01",
  "BOOT-02",
  "BOOT-03",
  "BOOT-04",
  "VPN-01",
  "VPN-02",
  "VPN-03",
  "VPN-04",
  "VPN-05",
  "VPN-06",
  "VPN-07",
  "VPN-08",
  "NET-01",
  "NET-02",
  "NET-03",
  "NET-04",
  "USB-01",
  "USB-02",
  "USB-03",
  "USB-04",
  "APP-01",
  "APP-02",
  "APP-03",
  "APP-04",
  "APP-05",
  "UPD-01",
  "UPD-02",
  "UPD-03",
  "ACC-01",
  "ACC-02",
  "ACC-03",
  "ACC-04",
  "ACC-05",
  "ACC-06",
  "LOG-01",
  "LOG-02",
  "LOG-03",
  "TIME-01",
  "DATA-01",
  "DATA-02",
  "DATA-03",
  "DATA-04",
  "DATA-05",
  "DATA-06",
] as const;

export type ControlId = (typeof controlIds)[number];

/** Organisational controls decided by a named person's attestation (kind `attest`). */
export const attestControlIds: readonly ControlId[] = [
  "BOOT-03",
  "APP-04",
  "ACC-06",
  "DATA-05",
  "DATA-06",
];

const known: ReadonlySet<string> = new Set(controlIds);

export function isControlId(id: string): id is ControlId {
  return known.has(id);
}
