import { execa } from "execa";
import { createHash } from "node:crypto";
import { mkdtemp, mkdir, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { applyChanges, journalPath, manifestPath } from "../../src/provision/apply.js";
import { rollback } from "../../src/provision/rollback.js";
import { LOCK_FILE, acquireLock } from "../../src/provision/state.js";
import type { Change, WriteFileChange } from "../../src/provision/types.js";
import { run } from "../../src/targets/exec.js";
import { RootTarget } from "../../src/targets/root.js";

let dir: string;
let target: RootTarget;

const write = (path: string, content: string, mode = 0o644): Change => ({
  kind: "write-file",
  resource: "test",
  summary: `write ${path}`,
  controls: [],
  path,
  content,
  mode,
  uid: 0,
  gid: 0,
});

async function treeHash(root: string): Promise<string> {
  const hash = createHash("sha256");
  async function walk(d: string): Promise<void> {
    for (const name of (await readdir(d)).sort()) {
      const p = join(d, name);
      // koffer's own state (and the directories above it) is not part of the laptop's configuration.
      if (p === join(root, "var")) continue;
      const s = await stat(p);
      hash.update(`${p.slice(root.length)} ${s.mode.toString(8)}\n`);
      if (s.isDirectory()) await walk(p);
      else hash.update(await readFile(p));
    }
  }
  await walk(root);
  return hash.digest("hex");
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "koffer-apply-"));
  await mkdir(join(dir, "etc"), { recursive: true });
  await writeFile(join(dir, "etc/group"), "root:x:0:\nsudo:x:27:alice,mallory\nusers:x:100:\n");
  await writeFile(join(dir, "etc/gshadow"), "root:*::\nsudo:*::alice,mallory\nusers:*::\n", {
    mode: 0o640,
  });
  await writeFile(
    join(dir, "etc/shadow"),
    "root:$y$j9T$abc$def:19000:0:99999:7:::\nalice:!:19000::::::\n",
    {
      mode: 0o640,
    },
  );
  await writeFile(join(dir, "etc/issue"), "Debian GNU/Linux 12\n");
  target = await RootTarget.open({ root: dir });
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The tree, seen as a running machine: its commands are real ones on this host. */
function liveView(t: RootTarget): RootTarget {
  return new Proxy(t, {
    get: (inner, key) => {
      if (key === "live") return true;
      if (key === "exec")
        return (command: string, args: string[]) => run(command, args, { timeoutMs: 10_000 });
      const value = Reflect.get(inner, key) as unknown;
      return typeof value === "function" ? value.bind(inner) : value;
    },
  });
}

describe("applyChanges", () => {
  it("writes files with mode and owner, and a second run changes nothing", async () => {
    const plan = [
      write("/etc/koffer/new.conf", "a = 1\n", 0o600),
      write("/etc/issue", "Bürgerkoffer\n"),
      {
        kind: "set-group-members",
        resource: "accounts",
        summary: "sudo = alice",
        controls: ["ACC-01"],
        group: "sudo",
        members: ["alice"],
      } satisfies Change,
      {
        kind: "lock-account",
        resource: "accounts",
        summary: "lock root",
        controls: ["ACC-05"],
        user: "root",
      } satisfies Change,
    ];
    const first = await applyChanges(target, plan);
    expect(first).toMatchObject({ applied: 4, unchanged: 0, failed: [] });
    expect(await readFile(join(dir, "etc/koffer/new.conf"), "utf8")).toBe("a = 1\n");
    expect((await stat(join(dir, "etc/koffer/new.conf"))).mode & 0o777).toBe(0o600);
    expect(await readFile(join(dir, "etc/group"), "utf8")).toContain("sudo:x:27:alice\n");
    expect(await readFile(join(dir, "etc/gshadow"), "utf8")).toContain("sudo:*::alice\n");
    expect((await stat(join(dir, "etc/gshadow"))).mode & 0o777).toBe(0o640);
    expect(await readFile(join(dir, "etc/shadow"), "utf8")).toMatch(/^root:!\$y\$/);

    const before = await treeHash(dir);
    const second = await applyChanges(target, plan);
    expect(second).toMatchObject({ applied: 0, unchanged: 4, failed: [] });
    expect(await treeHash(dir)).toBe(before);
  });

  it("journals every change without file contents", async () => {
    const report = await applyChanges(target, [
      write("/etc/secret.conf", "token = hunter2\n", 0o600),
    ]);
    const journal = await readFile(join(dir, journalPath(report.runId)), "utf8");
    const entries = journal
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { state: string; change: object });
    expect(entries.map((e) => e.state)).toEqual(["started", "done"]);
    expect(journal).not.toContain("hunter2");
    expect(entries[1]?.change).toHaveProperty("contentSha256");
    expect((await stat(join(dir, journalPath(report.runId)))).mode & 0o777).toBe(0o600);
  });

  it("rolls a run back byte for byte, removing the files it created", async () => {
    const before = await treeHash(dir);
    const report = await applyChanges(target, [
      write("/etc/issue", "changed\n"),
      write("/etc/koffer/created.conf", "x\n"),
      {
        kind: "lock-account",
        resource: "accounts",
        summary: "lock root",
        controls: [],
        user: "root",
      },
    ]);
    expect(report.applied).toBe(3);
    expect(await treeHash(dir)).not.toBe(before);
    const manifest = JSON.parse(await readFile(join(dir, manifestPath(report.runId)), "utf8")) as {
      files: { path: string; existed: boolean }[];
    };
    expect(manifest.files).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: "/etc/issue", existed: true }),
        expect.objectContaining({ path: "/etc/koffer/created.conf", existed: false }),
        expect.objectContaining({ path: "/etc/shadow", existed: true }),
      ]),
    );
    const undone = await rollback(target, report.runId);
    expect(undone.restored.sort()).toEqual(["/etc/issue", "/etc/shadow"]);
    expect(undone.removed).toEqual(["/etc/koffer/created.conf"]);
    await rm(join(dir, "etc/koffer"), { recursive: true }); // the directory itself is not a managed file
    expect(await treeHash(dir)).toBe(before);
  });

  it("refuses a run id that is not one and a run without backups", async () => {
    await expect(rollback(target, "../../etc")).rejects.toMatchObject({ exitCode: 64 });
    await expect(rollback(target, "20261120T000000Z-000000")).rejects.toMatchObject({
      exitCode: 78,
    });
  });

  it("never runs two provisions at once, and takes over a lock whose process died", async () => {
    const lock = await acquireLock(target, "20261120T000000Z-aaaaaa");
    await expect(applyChanges(target, [write("/etc/x", "1\n")])).rejects.toMatchObject({
      code: "E_LOCKED",
      exitCode: 2,
    });
    await lock.release();
    // A lock left behind by a killed process (a pid that cannot exist) does not block.
    await writeFile(
      join(dir, LOCK_FILE),
      JSON.stringify({
        runId: "x",
        pid: 2 ** 22 + 7,
        host: (await import("node:os")).hostname(),
        startedAt: "",
      }),
    );
    const report = await applyChanges(target, [write("/etc/x", "1\n")]);
    expect(report.applied).toBe(1);
  });

  it("stops at a failing change and says why", async () => {
    const report = await applyChanges(target, [
      {
        kind: "luks-remove-keyslot",
        resource: "disk",
        summary: "",
        controls: [],
        device: "/nope",
        keyslot: "1",
      },
      write("/etc/after", "1\n"),
    ]);
    expect(report.failed).toHaveLength(1);
    expect(report.failed[0]?.message).toMatch(/no way to apply a luks-remove-keyslot change/);
    expect(await stat(join(dir, "etc/after")).catch(() => null)).toBeNull();
  });

  it("puts a written file into effect on a running machine, and puts the old one back when that fails", async () => {
    const live = liveView(target);
    const marker = join(dir, "activated");
    const activated: WriteFileChange = {
      ...(write(
        "/etc/sysctl.d/90-koffer-sshd.conf",
        "net.ipv4.ip_nonlocal_bind = 1\n",
      ) as WriteFileChange),
      activate: ["/bin/sh", "-c", 'echo "$1" > "$2"', "sh", "now", marker],
    };
    const ok = await applyChanges(live, [activated]);
    expect(ok.failed).toEqual([]);
    expect(await readFile(marker, "utf8")).toBe("now\n");
    // An image takes the file at boot: nothing is run.
    await rm(marker);
    await applyChanges(target, [{ ...activated, content: "net.ipv4.ip_nonlocal_bind = 0\n" }]);
    expect(await stat(marker).catch(() => null)).toBeNull();

    const before = await readFile(join(dir, "etc/sysctl.d/90-koffer-sshd.conf"), "utf8");
    const refused = await applyChanges(live, [
      {
        ...activated,
        content: "net.ipv4.ip_nonlocal_bind = 2\n",
        activate: ["/bin/sh", "-c", "echo 'permission denied on key' >&2; exit 1"],
      },
      write("/etc/after", "1\n"),
    ]);
    expect(refused.failed[0]?.message).toMatch(
      /could not put \/etc\/sysctl\.d\/90-koffer-sshd\.conf into effect \(permission denied on key\); the previous file is back in place/,
    );
    expect(await readFile(join(dir, "etc/sysctl.d/90-koffer-sshd.conf"), "utf8")).toBe(before);
    expect(await stat(join(dir, "etc/after")).catch(() => null)).toBeNull();
  });

  it("a disabled override is put into effect on a running machine; the old lines come back when that fails", async () => {
    const live = liveView(target);
    const path = "/etc/ssh/sshd_config.d/00-drift.conf";
    await mkdir(join(dir, "etc/ssh/sshd_config.d"), { recursive: true });
    const drift = "PasswordAuthentication yes\nX11Forwarding no\n";
    await writeFile(join(dir, path), drift);
    const marker = join(dir, "reloaded");
    const disable: Change = {
      kind: "disable-lines",
      resource: "ssh",
      summary: "comment out PasswordAuthentication",
      controls: ["NET-03"],
      path,
      lines: [{ line: 1, key: "PasswordAuthentication" }],
      comment: "#",
      activate: ["/bin/sh", "-c", 'cat "$1" > "$2"', "sh", join(dir, path), marker],
    };
    const refused = await applyChanges(live, [
      { ...disable, activate: ["/bin/sh", "-c", "echo 'sshd -t: bad option' >&2; exit 1"] },
    ]);
    expect(refused.failed[0]?.message).toMatch(
      /could not put .*00-drift\.conf into effect \(sshd -t: bad option\)/,
    );
    expect(await readFile(join(dir, path), "utf8")).toBe(drift);
    const ok = await applyChanges(live, [disable]);
    expect(ok.failed).toEqual([]);
    // The command ran after the line was commented out (it saw the new file).
    expect(await readFile(marker, "utf8")).toMatch(
      /^# koffer \(NET-03\): PasswordAuthentication yes\n/,
    );
  });

  // ACC-01: an account outside the profile is switched off as `usermod -L -e 1` would, and the
  // system's own shadow tools read it so: passwd -S says L, chage says it expired in 1970.
  it("locks and expires an account (lock-account with expire), and a second run changes nothing", async () => {
    await writeFile(
      join(dir, "etc/passwd"),
      "root:x:0:0:root:/root:/bin/bash\nmallory:x:1002:1002::/home/mallory:/bin/bash\n",
    );
    await writeFile(
      join(dir, "etc/shadow"),
      "root:!*:19000:0:99999:7:::\nmallory:$y$j9T$abc$def:19000:0:99999:7:::\n",
      { mode: 0o640 },
    );
    const lock: Change = {
      kind: "lock-account",
      resource: "accounts",
      summary: "lock and expire mallory",
      controls: ["ACC-01"],
      user: "mallory",
      expire: true,
    };
    expect(await applyChanges(target, [lock])).toMatchObject({ applied: 1, failed: [] });
    expect(await readFile(join(dir, "etc/shadow"), "utf8")).toContain(
      "mallory:!$y$j9T$abc$def:19000:0:99999:7::1:\n",
    );
    const status = await execa("passwd", ["-R", dir, "-S", "mallory"], { env: { LC_ALL: "C" } });
    expect(status.stdout.split(" ")[1]).toBe("L");
    const chage = await execa("chage", ["-R", dir, "-l", "mallory"], { env: { LC_ALL: "C" } });
    expect(chage.stdout).toMatch(/Account expires\s*: Jan 02, 1970/);
    const before = await treeHash(dir);
    expect(await applyChanges(target, [lock])).toMatchObject({ applied: 0, unchanged: 1 });
    expect(await treeHash(dir)).toBe(before);
  });
});
