/**
 * Message templates: `{{name}}` placeholders filled from a data record (STYLE.md §5).
 * Kept tiny and dependency-free so checks, renderers and the CLI can all use it.
 */
import type { Lang, Localized } from "../report/types.js";

/** `{{name}}`, or `{{name|one|other}}` for a count with its noun ("1 Regel", "3 Regeln"). */
const placeholder = /\{\{\s*([A-Za-z0-9_]+)\s*(?:\|([^|}]*)\|([^|}]*))?\}\}/g;

/**
 * A count with its noun in the right number: "0 Geräte", "1 Gerät", "2 Geräte" /
 * "0 devices", "1 device". German and English both use the singular for exactly one.
 */
export function countOf(n: number | string, one: string, other: string): string {
  return `${n} ${Number(n) === 1 ? one : other}`;
}

/**
 * Fill `{{name}}` placeholders in `template` from `data`; `{{name|one|other}}` renders the
 * number with the singular or plural noun. A placeholder without a value is left as
 * written, so a missing value is visible in the output instead of silently becoming "".
 */
export function formatMessage(
  template: string,
  data: Record<string, string | number> = {},
): string {
  return template.replace(
    placeholder,
    (whole, name: string, one: string | undefined, other: string | undefined) => {
      if (!Object.prototype.hasOwnProperty.call(data, name)) return whole;
      const value = data[name]!;
      return one === undefined ? String(value) : countOf(value, one, other!);
    },
  );
}

/** The placeholder names a template uses, in order of first appearance. */
export function placeholders(template: string): string[] {
  const names: string[] = [];
  for (const match of template.matchAll(placeholder)) {
    const name = match[1] as string;
    if (!names.includes(name)) names.push(name);
  }
  return names;
}

/** Render a localized template in both languages. */
export function formatLocalized(
  template: Localized,
  data: Record<string, string | number> = {},
): Localized {
  return { de: formatMessage(template.de, data), en: formatMessage(template.en, data) };
}

/** Default language of reports and messages (the DPO's language). */
export const defaultLang: Lang = "de";

/** Parse a `--lang` value; null when it is not a supported language. */
export function parseLang(value: string | undefined): Lang | null {
  if (value === undefined) return defaultLang;
  return value === "de" || value === "en" ? value : null;
}
