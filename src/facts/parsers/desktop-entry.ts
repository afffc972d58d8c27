/**
 * freedesktop.org desktop entries (`*.desktop`): only the `[Desktop Entry]` group matters.
 */

export interface ParsedDesktopEntry {
  name: string;
  exec: string | null;
  noDisplay: boolean;
  hidden: boolean;
  type: string | null;
}

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
  };
}
