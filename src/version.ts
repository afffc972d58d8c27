import { readFileSync } from "node:fs";

let cached: string | undefined;

/** koffer's version, read once from package.json (works from src/ under vitest and from dist/). */
export function version(): string {
  if (cached === undefined) {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
      version: string;
    };
    cached = pkg.version;
  }
  return cached;
}
