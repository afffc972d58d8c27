import { describe, expect, it } from "vitest";
import { execa } from "execa";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { koffer } from "../helpers/cli.js";
import { tempDir } from "../helpers/tmp.js";

const fixtures = "test/fixtures/usbguard";

describe("koffer usb rules", () => {
  it("prints every rule of a file in canonical form and exits 0", async () => {
    const run = await koffer(["usb", "rules", `${fixtures}/allowlist.rules`]);
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toBe(
      [
        'allow id 0c4b:0500 serial "4E3F0C1A" name "cyberJack RFID standard" with-interface 0b:00:00',
        "allow id 2133:010b with-interface { 03:00:00 0b:00:00 }",
        'allow id 080b:0010 name "Cross Match 300LC"',
        "allow id 080b:0002",
        "allow id 1fba:* with-interface ff:*:*",
        "reject with-interface all-of { 08:*:* 03:00:01 }",
        "block with-interface 08:*:*",
        "",
      ].join("\n"),
    );
  });

  it("prints the same bytes as usbguard-rule-parser for each rule", async () => {
    const run = await koffer(["usb", "rules", `${fixtures}/allowlist.rules`]);
    const theirs = await execa("usbguard-rule-parser", ["-f", `${fixtures}/allowlist.rules`], {
      reject: false,
    });
    expect(theirs.exitCode).toBe(0);
    const outputs = theirs.stdout
      .split("\n")
      .filter((l) => l.startsWith("OUTPUT: ") && l !== "OUTPUT: ")
      .map((l) => l.slice(8));
    expect(run.stdout).toBe(outputs.join("\n") + "\n");
  });

  it("names every bad line as FILE:LINE:COLUMN: message (at /rules/N) and exits 78", async () => {
    const run = await koffer(["usb", "rules", `${fixtures}/broken.rules`]);
    expect(run.exitCode).toBe(78);
    expect(run.stdout).toBe("allow id 0c4b:0500\nblock\n");
    const lines = run.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(
      /^test\/fixtures\/usbguard\/broken\.rules:3:1: Expected a rule target .*, found whitespace .*\(at \/rules\/1\)$/,
    );
    expect(lines[1]).toMatch(
      /^test\/fixtures\/usbguard\/broken\.rules:4:27: Expected protocol \* when the subclass is \*, found "06" \(at \/rules\/2\)$/,
    );
    expect(lines[2]).toMatch(
      /broken\.rules:6:16: Expected at most one name attribute, .*\(at \/rules\/3\)$/,
    );
    expect(lines[3]).toMatch(
      /broken\.rules:8:19: Expected the end of the line, found trailing whitespace \(at \/rules\/5\)$/,
    );
  });

  it("reads standard input with -", async () => {
    const run = await koffer(["usb", "rules", "-"], {
      input: '# kit\nallow 0C4B:0500 name { "a" }\n',
    });
    expect(run).toMatchObject({ exitCode: 0, stdout: 'allow id 0C4B:0500 name "a"\n' });
  });

  it("writes bytes that are not UTF-8 back unchanged", async () => {
    const dir = tempDir("usb-cli");
    const file = join(dir, "bytes.rules");
    // A raw 0xff byte in a string is escaped; in a condition parameter it is kept raw.
    writeFileSync(file, Buffer.from('allow name "\xff" if random(0.5\xff)\n', "latin1"));
    const run = await execa(process.execPath, ["bin/koffer.js", "usb", "rules", file], {
      reject: false,
      encoding: "buffer",
      stripFinalNewline: false,
    });
    expect(run.exitCode).toBe(0);
    expect(Buffer.from(run.stdout).toString("latin1")).toBe(
      'allow name "\\xff" if random(0.5\xff)\n',
    );
  });

  it("exits 78 for a file it cannot read, and 64 without a file", async () => {
    const missing = await koffer(["usb", "rules", "/nonexistent/rules.conf"]);
    expect(missing.exitCode).toBe(78);
    expect(missing.stderr).toContain("cannot read /nonexistent/rules.conf");
    const usage = await koffer(["usb", "rules"]);
    expect(usage.exitCode).toBe(64);
  });
});
