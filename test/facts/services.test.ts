import { describe, expect, it } from "vitest";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { openTarget } from "../../src/targets/index.js";
import type { Target } from "../../src/targets/types.js";
import { gatherServices, parseIsEnabled, unitsOfInterest } from "../../src/facts/services.js";
import type { Profile } from "../../src/profiles/types.js";
import { buildRoot } from "../helpers/root-tree.js";

const ctx = { profile: null, now: new Date() };

describe("units of interest", () => {
  it("include every unit a control reads (an unasked unit reads as not-found, i.e. off)", () => {
    const dir = new URL("../../src/checks/", import.meta.url);
    const named = new Set<string>();
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".ts"))) {
      const text = readFileSync(new URL(file, dir), "utf8");
      for (const m of text.matchAll(/"([\w@.-]+\.(?:service|socket|timer|target|mount))"/g))
        named.add(m[1] as string);
    }
    expect(named.size).toBeGreaterThan(10);
    expect([...named].filter((u) => !unitsOfInterest.includes(u)).sort()).toEqual([]);
  });
});

describe("services gatherer on systemctl --root", () => {
  it("reports enabled, alias, masked, disabled and not-found units as systemd sees them", async () => {
    const root = await buildRoot({
      units: {
        "ssh.service": { alias: ["sshd.service"] },
        "cups.service": {},
        "wg-quick@.service": {},
      },
      enable: ["ssh.service", "usbguard.service", "nftables.service", "wg-quick@wg0.service"],
      mask: ["hibernate.target", "hybrid-sleep.target", "bluetooth.service"],
    });
    const facts = await gatherServices(await openTarget({ root }), ctx);
    expect(facts.unitFiles).toMatchObject({
      "ssh.service": "enabled",
      "sshd.service": "alias",
      "usbguard.service": "enabled",
      "nftables.service": "enabled",
      "cups.service": "disabled",
      "hibernate.target": "masked",
      "hybrid-sleep.target": "masked",
      "bluetooth.service": "masked",
      "suspend-then-hibernate.target": "not-found",
      "avahi-daemon.service": "not-found",
      "wg-quick@wg0.service": "enabled",
    });
    expect(facts.active).toEqual({ available: false, reason: "an offline root runs no services" });
  });

  it("asks about the profile's device services too", async () => {
    const root = await buildRoot({ enable: ["pcscd-koffer.service"] });
    const profile = {
      spec: { devices: { allow: [{ name: "reader", services: ["pcscd-koffer"] }] } },
    } as unknown as Profile;
    const facts = await gatherServices(await openTarget({ root }), { profile, now: new Date() });
    expect(facts.unitFiles["pcscd-koffer.service"]).toBe("enabled");
  });

  it("never runs a SysV script of the target", async () => {
    const root = await buildRoot({
      files: {
        "/etc/init.d/ssh": { content: "#!/bin/sh\ntouch /tmp/koffer-sysv-ran\n", mode: 0o755 },
      },
    });
    const facts = await gatherServices(await openTarget({ root }), ctx);
    expect(facts.unitFiles["ssh.service"]).toBe("not-found");
    expect(existsSync("/tmp/koffer-sysv-ran")).toBe(false);
  });

  it("answers units systemd finds only in its runtime, control and generator directories as systemctl does", async () => {
    const unit = "[Unit]\nDescription=x\n[Install]\nWantedBy=multi-user.target\n";
    const root = await buildRoot({
      files: {
        "/run/systemd/generator.late/ssh.service": unit,
        "/run/systemd/transient/cups.service": unit,
        "/etc/systemd/system.control/rsyslog.service": unit,
      },
    });
    const facts = await gatherServices(await openTarget({ root }), ctx);
    expect(facts.unitFiles).toMatchObject({
      "ssh.service": "generated",
      "cups.service": "transient",
      "rsyslog.service": "disabled",
      "avahi-daemon.service": "not-found",
    });
  });

  it("asks a running system's systemctl once, however many units are missing", async () => {
    const root = await buildRoot({
      units: { "ssh.service": { alias: ["sshd.service"] }, "wg-quick@.service": {} },
      enable: ["ssh.service", "wg-quick@wg0.service"],
      mask: ["bluetooth.service"],
    });
    const offline = await openTarget({ root });
    const expected = (await gatherServices(offline, ctx)).unitFiles;
    // The same tree as a running system would show it: systemctl is asked about the tree.
    const calls: string[][] = [];
    const live: Target = Object.assign(Object.create(offline) as Target, {
      kind: "local" as const,
      live: true,
      exec: (command: string, args: string[], options?: object) => {
        calls.push([command, ...args]);
        return offline.exec(command, [`--root=${root}`, ...args], options);
      },
    });
    const facts = await gatherServices(live, ctx);
    expect(facts.unitFiles).toEqual(expected);
    expect(facts.unitFiles["avahi-daemon.service"]).toBe("not-found");
    expect(calls.filter((c) => c[1] === "is-enabled")).toHaveLength(1);
  });

  it("parses is-enabled output that stops at a missing unit", () => {
    expect(
      parseIsEnabled(
        "enabled\nmasked\n",
        "Failed to get unit file state for x.service: No such file or directory\n",
      ),
    ).toEqual({ states: ["enabled", "masked"], stoppedAtMissing: true });
    expect(parseIsEnabled("weird\n", "").states).toEqual(["bad"]);
  });
});
