/** The interactive `koffer init` on a real pseudo-terminal: answers are re-asked, never lost. */
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDeviceAnswer } from "../../src/cli/init.js";
import { knownDevices } from "../../src/profiles/devices.js";
import { koffer } from "../helpers/cli.js";
import { kofferInTty } from "../helpers/tty.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "koffer-init-dialogue-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("init: device answers", () => {
  it("accepts numbers separated by commas and spaces, and ids", () => {
    expect(parseDeviceAnswer("1, 8, 11", knownDevices)).toEqual({
      ids: [knownDevices[0]!.id, knownDevices[7]!.id, knownDevices[10]!.id],
      unknown: [],
    });
    expect(parseDeviceAnswer("1 8,crossmatch", knownDevices).ids).toHaveLength(2);
    expect(parseDeviceAnswer("1, 8, 12", knownDevices).unknown).toEqual(["12"]);
  });
});

describe("init: the dialogue re-asks instead of aborting", () => {
  it("re-asks an invalid gateway and unknown device numbers, then writes a valid profile", async () => {
    const cwd = await mkdtemp(join(dir, "tty-"));
    const run = await kofferInTty(
      ["init"],
      [
        { waitFor: "Verantwortliche Stelle", send: "Stadt Test\r" },
        { waitFor: "Short name", send: "\r" },
        { waitFor: "IT service provider", send: "\r" },
        { waitFor: "VPN gateway host", send: "gw..bad\r" },
        { waitFor: "VPN gateway host", send: "vpn.test.example\r" },
        { waitFor: "Devices in the suitcase", send: "1, 8, 12\r" },
        { waitFor: "Devices in the suitcase", send: "1, 8\r" },
      ],
      { cwd },
    );
    expect(run.output).toContain('"gw..bad" ist kein Hostname');
    expect(run.output).toContain("unbekannt / unknown: 12");
    expect(run.output).not.toContain("--device");
    expect(run.exitCode).toBe(0);
    const text = await readFile(join(cwd, "test.yaml"), "utf8");
    expect(text).toContain('gateway: "vpn.test.example"');
    expect(text).toContain(knownDevices[7]!.name);
  });

  it("refuses an invalid --gateway flag before writing anything (64)", async () => {
    const cwd = await mkdtemp(join(dir, "flags-"));
    const run = await koffer(
      ["init", "--name", "t", "--controller", "Stadt T", "--gateway", "gw..bad"],
      { cwd },
    );
    expect(run.exitCode).toBe(64);
    expect(run.stderr).toContain(
      'Expected --gateway as a host name (RFC 1123) or IP address, found "gw..bad"',
    );
    expect(await readdir(cwd)).toEqual([]);
  });
});
