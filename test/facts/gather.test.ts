import { describe, expect, it } from "vitest";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { openTarget } from "../../src/targets/index.js";
import { areaGatherers, factAreas, gatherFacts } from "../../src/facts/index.js";
import type { Target } from "../../src/targets/types.js";
import { buildRoot } from "../helpers/root-tree.js";
import { makeLuksImage } from "../helpers/luks.js";
import { koffer } from "../helpers/cli.js";
import { tempDir } from "../helpers/tmp.js";

describe("gatherFacts", () => {
  it("returns every area, the target and host, and no gather errors on a small root", async () => {
    const root = await buildRoot({
      files: {
        "/etc/hostname": "koffer-07\n",
        "/etc/machine-id": "0123456789abcdef0123456789abcdef\n",
      },
    });
    const now = new Date("2026-03-01T10:00:00Z");
    const facts = await gatherFacts(await openTarget({ root }), { now });
    expect(Object.keys(facts).filter((k) => (factAreas as string[]).includes(k))).toEqual(
      factAreas,
    );
    expect(factAreas).toHaveLength(11);
    expect(facts).toMatchObject({
      schema: "koffer/facts/v1",
      gatheredAt: "2026-03-01T10:00:00.000Z",
      target: { kind: "root", hostname: "koffer-07", location: root },
      host: {
        hostname: "koffer-07",
        machineId: "0123456789abcdef0123456789abcdef",
        serialNumber: null,
      },
      gatherErrors: [],
    });
  });

  it("records a failing gatherer and keeps its area at defaults", async () => {
    const root = await buildRoot({ enable: ["ssh.service"] });
    const real = await openTarget({ root });
    // A target whose systemctl cannot run: the services area fails, the others do not.
    const broken: Target = Object.create(real, {
      exec: {
        value: async (command: string, args: string[]) =>
          command === "systemctl"
            ? real.exec("systemctl-missing-tool", args)
            : real.exec(command, args),
      },
    });
    const facts = await gatherFacts(broken, {});
    expect(facts.gatherErrors).toEqual([
      {
        area: "services",
        message: expect.stringMatching(/systemctl-missing-tool is not installed/),
      },
    ]);
    expect(facts.services).toEqual(areaGatherers.services.empty());
  });
});

describe("koffer facts", () => {
  it("prints the snapshot as JSON, and saves it atomically with mode 0600", async () => {
    const image = await makeLuksImage({});
    const root = await buildRoot({
      files: { "/etc/crypttab": `root UUID=${image.uuid} none luks\n` },
    });
    const printed = await koffer(["facts", "--root", root, "--disk", image.path, "--area", "disk"]);
    expect(printed.exitCode).toBe(0);
    const facts = JSON.parse(printed.stdout);
    expect(facts.disk.volumes[0]).toMatchObject({ crypttabName: "root", version: 2 });
    const out = join(tempDir("facts"), "facts.json");
    const saved = await koffer(["facts", "--root", root, "--out", out]);
    expect(saved.exitCode).toBe(0);
    expect(saved.stdout).toBe("");
    expect(JSON.parse(await readFile(out, "utf8")).schema).toBe("koffer/facts/v1");
    expect((await stat(out)).mode & 0o777).toBe(0o600);
  });

  it("exits 2 for an unreachable root or ssh target, 64 for a bad area", async () => {
    expect((await koffer(["facts", "--root", "/nonexistent/root"])).exitCode).toBe(2);
    // Port 1 on loopback: nothing listens, so the connection is refused at once.
    const ssh = await koffer(["facts", "--ssh", "admin@127.0.0.1:1"]);
    expect(ssh.exitCode).toBe(2);
    expect(ssh.stderr).toMatch(/cannot reach admin@127\.0\.0\.1:1: .*refused/);
    expect((await koffer(["facts", "--area", "nope"])).exitCode).toBe(64);
  });
});
