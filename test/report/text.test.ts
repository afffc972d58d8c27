/**
 * The technician's terminal output: values from a target or a result file cannot drive the
 * terminal (escape sequences, carriage returns, extra lines) to hide or fake a verdict.
 */
import { describe, expect, it } from "vitest";
import { renderText } from "../../src/report/render/text.js";
import { sampleResult } from "../helpers/result.js";

describe("renderText", () => {
  it("shows control characters from the data instead of sending them to the terminal", () => {
    const result = sampleResult("non-compliant", "en");
    const failing = result.controls.find((c) => c.status === "fail" && c.evidence.length > 0)!;
    // Erase the line above and print a fake passing line in its place.
    const forged = "\u001b[1A\u001b[2K\r✔ VPN-01  fine\nBEL\u0007 C1\u009b";
    failing.evidence = [{ ...failing.evidence[0]!, expected: "x", actual: forged }];
    result.target.hostname = "koffer-01\u001b]0;owned\u0007";
    const out = renderText(result, { lang: "en" });
    // eslint-disable-next-line no-control-regex
    expect(out).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    expect(out).toContain("\\x1b[1A\\x1b[2K\\x0d✔ VPN-01  fine\\x0aBEL\\x07 C1\\x9b");
    expect(out).toContain("koffer-01\\x1b]0;owned\\x07");
    expect(out.split("\n").filter((l) => l.startsWith("✔ VPN-01"))).toHaveLength(
      result.controls.filter((c) => c.id === "VPN-01" && c.status === "pass").length,
    );
  });
});
