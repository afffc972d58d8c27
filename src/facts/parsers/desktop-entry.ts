/**
 * freedesktop.org desktop entries (`*.desktop`): only the `[Desktop Entry]` group matters.
 */

export interface ParsedDesktopEntry {
  name: string;
  exec: string | null;
  noDisplay: boolean;
  hidden: boolean;
  type: string | null;
  tryExec: string | null;
  /** `OnlyShowIn=` / `NotShowIn=` desktop names, null when the key is absent. */
  onlyShowIn: string[] | null;
  notShowIn: string[] | null;
}

const desktopList = (v: string | undefined): string[] | null =>
  v === undefined ? null : v.split(";").filter((x) => x !== "");

/** Parse the `[Desktop Entry]` group; localized keys (`Name[de]`) are ignored in favour of `Name`. */
export function parseDesktopEntry(text: string): ParsedDesktopEntry {
  const values: Record<string, string> = {};
  let inMain = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    if (line.startsWith("[")) {
      inMain = line === "[Desktop Entry]";
      continue;
    }
    if (!inMain) continue;
    const eq = line.indexOf("=");
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    // The first occurrence counts; duplicates are invalid and desktop environments ignore them.
    if (!(key in values)) values[key] = line.slice(eq + 1).trim();
  }
  return {
    name: values["Name"] ?? "",
    exec: values["Exec"] ?? null,
    noDisplay: values["NoDisplay"] === "true",
    hidden: values["Hidden"] === "true",
    type: values["Type"] ?? null,
    tryExec: values["TryExec"] ?? null,
    onlyShowIn: desktopList(values["OnlyShowIn"]),
    notShowIn: desktopList(values["NotShowIn"]),
  };
}

/**
 * The program of an `Exec=` line (its first word, after the spec's quoting: a quoted word
 * keeps its spaces, a backslash escapes the next character), or null when there is none.
 */
export function execProgram(exec: string): string | null {
  const s = exec.trimStart();
  if (s === "") return null;
  if (!s.startsWith('"')) return s.split(/\s/)[0] ?? null;
  let out = "";
  for (let i = 1; i < s.length; i++) {
    const c = s[i] as string;
    if (c === "\\" && i + 1 < s.length) out += s[++i];
    else if (c === '"') return out;
    else out += c;
  }
  return null;
}
