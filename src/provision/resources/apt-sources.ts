/**
 * APP-03: packages only from signed sources. debootstrap and older installers write a
 * one-line /etc/apt/sources.list without `signed-by`, which makes apt trust every key in
 * its global keyring for that source. koffer pins Debian's own archives to Debian's archive
 * keyring and drops `trusted=yes`. Sources of other origins it cannot pin (it does not know
 * their key): they stay failing, for a person to fix.
 */
import { managedPath } from "../../facts/managed.js";
import type { Change } from "../types.js";
import { fileChange, managedText, type PlanContext } from "./common.js";

export const debianArchiveKeyring = "/usr/share/keyrings/debian-archive-keyring.gpg";

/** deb.debian.org, security.debian.org, ftp.de.debian.org …: signed with Debian's archive keys. */
export function isDebianArchive(uri: string): boolean {
  try {
    const host = new URL(uri).hostname.toLowerCase();
    return host === "debian.org" || host.endsWith(".debian.org");
  } catch {
    return false;
  }
}

/**
 * The sources.list text with Debian archive lines pinned to the archive keyring and every
 * `trusted=…` option removed. Other lines, comments and spacing stay as they are.
 */
export function signSourcesList(text: string): string {
  return text
    .split("\n")
    .flatMap((line) => {
      const m = /^(\s*)(deb|deb-src)(\s+)(?:\[([^\]]*)\]\s*)?(\S+)(.*)$/.exec(line);
      if (!m) return [line];
      const [, indent, type, gap, rawOptions = "", uri = "", rest] = m;
      const options = rawOptions.split(/\s+/).filter((o) => o !== "");
      const kept = options.filter((o) => !/^trusted[-+]?=/i.test(o));
      const signed = kept.some((o) => /^signed-by[-+]?=/i.test(o));
      if (!signed && isDebianArchive(uri)) kept.push(`signed-by=${debianArchiveKeyring}`);
      if (kept.length === options.length && kept.every((o, i) => o === options[i])) return [line];
      const opts = kept.length > 0 ? `[${kept.join(" ")}] ` : "";
      return [
        `${indent}# koffer: signed-by the Debian archive keyring, no trusted=yes (APP-03)`,
        `${indent}${type}${gap}${opts}${uri}${rest}`,
      ];
    })
    .join("\n");
}

export function planAptSources(ctx: PlanContext): Change[] {
  const path = managedPath.aptSourcesList;
  const unsigned = ctx.facts.apps.aptSources.filter(
    (s) => s.source.startsWith(`${path}:`) && (s.trusted || s.signedBy === null),
  );
  if (unsigned.length === 0) return [];
  const text = managedText(ctx.facts, path);
  if (text === null) return []; // the file's text is unknown (an old snapshot): nothing safe to write
  const next = signSourcesList(text);
  if (next === text) return [];
  const known = ctx.facts.managedFiles?.[path];
  return fileChange(ctx, {
    resource: "apt-sources",
    path,
    content: next,
    mode: known?.mode,
    uid: known?.uid,
    gid: known?.gid,
    summary: `pin ${path} to ${debianArchiveKeyring}, drop trusted=yes`,
    controls: ["APP-03"],
    satisfied: false,
  });
}
