/**
 * CUPS (DATA-02, NET-02): listens on localhost only, shares and browses nothing, and keeps
 * neither job files nor job history — a printed application form must not stay on disk.
 */
import { falsy, setting } from "../../checks/util.js";
import { managedPath } from "../../facts/managed.js";
import type { Change } from "../types.js";
import { fileChange, header, installed, type PlanContext } from "./common.js";

export const cupsdConf = `${header()}LogLevel warn
PageLogFormat
MaxLogSize 1m
Listen localhost:631
Listen /run/cups/cups.sock
Browsing No
BrowseLocalProtocols none
DefaultShared No
WebInterface No
DefaultAuthType Basic
PreserveJobHistory No
PreserveJobFiles No
MaxJobs 100
<Location />
  Order allow,deny
  Allow localhost
</Location>
<Location /admin>
  Order allow,deny
  Allow localhost
</Location>
<Policy default>
  JobPrivateAccess default
  JobPrivateValues default
  SubscriptionPrivateAccess default
  SubscriptionPrivateValues default
  <Limit Create-Job Print-Job Print-URI Validate-Job>
    Order deny,allow
  </Limit>
  <Limit Send-Document Send-URI Hold-Job Release-Job Restart-Job Purge-Jobs Set-Job-Attributes Create-Job-Subscription Renew-Subscription Cancel-Subscription Get-Notifications Reprocess-Job Cancel-Current-Job Suspend-Current-Job Resume-Job Cancel-My-Jobs Close-Job CUPS-Move-Job CUPS-Get-Document>
    Require user @OWNER @SYSTEM
    Order deny,allow
  </Limit>
  <Limit CUPS-Add-Modify-Printer CUPS-Delete-Printer CUPS-Add-Modify-Class CUPS-Delete-Class CUPS-Set-Default CUPS-Get-Devices>
    AuthType Default
    Require user @SYSTEM
    Order deny,allow
  </Limit>
  <Limit Pause-Printer Resume-Printer Enable-Printer Disable-Printer Pause-Printer-After-Current-Job Hold-New-Jobs Release-Held-New-Jobs Deactivate-Printer Activate-Printer Restart-Printer Shutdown-Printer Startup-Printer Promote-Job Schedule-Job-After Cancel-Jobs CUPS-Accept-Jobs CUPS-Reject-Jobs>
    AuthType Default
    Require user @SYSTEM
    Order deny,allow
  </Limit>
  <Limit Cancel-Job CUPS-Authenticate-Job>
    Require user @OWNER @SYSTEM
    Order deny,allow
  </Limit>
  <Limit All>
    Order deny,allow
  </Limit>
</Policy>
`;

export function planCups(ctx: PlanContext): Change[] {
  if (ctx.profile.spec.data.printJobRetention) return [];
  const data = ctx.facts.data;
  const present = installed(ctx.facts, "cups-daemon") || Object.keys(data.cupsd).length > 0;
  if (!present) return [];
  const satisfied =
    ["PreserveJobFiles", "PreserveJobHistory", "Browsing"].every((k) =>
      falsy(setting(data.cupsd, k)?.value),
    ) && data.cupsdListen.every((l) => /^(localhost|127\.|\[::1\]|::1|\/)/.test(l.trim()));
  return fileChange(ctx, {
    resource: "cups",
    path: managedPath.cupsd,
    content: cupsdConf,
    mode: 0o640,
    gid: 7, // lp on Debian, as the package installs it
    summary: "CUPS: localhost only, no browsing, no job files or history",
    controls: ["DATA-02", "NET-02"],
    satisfied,
  });
}
