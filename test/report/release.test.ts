/** The report names the release it judged (target.release), in every human format and the JSON. */
import { describe, expect, it } from "vitest";
import { render } from "../../src/report/render/index.js";
import type { Result } from "../../src/report/types.js";
import { resultSchemaErrors } from "../helpers/result-schema.js";
import { sampleResult } from "../helpers/result.js";

function judged(lang: "de" | "en"): Result {
  const result = sampleResult("compliant", lang);
  result.target.release = {
    platform: "debian-13",
    name: "Debian 13 (trixie)",
    debianVersion: "13.8",
  };
  return result;
}

describe("the judged release in the report", () => {
  it("is part of the published result schema", () => {
    expect(resultSchemaErrors(judged("de"))).toEqual([]);
    expect(JSON.parse(render(judged("de"), "json")).target.release.platform).toBe("debian-13");
  });

  it("heads the text output", () => {
    expect(render(judged("en"), "text").split("\n")[0]).toContain("(Debian 13 (trixie))");
  });

  it("is on the HTML cover, in German and English", () => {
    const de = render(judged("de"), "html");
    expect(de).toContain("Betriebssystem (geprüft)");
    expect(de).toContain("Debian 13 (trixie) – debian_version 13.8");
    expect(render(judged("en"), "html", { lang: "en" })).toContain("Operating system (judged)");
  });

  it("is left out for results without it (older results render as before)", () => {
    const plain = sampleResult("compliant", "de");
    expect(render(plain, "html")).not.toContain("Betriebssystem (geprüft)");
  });
});
