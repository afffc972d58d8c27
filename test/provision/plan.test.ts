import { describe, expect, it } from "vitest";
import { managedPaths } from "../../src/facts/managed.js";
import { planProvision } from "../../src/provision/plan.js";
import type { Change } from "../../src/provision/types.js";
import { hardenedFacts, judgedAt, withPackages } from "../helpers/facts.js";
import { makeProfile } from "../helpers/profile.js";

const now = judgedAt;

describe("planProvision", () => {
  it("plans nothing for a hardened laptop", () => {
    expect(planProvision(makeProfile(), hardenedFacts(), { now })).toEqual([]);
  });

  it("orders packages, files, units, accounts, disk, certificate", () => {
    const facts = withPackages(
      hardenedFacts({
        services: { unitFiles: { "usbguard.service": "disabled", "bluetooth.service": "enabled" } },
        accounts: { shadow: [{ name: "root", locked: false, empty: false, scheme: "yescrypt" }] },
        usb: { modprobeBlocked: [] },
        vpn: { certificates: [] },
      }),
      ["anydesk"],
      ["auditd"],
    );
    const changes = planProvision(makeProfile(), facts, { now });
    const kinds = changes.map((c) => c.kind);
    const order = [
      "purge-packages",
      "install-packages",
      "write-file",
      "enable-unit",
      "mask-unit",
      "lock-account",
      "vpn-certificate",
    ];
    expect(kinds).toEqual(order);
    expect(changes.find((c) => c.kind === "purge-packages")).toMatchObject({
      packages: ["anydesk"],
    });
    expect(changes.find((c) => c.kind === "install-packages")).toMatchObject({
      packages: ["auditd"],
    });
    expect(changes.find((c) => c.kind === "vpn-certificate")).toMatchObject({ action: "request" });
  });

  it("writes only paths the managed-files gatherer records", () => {
    const profile = makeProfile({ spec: { data: { browser: { name: "firefox-esr" } } } });
    // Every managed file absent: everything koffer owns outright is written.
    const facts = {
      ...hardenedFacts(),
      managedFiles: Object.fromEntries(managedPaths(profile).map((p) => [p, null])),
    };
    const writes = planProvision(profile, facts, { now }).filter(
      (c): c is Extract<Change, { kind: "write-file" }> => c.kind === "write-file",
    );
    expect(writes.length).toBe(24);
    const known = new Set(managedPaths(profile));
    for (const w of writes) expect(known, w.path).toContain(w.path);
    for (const w of writes)
      expect(w.content.split("\n").slice(0, 3).join("\n")).toMatch(/Managed by koffer/);
  });
});
