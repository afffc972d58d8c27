// After tsc: write the profile validator as code next to dist/profiles/schema.js, so that a
// run loads neither ajv nor its compiler (src/profiles/schema.ts, profileValidator).
import { writeFile } from "node:fs/promises";

const { builtValidatorUrl, profileValidatorSource } = await import("../dist/profiles/schema.js");
await writeFile(builtValidatorUrl, await profileValidatorSource());
