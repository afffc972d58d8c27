import { describe, expect, it } from "vitest";
import { openTarget } from "../../src/targets/index.js";
import { gatherUsb, parseModprobeBlocked } from "../../src/facts/usb.js";
import { buildRoot } from "../helpers/root-tree.js";

const ctx = { profile: null, now: new Date() };

describe("usb gatherer", () => {
  it("reads daemon conf, rules.conf and RuleFolder through the rule parser, and modprobe blocks", async () => {
    const root = await buildRoot({
      packages: [{ name: "usbguard", version: "1.1.2+ds-3" }],
      files: {
        "/etc/usbguard/usbguard-daemon.conf":
          "RuleFile=/etc/usbguard/rules.conf\nRuleFolder=/etc/usbguard/rules.d/\nImplicitPolicyTarget=allow\n# later wins\nImplicitPolicyTarget=block\nPresentDevicePolicy=apply-policy\n",
        "/etc/usbguard/rules.conf":
          '# koffer\nallow id 0c4b:0500 serial "1234" with-interface equals { 0b:00:00 }\n\nallow with-interface equals { 08:*:* }\nallow id 12345\n',
        "/etc/usbguard/rules.d/50-reject.conf": "reject with-interface all-of { 08:*:* 03:00:* }\n",
        "/etc/modprobe.d/koffer-usb.conf":
          "blacklist usb-storage\ninstall uas /bin/false\ninstall foo /sbin/modprobe --ignore-install foo\n",
      },
    });
    const facts = await gatherUsb(await openTarget({ root }), ctx);
    expect(facts.usbguardInstalled).toBe(true);
    expect(facts.daemonConf.ImplicitPolicyTarget).toEqual({
      value: "block",
      source: "/etc/usbguard/usbguard-daemon.conf:5",
    });
    expect(facts.rules.map((r) => [r.target, r.source])).toEqual([
      ["allow", "/etc/usbguard/rules.conf:2"],
      ["allow", "/etc/usbguard/rules.conf:4"],
      ["reject", "/etc/usbguard/rules.d/50-reject.conf:1"],
    ]);
    expect(facts.rules[0]).toMatchObject({ ids: ["0c4b:0500"], hasSerial: true });
    expect(facts.rules[1]?.withInterface).toEqual({ operator: "equals", values: ["08:*:*"] });
    expect(facts.ruleErrors).toHaveLength(1);
    expect(facts.ruleErrors[0]?.source).toMatch(/^\/etc\/usbguard\/rules\.conf:5:\d+$/);
    expect(facts.modprobeBlocked).toEqual(["uas", "usb_storage"]);
    expect(facts.attached.available).toBe(false);
  });

  it("usbguard absent: not installed, no rules", async () => {
    const facts = await gatherUsb(await openTarget({ root: await buildRoot({}) }), ctx);
    expect(facts).toMatchObject({ usbguardInstalled: false, rules: [], daemonConf: {} });
  });

  // libkmod kmod_module_get_install_commands(): the FIRST install line whose module pattern
  // matches (files in name order, lines in order) is the one modprobe runs; later ones are dead.
  it("an earlier install command wins over a later /bin/false (kmod: first match)", async () => {
    const root = await buildRoot({
      files: {
        "/etc/modprobe.d/00-local.conf":
          "install usb_storage /sbin/modprobe --ignore-install usb_storage $CMDLINE_OPTS\ninstall ua* /sbin/modprobe --ignore-install uas\n",
        "/etc/modprobe.d/koffer-usb-storage.conf":
          "install usb_storage /bin/false\ninstall uas /bin/false\n",
        "/etc/modprobe.d/zz-dm.conf": "blacklist dm_crypt\ninstall dm-mod /bin/false\n",
      },
    });
    const facts = await gatherUsb(await openTarget({ root }), ctx);
    expect(facts.modprobeBlocked).toEqual(["dm_crypt", "dm_mod"]);
  });

  it("parses modprobe lines", () => {
    expect(parseModprobeBlocked("install usb_storage /bin/true\n# blacklist uas\n")).toEqual([
      "usb_storage",
    ]);
  });
});
