/**
 * GNOME settings through a dconf system database with locks (ACC-03, USB-02): screen lock
 * after at most the profile's seconds, immediately, and no automount of media. The keyfiles
 * take effect only once compiled into /etc/dconf/db/local (nothing on Debian compiles them at
 * boot), so a compile follows whenever a keyfile changes or the database is older than one.
 */
import { falsy } from "../../checks/util.js";
import { managedPath } from "../../facts/managed.js";
import type { Change } from "../types.js";
import { fileChange, header, installed, type PlanContext } from "./common.js";

const idleKey = "org/gnome/desktop/session/idle-delay";
const lockKey = "org/gnome/desktop/screensaver/lock-enabled";
const delayKey = "org/gnome/desktop/screensaver/lock-delay";
const automountKey = "org/gnome/desktop/media-handling/automount";
const automountOpenKey = "org/gnome/desktop/media-handling/automount-open";

export const dconfProfile = `${header()}user-db:user\nsystem-db:local\n`;

export function dconfKeyfile(seconds: number): string {
  return `${header()}[org/gnome/desktop/session]
idle-delay=uint32 ${seconds}

[org/gnome/desktop/screensaver]
lock-enabled=true
lock-delay=uint32 0

[org/gnome/desktop/media-handling]
automount=false
automount-open=false
`;
}

export const dconfLocks = `${header()}${[idleKey, lockKey, delayKey, automountKey, automountOpenKey]
  .map((k) => `/${k}`)
  .join("\n")}\n`;

function number(value: string | undefined): number {
  return value === undefined ? Number.NaN : Number(value.trim().replace(/^u?int(32|64)\s+/, ""));
}

export function planDconf(ctx: PlanContext): Change[] {
  const dconf = ctx.facts.accounts.dconf;
  const max = ctx.profile.spec.accounts.screenLockSeconds;
  const idle = number(dconf.keys[idleKey]?.value);
  const locks = new Set(dconf.locks.map((l) => l.replace(/^\//, "")));
  const automount =
    !installed(ctx.facts, "udisks2") ||
    (falsy(dconf.keys[automountKey]?.value) && locks.has(automountKey));
  const keysOk =
    idle >= 1 &&
    idle <= max &&
    dconf.keys[lockKey]?.value.trim() === "true" &&
    number(dconf.keys[delayKey]?.value) === 0 &&
    automount;
  const locksOk = [idleKey, lockKey, delayKey].every((k) => locks.has(k)) && automount;
  const files = [
    ...fileChange(ctx, {
      resource: "dconf",
      path: managedPath.dconfProfile,
      content: dconfProfile,
      summary: "dconf user profile reads the system database local",
      controls: ["ACC-03"],
      satisfied: dconf.profileUserHasSystemDb,
    }),
    ...fileChange(ctx, {
      resource: "dconf",
      path: managedPath.dconfKeys,
      content: dconfKeyfile(max),
      summary: `screen lock after ${max} s, immediately; no automount`,
      controls: ["ACC-03", "USB-02"],
      satisfied: keysOk,
    }),
    ...fileChange(ctx, {
      resource: "dconf",
      path: managedPath.dconfLocks,
      content: dconfLocks,
      summary: "lock the screen-lock and automount settings against users",
      controls: ["ACC-03", "USB-02"],
      satisfied: locksOk,
    }),
  ];
  const stale = (dconf.databases ?? []).some(
    (db) =>
      db.name === "local" &&
      db.newestSourceMs !== null &&
      (db.compiledMs === null || db.compiledMs < db.newestSourceMs),
  );
  const keyfileChanged = files.some(
    (c) => c.kind === "write-file" && c.path.startsWith("/etc/dconf/db/"),
  );
  if (!stale && !keyfileChanged) return files;
  return [
    ...files,
    {
      kind: "compile-dconf",
      database: "local",
      resource: "dconf",
      controls: ["ACC-03", "USB-02"],
      summary: "compile the dconf database local: dconf reads only the compiled file",
    },
  ];
}
