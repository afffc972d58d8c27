/**
 * APP-03: packages only from signed sources, in every file apt reads (sources.list and the
 * `.list`/`.sources` parts, as the apps gatherer found them). debootstrap and older installers
 * write sources without `signed-by`, which makes apt trust every key in its global keyring for
 * them. koffer pins Debian's own archives to Debian's archive keyring; from every source it
 * drops what lets apt take unsigned or weakly signed packages (`trusted`, `allow-insecure`,
 * `allow-weak`, `allow-downgrade-to-insecure`). A source of another origin without a key koffer
 * cannot pin (it does not know the key): it is switched off — the line commented out, a deb822
 * stanza `Enabled: no` — never deleted; the file is backed up for rollback, and a person who
 * has the vendor's key can switch it on again with `signed-by`. apt.conf switches that turn
 * signature checks off for every source are commented out.
 */
import {
  aptTrue,
  deb822Stanzas,
  stanzaDisabled,
  weakeningOptions,
} from "../../facts/parsers/apt-sources.js";
import { managedPath } from "../../facts/managed.js";
import type { AptSource } from "../../facts/types.js";
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

/** Options and deb822 fields that let apt accept a source unsigned or weakly signed. */
const unsafe = ["trusted", ...weakeningOptions];
const unsafeOption = new RegExp(`^(${unsafe.join("|")})[-+]?=`, "i");

/** A source APP-03 fails: trusted, weakened, or without Signed-By. */
export function insecureSource(s: AptSource): boolean {
  return s.trusted || (s.weakened ?? []).length > 0 || s.signedBy === null;
}

/**
 * One-line sources with Debian archive lines pinned to the archive keyring, every unsafe
 * option dropped, and lines of other origins without `signed-by` commented out. Other
 * lines, comments and spacing stay as they are.
 */
export function signSourcesList(text: string): string {
  return text
    .split("\n")
    .flatMap((line) => {
      const m = /^(\s*)(deb|deb-src)(\s+)(?:\[([^\]]*)\]\s*)?(\S+)(.*)$/.exec(line);
      if (!m) return [line];
      const [, indent, type, gap, rawOptions = "", uri = "", rest] = m;
      const options = rawOptions.split(/\s+/).filter((o) => o !== "");
      const kept = options.filter((o) => !unsafeOption.test(o));
      const signed = kept.some((o) => /^signed-by[-+]?=/i.test(o));
      if (!signed && !isDebianArchive(uri))
        return [
          `${indent}# koffer (APP-03): switched off, apt cannot check its signature (no signed-by): ${line.trim()}`,
        ];
      if (!signed) kept.push(`signed-by=${debianArchiveKeyring}`);
      if (kept.length === options.length && kept.every((o, i) => o === options[i])) return [line];
      const opts = kept.length > 0 ? `[${kept.join(" ")}] ` : "";
      return [
        `${indent}# koffer: signed-by the Debian archive keyring, no trusted=yes (APP-03)`,
        `${indent}${type}${gap}${opts}${uri}${rest}`,
      ];
    })
    .join("\n");
}

/**
 * deb822 sources with the same rules: in each enabled stanza apt would take unsigned, the
 * unsafe fields are commented out, a Debian archive stanza gets `Signed-By` with the archive
 * keyring, a stanza of another origin without one gets `Enabled: no`.
 */
export function signDeb822Sources(text: string): string {
  const lines = text.split("\n");
  // Edits by line index, applied from the end so earlier indices stay valid.
  const edits: { at: number; remove: number; insert: string[] }[] = [];
  for (const stanza of deb822Stanzas(text)) {
    if (stanzaDisabled(stanza)) continue;
    const field = (name: string) => stanza.fields[name];
    const uris = (field("uris")?.value ?? "").split(/\s+/).filter((u) => u !== "");
    const unsafeFields = unsafe.filter((name) => aptTrue(field(name)?.value));
    const signedBy = (field("signed-by")?.value.trim() ?? "") !== "";
    if (unsafeFields.length === 0 && signedBy) continue;
    for (const name of unsafeFields) {
      const at = (field(name)?.line as number) - 1;
      edits.push({
        at,
        remove: 1,
        insert: [`# koffer (APP-03): no unsigned packages: ${lines[at]?.trim() ?? ""}`],
      });
    }
    if (signedBy) continue;
    const end = stanza.end; // index of the line after the stanza
    if (uris.length > 0 && uris.every(isDebianArchive)) {
      edits.push({
        at: end,
        remove: 0,
        insert: [
          "# koffer (APP-03): signed by the Debian archive keyring",
          `Signed-By: ${debianArchiveKeyring}`,
        ],
      });
      continue;
    }
    const enabled = field("enabled");
    if (enabled !== undefined) edits.push({ at: enabled.line - 1, remove: 1, insert: [] });
    edits.push({
      at: end,
      remove: 0,
      insert: [
        "# koffer (APP-03): switched off, apt cannot check its signature (no Signed-By)",
        "Enabled: no",
      ],
    });
  }
  for (const e of edits.sort((a, b) => b.at - a.at || b.remove - a.remove))
    lines.splice(e.at, e.remove, ...e.insert);
  return lines.join("\n");
}

/** The apt.conf switches that turn signature checks off, commented out where they are set. */
function globalSwitches(ctx: PlanContext): Change[] {
  const byFile = new Map<string, { line: number; key: string }[]>();
  for (const [key, setting] of Object.entries(ctx.facts.apps.aptAuthentication ?? {})) {
    if (!aptTrue(setting.value)) continue;
    const m = /^(.*):(\d+)$/.exec(setting.source);
    if (m === null) continue;
    const list = byFile.get(m[1] as string) ?? [];
    // The last name part: also found on a line of a nested `Acquire { … }` block.
    list.push({ line: Number(m[2]), key: key.split("::").pop() as string });
    byFile.set(m[1] as string, list);
  }
  return [...byFile].map(([path, lines]) => ({
    kind: "disable-lines" as const,
    resource: "apt-sources",
    summary: `${path}: comment out ${lines.map((l) => l.key).join(", ")}, which turn${lines.length === 1 ? "s" : ""} apt's signature checks off`,
    controls: ["APP-03"],
    path,
    lines: lines.sort((a, b) => a.line - b.line),
    comment: "//" as const,
  }));
}

export function planAptSources(ctx: PlanContext): Change[] {
  const apps = ctx.facts.apps;
  // An older facts snapshot knows sources.list's text only (from the managed files).
  const files = apps.aptSourceFiles ?? [
    {
      path: managedPath.aptSourcesList,
      format: "one-line" as const,
      text: managedText(ctx.facts, managedPath.aptSourcesList),
      ...(ctx.facts.managedFiles?.[managedPath.aptSourcesList] ?? {}),
    },
  ];
  const changes: Change[] = [];
  for (const file of files) {
    if (file.text === null) continue; // the file's text is unknown: nothing safe to write
    const failing = apps.aptSources.filter(
      (s) => s.source.startsWith(`${file.path}:`) && insecureSource(s),
    );
    if (failing.length === 0) continue;
    const next =
      file.format === "deb822" ? signDeb822Sources(file.text) : signSourcesList(file.text);
    if (next === file.text) continue;
    const foreign = failing.some((s) => s.signedBy === null && !s.uris.every(isDebianArchive));
    changes.push(
      ...fileChange(ctx, {
        resource: "apt-sources",
        path: file.path,
        content: next,
        mode: file.mode,
        uid: file.uid,
        gid: file.gid,
        summary: `${file.path}: Debian sources pinned to ${debianArchiveKeyring}, no trusted=yes${foreign ? ", unsigned sources of other origins switched off" : ""}`,
        controls: ["APP-03"],
        satisfied: false,
      }),
    );
  }
  return [...changes, ...globalSwitches(ctx)];
}
