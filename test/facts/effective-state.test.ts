/**
 * Effective-state readers the live differential oracle (test/mutations/live.test.ts) found
 * wrong (issue 11): each case is a tree as an admin leaves it, gathered through a root
 * target, with the answer the running laptop gave for the same tree.
 */
import { execa } from "execa";
import { mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { gatherAccounts } from "../../src/facts/accounts.js";
import { gatherLogging } from "../../src/facts/logging.js";
import { effectiveKeys } from "../../src/facts/parsers/dconf.js";
import { readSysctl } from "../../src/facts/parsers/sysctl.js";
import { openTarget } from "../../src/index.js";
import { tempDir } from "../helpers/tmp.js";

let root = "";
const context = { profile: null, now: new Date() };
afterEach(async () => {
  if (root !== "") await rm(root, { recursive: true, force: true });
  root = "";
});

async function tree(files: Record<string, string>): Promise<string> {
  root = tempDir("effective");
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    if (text.startsWith("->")) await symlink(text.slice(2), join(root, path));
    else await writeFile(join(root, path), text);
  }
  return root;
}

async function withTarget<T>(
  dir: string,
  fn: (t: Awaited<ReturnType<typeof openTarget>>) => Promise<T>,
) {
  const target = await openTarget({ root: dir, disks: [] });
  try {
    return await fn(target);
  } finally {
    await target.close();
  }
}

const getty =
  "[Unit]\nDescription=Getty on %I\n\n[Service]\nExecStart=-/sbin/agetty -o '-p -- \\\\u' --noclear - $TERM\nType=idle\n";
const autologin =
  "[Service]\nExecStart=\nExecStart=-/sbin/agetty --autologin buergerbuero --noclear %I $TERM\n";

describe("files masked with a link to /dev/null (systemd, sysctl.d)", () => {
  it("read as empty where the tree has /dev/null, instead of an error", async () => {
    const dir = await tree({
      "/etc/sysctl.d/90-koffer.conf": "->/dev/null",
      "/usr/lib/sysctl.d/90-koffer.conf": "kernel.sysrq = 1\n",
    });
    // the tree's own /dev/null, a character device 1:3 as debootstrap makes it
    await mkdir(join(dir, "dev"), { recursive: true });
    await execa("mknod", [join(dir, "dev/null"), "c", "1", "3"]);
    const sysctl = await withTarget(dir, (t) => readSysctl(t));
    expect(sysctl["kernel.sysrq"]).toBeUndefined();
  });
});

describe("getty autologin as systemd loads the console gettys (ACC-02)", () => {
  const gather = (files: Record<string, string>) =>
    tree({ "/lib/systemd/system/getty@.service": getty, ...files }).then((dir) =>
      withTarget(dir, async (t) =>
        (await gatherAccounts(t, context)).autologin.filter((a) => a.kind === "getty"),
      ),
    );
  it("a template drop-in in /usr/local/lib and an instance drop-in in /usr/lib count", async () => {
    expect(
      await gather({ "/usr/local/lib/systemd/system/getty@.service.d/a.conf": autologin }),
    ).toHaveLength(1);
    expect(
      await gather({ "/usr/lib/systemd/system/getty@tty1.service.d/a.conf": autologin }),
    ).toHaveLength(1);
  });
  it("a second ExecStart= without clearing the first: systemd refuses the unit, no getty runs", async () => {
    expect(
      await gather({
        "/etc/systemd/system/getty@tty1.service.d/a.conf":
          "[Service]\nExecStart=-/sbin/agetty --autologin buergerbuero --noclear %I $TERM\n",
      }),
    ).toEqual([]);
  });
  it("a vendor drop-in masked by /etc's of the same name counts for nothing", async () => {
    expect(
      await gather({
        "/usr/lib/systemd/system/getty@.service.d/a.conf": autologin,
        "/etc/systemd/system/getty@.service.d/a.conf": "->/dev/null",
      }),
    ).toEqual([]);
  });
});

describe("timesyncd NTP= is a list (TIME-01)", () => {
  it("an earlier drop-in and the main file add servers; an empty NTP= clears", async () => {
    const ntp = async (files: Record<string, string>) =>
      withTarget(
        await tree(files),
        async (t) => (await gatherLogging(t, context)).timesyncd.NTP?.value,
      );
    const koffer = { "/etc/systemd/timesyncd.conf.d/koffer.conf": "[Time]\nNTP=10.20.0.1\n" };
    expect(
      await ntp({
        ...koffer,
        "/etc/systemd/timesyncd.conf.d/50-pool.conf": "[Time]\nNTP=pool.example\n",
      }),
    ).toBe("pool.example 10.20.0.1");
    await rm(root, { recursive: true, force: true });
    expect(
      await ntp({ ...koffer, "/etc/systemd/timesyncd.conf": "[Time]\nNTP=pool.example\n" }),
    ).toBe("pool.example 10.20.0.1");
    await rm(root, { recursive: true, force: true });
    expect(
      await ntp({
        ...koffer,
        "/etc/systemd/timesyncd.conf.d/zz.conf": "[Time]\nNTP=\nNTP=10.20.0.2\n",
      }),
    ).toBe("10.20.0.2");
  });
});

describe("dconf values as the engine reads them (ACC-03)", () => {
  const set = (value: string) => ({ "a/idle": { value, source: "x:1" } });
  it("the last database that locks a key decides; a higher one's value is ignored", () => {
    // profile: system-db:site, system-db:local — local (the lower one) locks
    expect(
      effectiveKeys([
        { keys: set("3600"), locks: new Set(["a/idle"]) },
        { keys: set("300"), locks: new Set(["a/idle"]) },
      ])["a/idle"]?.value,
    ).toBe("300");
    expect(
      effectiveKeys([
        { keys: set("3600"), locks: new Set() },
        { keys: set("300"), locks: new Set(["a/idle"]) },
      ])["a/idle"]?.value,
    ).toBe("300");
    // profile: system-db:local, system-db:site — site (the lower one) locks its own 3600
    expect(
      effectiveKeys([
        { keys: set("300"), locks: new Set(["a/idle"]) },
        { keys: set("3600"), locks: new Set(["a/idle"]) },
      ])["a/idle"]?.value,
    ).toBe("3600");
    // no lock: the first database with the key
    expect(
      effectiveKeys([
        { keys: set("300"), locks: new Set() },
        { keys: set("3600"), locks: new Set() },
      ])["a/idle"]?.value,
    ).toBe("300");
  });
});
