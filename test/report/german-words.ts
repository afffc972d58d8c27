/**
 * English words that must not appear in German report text (issue 15). Paths, hashes,
 * package names and other code are excluded before the check (they are not prose).
 */
export const englishWords = [
  "none",
  "not installed",
  "installed",
  "found",
  "expected",
  "escrowed",
  "connection",
  "connections",
  "connection(s)",
  "valid",
  "chains",
  "packages",
  "enabled",
  "disabled",
  "entries",
  "entry",
  "no TPM",
  "firmware state",
  "not set",
  "missing",
  "attestation",
  "attested",
  "keyslot",
  "loadable",
  "blocked",
  "locked",
  "defaults",
  "default",
  "the",
  "of",
  "and",
  "with",
  "is",
  "not",
  "no",
  "or",
  "by",
  "package",
  "file",
  "explicit",
  "servers",
  "size",
  "separate",
  "mount",
  "needed",
  "synchronised",
  "unknown message",
] as const;

/**
 * Every English word of the list found in `text`: whole words, as written (so the sudoers
 * keyword "Defaults" is not "defaults"), not in a configuration token (`Storage=none`) and not
 * in „quoted“ configuration text.
 */
export function englishIn(text: string): string[] {
  const found: string[] = [];
  text = text.replace(/„[^“]*“/g, "„…“");
  for (const word of englishWords) {
    const escaped = word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const re = new RegExp(`(?<![\\p{L}\\d_./=*-])${escaped}(?![\\p{L}\\d_=-])`, "u");
    const m = re.exec(text);
    if (m) found.push(`${word} … «${text.slice(Math.max(0, m.index - 40), m.index + 40)}»`);
  }
  return found;
}

/** Prose of an HTML report: code, the package appendix and tags removed, entities decoded. */
export function proseOf(html: string): string[] {
  const body = html
    .replace(/<style>[\s\S]*?<\/style>/g, "")
    .replace(/<title>[\s\S]*?<\/title>/g, "")
    .replace(/<code>[\s\S]*?<\/code>/g, " ")
    .replace(/<ul class="columns">[\s\S]*?<\/ul>/g, " ")
    .replace(/<footer>[\s\S]*?<\/footer>/g, " ");
  return body
    .split(/<\/(?:td|th|p|li|dd|dt|h1|h2|h3)>/)
    .map((chunk) =>
      chunk
        .replace(/<[^>]+>/g, " ")
        .replace(/&lt;/g, "<")
        .replace(/&gt;/g, ">")
        .replace(/&quot;/g, '"')
        .replace(/&#39;/g, "'")
        .replace(/&amp;/g, "&")
        .replace(/\s+/g, " ")
        .trim(),
    )
    .filter((t) => t !== "");
}
