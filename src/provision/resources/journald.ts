/** The journal (LOG-02): persistent, bounded, in a drop-in. */
import { setting } from "../../checks/util.js";
import { managedPath } from "../../facts/managed.js";
import type { Change } from "../types.js";
import { disableOverrides, fileChange, header, type PlanContext } from "./common.js";

export const journaldConf = `${header()}[Journal]
Storage=persistent
Compress=yes
SystemMaxUse=500M
SystemKeepFree=1G
MaxRetentionSec=3month
`;

export function planJournald(ctx: PlanContext): Change[] {
  if (!ctx.profile.spec.logging.persistentJournal) return [];
  const journald = ctx.facts.logging.journald;
  const storage = setting(journald, "Storage")?.value;
  const persistent =
    storage === "persistent" ||
    ((storage === undefined || storage === "auto") && ctx.facts.logging.journalDir !== null);
  const max = setting(journald, "SystemMaxUse")?.value.trim();
  return [
    ...fileChange(ctx, {
      resource: "journald",
      path: managedPath.journald,
      content: journaldConf,
      summary: "journal persistent, at most 500M",
      controls: ["LOG-02"],
      satisfied: persistent && max !== undefined && max !== "",
    }),
    ...disableOverrides(ctx, {
      resource: "journald",
      controls: ["LOG-02"],
      own: managedPath.journald,
      settings: journald,
      wanted: {
        Storage: (v) => v.trim() === "persistent",
        SystemMaxUse: (v) => v.trim() !== "",
      },
    }),
  ];
}
