/**
 * Logging and time: audit rules, journald, the persistent journal directory, timesyncd,
 * chrony, rsyslog forwarding, and (live) whether the clock is synchronised.
 */
import type { Target } from "../targets/types.js";
import type { GatherContext, LoggingFacts } from "./types.js";
import { compareC, contentLines, joinPath } from "./parsers/common.js";
import { liveValue } from "./parsers/live.js";
import { readAuditRules, readChrony } from "./parsers/misc-conf.js";
import { readSystemdConf } from "./parsers/systemd-ini.js";

export function emptyLoggingFacts(): LoggingFacts {
  return {
    auditRules: [],
    journald: {},
    journalDir: null,
    timesyncd: {},
    chrony: null,
    timeSynchronized: { available: false, reason: "not gathered" },
    rsyslogForwarding: [],
  };
}

/** rsyslog actions that send logs elsewhere: `@host`, `@@host`, omfwd/omrelp actions. */
export function parseRsyslogForwarding(text: string, path: string): string[] {
  const out: string[] = [];
  for (const { text: line, line: n } of contentLines(text)) {
    if (/(^|\s)@@?[\w[]/.test(line) || /type\s*=\s*"(omfwd|omrelp)"/.test(line)) {
      out.push(`${path}:${n}: ${line}`);
    }
  }
  return out;
}

/** Gather the logging area from a target. */
export async function gatherLogging(target: Target, _ctx: GatherContext): Promise<LoggingFacts> {
  const journal = await target.stat("/var/log/journal");
  const chrony = await readChrony(target);
  const rsyslogFiles = ["/etc/rsyslog.conf"];
  for (const n of ((await target.readDir("/etc/rsyslog.d")) ?? [])
    .filter((x) => x.endsWith(".conf"))
    .sort(compareC)) {
    rsyslogFiles.push(joinPath("/etc/rsyslog.d", n));
  }
  const rsyslogForwarding: string[] = [];
  for (const f of rsyslogFiles) {
    const text = await target.readText(f);
    if (text !== null) rsyslogForwarding.push(...parseRsyslogForwarding(text, f));
  }
  const timeSynchronized = await liveValue(
    target,
    "timedatectl show -p NTPSynchronized --value",
    async () => {
      const r = await target
        .exec("timedatectl", ["show", "-p", "NTPSynchronized", "--value"])
        .catch(() => null);
      if (r === null || r.exitCode !== 0)
        return { unavailable: "timedatectl could not ask systemd-timedated" };
      return r.stdout.trim() === "yes";
    },
  );
  return {
    auditRules: await readAuditRules(target),
    journald: await readSystemdConf(target, "journald", "Journal"),
    journalDir:
      journal && journal.type === "directory"
        ? { path: "/var/log/journal", mode: journal.mode, uid: journal.uid, gid: journal.gid }
        : null,
    // timesyncd.conf(5): NTP= and FallbackNTPServers= add to the list, an empty one clears it.
    timesyncd: await readSystemdConf(target, "timesyncd", "Time", ["NTP", "FallbackNTPServers"]),
    chrony: chrony === null ? null : { servers: chrony.servers, source: chrony.files.join(", ") },
    timeSynchronized,
    rsyslogForwarding,
  };
}
