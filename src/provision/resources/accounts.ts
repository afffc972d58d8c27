/**
 * Accounts (ACC-01, ACC-02, ACC-05): the admin groups hold exactly the profile's admins,
 * root is locked, sudo logs, and no display manager or getty logs anyone in automatically.
 * koffer does not create or delete accounts; it adjusts the groups and files around them. A
 * personal account the profile does not approve is switched off — password locked and account
 * expired, as `usermod -L -e 1` does — never deleted: its home and files stay for a person to
 * review (they may hold applicant data that the Löschkonzept, not koffer, decides about).
 */
import { unapprovedAccounts } from "../../checks/acc-01.js";
import { sudoLogging } from "../../checks/acc-05.js";
import { managedPath } from "../../facts/managed.js";
import { unitDirs } from "../../facts/services.js";
import type { Change } from "../types.js";
import { fileChange, header, managedText, type PlanContext } from "./common.js";

const resource = "accounts";
const adminGroups = ["sudo", "admin", "wheel"];

export const sudoersDropIn = `${header()}# ACC-05: every sudo use is logged, in a pseudo-terminal
Defaults logfile="/var/log/sudo.log"
Defaults use_pty
`;

/** Autologin keys of gdm3 and LightDM; lines setting them are commented out. */
const autologinKey =
  /^\s*(AutomaticLoginEnable|AutomaticLogin|TimedLoginEnable|TimedLogin|autologin-user|autologin-session)\s*=/i;

function groups(ctx: PlanContext): Change[] {
  const admins = ctx.profile.spec.accounts.admins;
  const changes: Change[] = [];
  for (const group of ctx.facts.accounts.groups.filter((g) => adminGroups.includes(g.name))) {
    const members =
      group.name === "sudo" ? [...admins] : group.members.filter((m) => admins.includes(m));
    if ([...members].sort().join(",") === [...group.members].sort().join(",")) continue;
    changes.push({
      kind: "set-group-members",
      group: group.name,
      members,
      resource,
      controls: ["ACC-01"],
      summary: `group ${group.name}: ${members.join(", ") || "(no members)"} (was ${group.members.join(", ") || "none"})`,
    });
  }
  return changes;
}

function sudoers(ctx: PlanContext): Change[] {
  const acc = ctx.facts.accounts;
  const changes: Change[] = fileChange(ctx, {
    resource,
    path: managedPath.sudoers,
    content: sudoersDropIn,
    mode: 0o440,
    summary: "sudo logs to /var/log/sudo.log (use_pty)",
    controls: ["ACC-05"],
    // Judged exactly as ACC-05 judges it: `Defaults !syslog` or a user-scoped Defaults does not count.
    satisfied: sudoLogging(acc.sudoDefaults).length > 0,
  });
  // Drop-ins that grant sudo to anyone but root, the admin groups and the admins go.
  const allowed = new Set([
    "root",
    ...adminGroups.map((g) => `%${g}`),
    ...ctx.profile.spec.accounts.admins,
  ]);
  const stray = new Set(
    acc.sudoRules
      .filter((r) => !allowed.has(r.who))
      .map((r) => r.source.replace(/:\d+$/, ""))
      .filter((path) => path.startsWith("/etc/sudoers.d/") && path !== managedPath.sudoers),
  );
  for (const path of [...stray].sort())
    changes.push({
      kind: "remove-file",
      path,
      resource,
      controls: ["ACC-01"],
      summary: `remove ${path}: it grants sudo to accounts outside the profile's admins`,
    });
  return changes;
}

function autologin(ctx: PlanContext): Change[] {
  if (ctx.profile.spec.accounts.autologin) return [];
  const changes: Change[] = [];
  const files = [
    ...new Set(ctx.facts.accounts.autologin.map((a) => a.source.replace(/:\d+$/, ""))),
  ];
  for (const path of files.sort()) {
    if (path.startsWith("/etc/systemd/system/")) {
      changes.push({
        kind: "remove-file",
        path,
        resource,
        controls: ["ACC-02"],
        summary: `remove the getty autologin override ${path}`,
      });
      continue;
    }
    // A drop-in in another unit directory (vendor, /usr/local, /run): a file of the same name
    // in /etc/systemd/system hides it, as systemd reads drop-ins.
    const dropIn = /^(\/.+)\/([^/]+\.service\.d)\/([^/]+\.conf)$/.exec(path);
    if (dropIn !== null && unitDirs.includes(dropIn[1] as string)) {
      changes.push(
        ...fileChange(ctx, {
          resource,
          path: `/etc/systemd/system/${dropIn[2]}/${dropIn[3]}`,
          content: `# koffer: hides ${path}, which logs a console in automatically (ACC-02)\n`,
          summary: `hide the getty autologin drop-in ${path}`,
          controls: ["ACC-02"],
          satisfied: false,
        }),
      );
      continue;
    }
    const text = managedText(ctx.facts, path);
    if (text === null) continue; // not a file koffer edits; reported by ACC-02
    const next = text
      .split("\n")
      .map((line) =>
        autologinKey.test(line) ? `# ${line.trim()}  # koffer: no automatic login (ACC-02)` : line,
      )
      .join("\n");
    const known = ctx.facts.managedFiles?.[path];
    changes.push(
      ...fileChange(ctx, {
        resource,
        path,
        content: next,
        mode: known?.mode,
        uid: known?.uid,
        gid: known?.gid,
        summary: `${path}: no automatic login`,
        controls: ["ACC-02"],
        satisfied: false,
      }),
    );
  }
  return changes;
}

/** Lock and expire the personal accounts the profile does not approve (ACC-01). */
function unapproved(ctx: PlanContext): Change[] {
  return unapprovedAccounts(ctx.profile, ctx.facts, ctx.now)
    .filter((u) => !u.disabled)
    .map((u) => ({
      kind: "lock-account" as const,
      user: u.name,
      expire: true,
      resource,
      controls: ["ACC-01"],
      summary: `lock and expire ${u.name} (UID ${u.uid}): not among the profile's accounts; its home and files are kept`,
    }));
}

export function planAccounts(ctx: PlanContext): Change[] {
  const root = ctx.facts.accounts.shadow.find((s) => s.name === "root");
  const lock: Change[] =
    root !== undefined && (!root.locked || root.empty)
      ? [
          {
            kind: "lock-account",
            user: "root",
            resource,
            controls: ["ACC-05"],
            summary: "lock root's password (admin work goes through sudo)",
          },
        ]
      : [];
  return [...sudoers(ctx), ...autologin(ctx), ...groups(ctx), ...lock, ...unapproved(ctx)];
}
