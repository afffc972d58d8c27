/**
 * Desktop applications outside the allow list (APP-02, `desktopApps: strict`): a GNOME session
 * shows the first desktop entry of each id along XDG_DATA_DIRS, and an entry with
 * `Hidden=true` there means "deleted" (Desktop Entry Specification). So an override of the
 * same id in /usr/local/share/applications removes the launcher without purging the package
 * that brings it (vim-common, important in Debian, ships vim.desktop). APP-02 judges the same
 * view (src/facts/apps.ts), so fix and verdict agree. Packages the plan purges need no override.
 */
import type { Change } from "../types.js";
import { fileChange, header, type PlanContext } from "./common.js";
import { unwantedPackages } from "./packages.js";

export const desktopOverrideDir = "/usr/local/share/applications";

/** The override that hides one desktop entry. */
export function hiddenEntry(name: string): string {
  return `${header()}[Desktop Entry]\nType=Application\nName=${name.replace(/[\r\n]/g, " ")}\nHidden=true\n`;
}

export function planDesktop(ctx: PlanContext): Change[] {
  const apps = ctx.profile.spec.apps;
  if (apps.desktopApps !== "strict") return [];
  const purged = new Set(unwantedPackages(ctx.profile));
  const changes: Change[] = [];
  for (const entry of ctx.facts.apps.desktopEntries) {
    if (entry.shadowedBy !== undefined || entry.notShown !== undefined) continue;
    if (entry.noDisplay || entry.hidden) continue;
    if (entry.package !== null && (apps.allow.includes(entry.package) || purged.has(entry.package)))
      continue;
    const id = entry.path.slice(entry.path.lastIndexOf("/") + 1);
    changes.push(
      ...fileChange(ctx, {
        resource: "desktop",
        path: `${desktopOverrideDir}/${id}`,
        content: hiddenEntry(entry.name),
        summary: `hide desktop application ${entry.name} (${entry.package ?? "no package"}): not in spec.apps.allow`,
        controls: ["APP-02"],
        satisfied: false,
      }),
    );
  }
  return changes;
}
