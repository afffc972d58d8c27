/**
 * Security: every path on a target is resolved inside it (issue 14).
 *
 * An image is a tree an attacker wrote. Symbolic links in it — absolute or `../..` — must not
 * lead koffer's lock, journal, backups, reports, certificate keys and CSRs out to the host, nor
 * let the hostname read into a CSR subject come from a host file. `--root /` (and any other name
 * of the running system's root) is refused. A second provision while one holds the lock is
 * refused and leaves the running one's state alone. Rollback restores links as links.
 * Each case checks a host canary directory outside the tree: it stays empty.
 */
import {
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  readlink,
  rm,
  symlink,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { requestCertificate, certificateStatus } from "../../src/pki/lifecycle.js";
import { applyChanges } from "../../src/provision/apply.js";
import { rollback } from "../../src/provision/rollback.js";
import { LOCK_FILE, acquireLock } from "../../src/provision/state.js";
import type { Change } from "../../src/provision/types.js";
import { RootTarget } from "../../src/targets/root.js";
import { koffer, repoRoot } from "../helpers/cli.js";

let dir: string;
let host: string;
let canaryText: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "koffer-sec-paths-"));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A fresh tree and a fresh host canary directory per case. */
async function tree(name: string): Promise<string> {
  const root = join(dir, name);
  await mkdir(join(root, "etc"), { recursive: true });
  await mkdir(join(root, "var/lib"), { recursive: true });
  host = await mkdtemp(join(tmpdir(), "koffer-sec-host-"));
  canaryText = `host-canary-${Math.random().toString(36).slice(2)}\n`;
  await writeFile(join(host, "canary"), canaryText);
  return root;
}

afterEach(async () => {
  // Nothing was created next to the canary.
  if (host) {
    expect(await readdir(host)).toEqual(["canary"]);
    expect(await readFile(join(host, "canary"), "utf8")).toBe(canaryText);
    await rm(host, { recursive: true, force: true });
    host = "";
  }
});

const writeChange = (path: string, content = "managed\n"): Change =>
  ({
    kind: "write-file",
    resource: "test",
    summary: `write ${path}`,
    controls: [],
    path,
    content,
    mode: 0o644,
    uid: 0,
    gid: 0,
  }) as Change;

describe("security: state paths", () => {
  for (const style of ["absolute", "relative"] as const) {
    it(`lock, journal and backups stay inside when /var/lib/koffer is an ${style} link out`, async () => {
      const root = await tree(`state-${style}`);
      const to = style === "absolute" ? host : `../../../../../../../../../..${host}`;
      await symlink(to, join(root, "var/lib/koffer"));
      await writeFile(join(root, "etc/motd"), "old\n");
      const target = await RootTarget.open({ root });
      const report = await applyChanges(target, [writeChange("/etc/motd")]);
      expect(report.failed).toEqual([]);
      // The state landed below the root, at the link's target as the laptop would see it.
      const inside = join(root, host);
      expect((await readdir(inside)).sort()).toEqual(["backups", "journal"]);
      expect(await readFile(join(root, "etc/motd"), "utf8")).toBe("managed\n");
    });
  }

  it("a report path linked out is written inside the tree", async () => {
    const root = await tree("reports");
    await mkdir(join(root, "var/lib/koffer"), { recursive: true });
    await symlink(host, join(root, "var/lib/koffer/reports"));
    const target = await RootTarget.open({ root });
    await target.mkdirp("/var/lib/koffer/reports", 0o700);
    await target.writeFileAtomic("/var/lib/koffer/reports/r.json", "{}", { mode: 0o600 });
    expect(await readFile(join(root, host, "r.json"), "utf8")).toBe("{}");
  });
});

describe("security: certificate paths", () => {
  it("keys and CSRs stay inside when /etc/swanctl is a link out", async () => {
    const root = await tree("swanctl");
    await symlink(host, join(root, "etc/swanctl"));
    const r = await requestCertificate({
      root,
      name: "client",
      subjectTemplate: "CN={hostname}",
      hostname: "laptop-1",
      keyType: "ecdsa-p384",
    });
    expect(r.keyPath.startsWith(root + "/")).toBe(true);
    expect(r.csrPath.startsWith(root + "/")).toBe(true);
    expect((await lstat(join(root, host, "private/client.pem"))).mode & 0o777).toBe(0o600);
  });

  it("cert status reads a certificate linked to a host file from inside the tree only", async () => {
    const root = await tree("status");
    await mkdir(join(root, "etc/swanctl/x509"), { recursive: true });
    await symlink(
      `../../../../../../../../..${join(host, "canary")}`,
      join(root, "etc/swanctl/x509/client.pem"),
    );
    const status = await certificateStatus({ root, name: "client" });
    // The link resolves to <root>/<host>/canary, which does not exist: nothing installed.
    expect(status.installed).toBe(false);
  });

  it("the CSR subject never takes the hostname from a host file", async () => {
    const root = await tree("hostname");
    await symlink(`../../../../../../../..${join(host, "canary")}`, join(root, "etc/hostname"));
    const run = await koffer([
      "cert",
      "request",
      "--root",
      root,
      "--profile",
      join(repoRoot, "examples/meerane.yaml"),
    ]);
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(0);
    // The tree has no file where the link resolves inside it: the host file's line is not used.
    expect(run.stdout).toMatch(/^subject: /m);
    expect(run.stdout).not.toContain(canaryText.trim());
    expect(run.stdout.split("\n").find((l) => l.startsWith("key:"))).toContain(root);
  });
});

describe("security: the running system is not a --root", () => {
  it("refuses --root / and a link to it with exit 64, touching nothing", async () => {
    await mkdir(dir, { recursive: true });
    const link = join(dir, "slash");
    await symlink("/", link);
    for (const root of ["/", link, "/."]) {
      for (const args of [
        ["verify", "--root", root, "--profile", join(repoRoot, "examples/meerane.yaml")],
        [
          "provision",
          "--root",
          root,
          "--yes",
          "--profile",
          join(repoRoot, "examples/meerane.yaml"),
        ],
      ]) {
        const run = await koffer(args);
        expect({ args, exitCode: run.exitCode }).toEqual({ args, exitCode: 64 });
        expect(run.stderr).toMatch(/running system/);
      }
    }
    expect(await lstat(LOCK_FILE).catch(() => null)).toBeNull();
  });
});

describe("security: the lock comes first", () => {
  it("a second provision is refused while one runs, and leaves the running one's state", async () => {
    const root = await tree("locked");
    await mkdir(join(root, "usr/sbin"), { recursive: true });
    const policy =
      "#!/bin/sh\n# koffer: provision in progress: start no services inside the image\nexit 101\n";
    await writeFile(join(root, "usr/sbin/policy-rc.d"), policy, { mode: 0o755 });
    const target = await RootTarget.open({ root });
    // The "running" provision: this test process holds the lock.
    const lock = await acquireLock(target, "20261201T000000Z-aaaaaa");
    try {
      const lockText = await readFile(join(root, LOCK_FILE), "utf8");
      const run = await koffer(
        [
          "provision",
          "--root",
          root,
          "--yes",
          "--profile",
          join(repoRoot, "examples/meerane.yaml"),
        ],
        { timeoutMs: 60_000 },
      );
      expect(run.exitCode).not.toBe(0);
      expect(run.stderr).toMatch(/another provision is running/);
      // Its policy-rc.d and its lock are untouched.
      expect(await readFile(join(root, "usr/sbin/policy-rc.d"), "utf8")).toBe(policy);
      expect(await readFile(join(root, LOCK_FILE), "utf8")).toBe(lockText);
    } finally {
      await lock.release();
    }
  }, 90_000);
});

describe("rollback and symbolic links", () => {
  it("a managed path that was a symbolic link is a symbolic link again after rollback", async () => {
    const root = await tree("rollback");
    await writeFile(join(root, "etc/real.conf"), "real\n");
    await symlink("real.conf", join(root, "etc/managed.conf"));
    await symlink("/etc/absent", join(root, "etc/dangling.conf"));
    const target = await RootTarget.open({ root });
    const report = await applyChanges(target, [
      writeChange("/etc/managed.conf"),
      writeChange("/etc/dangling.conf"),
    ]);
    expect(report.failed).toEqual([]);
    expect((await lstat(join(root, "etc/managed.conf"))).isFile()).toBe(true);
    await rollback(target, report.runId);
    expect(await readlink(join(root, "etc/managed.conf"))).toBe("real.conf");
    expect(await readlink(join(root, "etc/dangling.conf"))).toBe("/etc/absent");
    expect(await readFile(join(root, "etc/real.conf"), "utf8")).toBe("real\n");
  });
});
