/**
 * USBGuard (USB-01, USB-03): the rules file from the device inventory in canonical form
 * (through the same printer usbguard itself uses), the daemon configuration with an
 * implicit block, and the service enabled. usbguard's own postinst leaves an empty or
 * build-host policy behind, so koffer owns both files outright.
 */
import { covers, daemonSettings } from "../../checks/usb-01.js";
import { setting } from "../../checks/util.js";
import { managedPath } from "../../facts/managed.js";
import { formatRule, parseRule } from "../../facts/usbguard-rules.js";
import type { Profile } from "../../profiles/types.js";
import type { Change } from "../types.js";
import { commentText, enableUnit, fileChange, header, quoted, type PlanContext } from "./common.js";

const resource = "usbguard";
/** Keystroke-injection gadgets: a "keyboard" that is also a storage device. */
export const hidStorageRule = "reject with-interface all-of { 08:*:* 03:00:* }";

/** rules.conf for the profile's allowlist; the reject rule first, because the first match wins. */
export function usbguardRules(profile: Profile): string {
  const lines = [
    header().trimEnd(),
    "# USB-03: reject devices that are storage and keyboard at once",
  ];
  lines.push(formatRule(parseRule(hidStorageRule)));
  for (const device of profile.spec.devices.allow) {
    lines.push(`# ${commentText(device.name)} (${device.role})`);
    for (const id of device.usb) {
      let text = `allow id ${id}`;
      if (device.serial !== undefined) text += ` serial ${quoted(device.serial)}`;
      if (device.interfaces !== undefined && device.interfaces.length > 0)
        text += ` with-interface equals { ${device.interfaces.join(" ")} }`;
      lines.push(formatRule(parseRule(text)));
    }
  }
  lines.push("# everything else: ImplicitPolicyTarget=block (usbguard-daemon.conf)");
  return lines.join("\n") + "\n";
}

export const usbguardDaemonConf = `${header()}RuleFile=/etc/usbguard/rules.conf
ImplicitPolicyTarget=block
PresentDevicePolicy=apply-policy
PresentControllerPolicy=keep
InsertedDevicePolicy=apply-policy
AuthorizedDefault=none
RestoreControllerDeviceState=false
DeviceManagerBackend=uevent
IPCAllowedUsers=root
IPCAllowedGroups=
IPCAccessControlFiles=/etc/usbguard/IPCAccessControl.d/
DeviceRulesWithPort=false
AuditBackend=LinuxAudit
AuditFilePath=/var/log/usbguard/usbguard-audit.log
HidePII=false
`;

/** The rules in effect already do what USB-01/02/03 ask (judged as the checks judge). */
function rulesSatisfied(ctx: PlanContext): boolean {
  const usb = ctx.facts.usb;
  if (!usb.usbguardInstalled || usb.ruleErrors.length > 0) return false;
  const allowed = ctx.profile.spec.devices.allow.flatMap((d) => d.usb);
  const allowRules = usb.rules.filter((r) => r.target === "allow");
  const listed = allowRules.every(
    (r) =>
      r.ids.length > 0 &&
      r.ids.every((p) => !p.includes("*") && allowed.includes(p.toLowerCase())) &&
      !(r.withInterface?.values.some((v) => v.startsWith("08:")) ?? false),
  );
  const complete = allowed.every((id) => allowRules.some((r) => r.ids.some((p) => covers(p, id))));
  const reject = usb.rules.some(
    (r) =>
      (r.target === "reject" || r.target === "block") &&
      r.withInterface !== null &&
      ["all-of", "match-all"].includes(r.withInterface.operator) &&
      r.withInterface.values.some((v) => v.startsWith("08:")) &&
      r.withInterface.values.some((v) => v.startsWith("03:")),
  );
  return listed && complete && reject;
}

function daemonSatisfied(ctx: PlanContext): boolean {
  const conf = ctx.facts.usb.daemonConf;
  if (!ctx.facts.usb.usbguardInstalled) return false;
  // Rules from a RuleFolder would add to the allowlist; koffer's configuration has none.
  if (setting(conf, "RuleFolder") !== undefined) return false;
  return daemonSettings.every(([key, wanted, fallback]) =>
    wanted.includes(setting(conf, key)?.value ?? fallback),
  );
}

export function planUsbguard(ctx: PlanContext): Change[] {
  return [
    ...fileChange(ctx, {
      resource,
      path: managedPath.usbguardRules,
      content: usbguardRules(ctx.profile),
      mode: 0o600,
      summary: `USBGuard allowlist: ${ctx.profile.spec.devices.allow.length} devices, HID+storage rejected`,
      controls: ["USB-01", "USB-02", "USB-03"],
      satisfied: rulesSatisfied(ctx),
    }),
    ...fileChange(ctx, {
      resource,
      path: managedPath.usbguardDaemon,
      content: usbguardDaemonConf,
      mode: 0o600,
      summary: "USBGuard daemon: implicit policy block, present and inserted devices checked",
      controls: ["USB-01"],
      satisfied: daemonSatisfied(ctx),
    }),
    ...enableUnit(ctx, "usbguard.service", resource, ["USB-01"], "usbguard"),
  ];
}
