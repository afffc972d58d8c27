/** Browser (DATA-04, only when the profile names one): no passwords, no form data, cleared on exit. */
import { data04 } from "../../checks/data-04.js";
import { managedPath } from "../../facts/managed.js";
import type { Change } from "../types.js";
import { fileChange, type PlanContext } from "./common.js";

// JSON has no comments: koffer's mark is a key browsers ignore.
const marker = { _comment: "Managed by koffer — changes are overwritten" };

export const firefoxPolicies =
  JSON.stringify(
    {
      ...marker,
      policies: {
        PasswordManagerEnabled: false,
        DisableFormHistory: true,
        OfferToSaveLogins: false,
        SanitizeOnShutdown: {
          Cache: true,
          Cookies: true,
          Downloads: true,
          FormData: true,
          History: true,
          Sessions: true,
          SiteSettings: true,
          OfflineApps: true,
          Locked: true,
        },
      },
    },
    null,
    2,
  ) + "\n";

export const chromiumPolicies =
  JSON.stringify(
    {
      ...marker,
      PasswordManagerEnabled: false,
      AutofillAddressEnabled: false,
      AutofillCreditCardEnabled: false,
      SyncDisabled: true,
      ClearBrowsingDataOnExitList: [
        "browsing_history",
        "download_history",
        "cookies_and_other_site_data",
        "cached_images_and_files",
        "password_signin",
        "autofill",
        "site_settings",
        "hosted_app_data",
      ],
    },
    null,
    2,
  ) + "\n";

export function planBrowser(ctx: PlanContext): Change[] {
  const browser = ctx.profile.spec.data.browser?.name;
  if (browser === undefined) return [];
  const firefox = browser === "firefox-esr";
  const path = firefox ? managedPath.firefoxPolicies : managedPath.chromiumPolicies;
  // DATA-04 reads nothing but the parsed policies, so its verdict is the judgement here.
  const present = data04
    .evaluate(ctx.profile, ctx.facts, { now: ctx.now })
    .every((f) => f.status === "pass");
  return fileChange(ctx, {
    resource: "browser",
    path,
    content: firefox ? firefoxPolicies : chromiumPolicies,
    summary: `${browser}: no saved passwords or form data, cleared on exit`,
    controls: ["DATA-04"],
    satisfied: present,
  });
}
