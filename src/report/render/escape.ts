/** Escaping shared by the XML and HTML renderers. */

// XML 1.0 forbids most C0 control characters even as references; they are dropped.
// eslint-disable-next-line no-control-regex
const invalidXml = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

/** Escape text for XML/HTML element content and double-quoted attribute values. */
export function escapeXml(text: string): string {
  return text
    .replace(invalidXml, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** Seconds between two ISO timestamps, as the JUnit time attribute wants it ("4.000"). */
export function durationSeconds(startedAt: string, finishedAt: string): string {
  const ms = Date.parse(finishedAt) - Date.parse(startedAt);
  return (Number.isFinite(ms) && ms > 0 ? ms / 1000 : 0).toFixed(3);
}
