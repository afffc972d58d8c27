import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, mkdir, rm, symlink, writeFile, readFile, stat, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openTarget, RootTarget } from "../../src/targets/index.js";
import { KofferError } from "../../src/errors.js";

let base: string;
let root: string;
let hostSecret: string;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), "koffer-root-"));
  root = join(base, "root");
  hostSecret = join(base, "host-secret");
  await writeFile(hostSecret, "HOST\n");
  await mkdir(join(root, "etc/ssl"), { recursive: true });
  await mkdir(join(root, "usr/lib"), { recursive: true });
  await writeFile(join(root, "usr/lib/os-release"), "ID=debian\n");
  await writeFile(join(root, "etc/shadow"), "root:!:1::::::\n", { mode: 0o640 });
  // Relative link, as Debian ships it.
  await symlink("../usr/lib/os-release", join(root, "etc/os-release"));
  // Absolute links must resolve inside the root, never on the host.
  await symlink("/etc/shadow", join(root, "etc/abs-link"));
  await symlink(hostSecret, join(root, "etc/host-link"));
  // ".." chains cannot climb out.
  await symlink("../../../../../../../../etc/shadow", join(root, "etc/ssl/deep"));
  await symlink("/etc", join(root, "etc/ssl/etc-dir"));
  await symlink("loop-b", join(root, "etc/loop-a"));
  await symlink("loop-a", join(root, "etc/loop-b"));
});
afterAll(async () => rm(base, { recursive: true, force: true }));

describe("root target", () => {
  it("reads files below the root and follows relative links inside it", async () => {
    const t = await openTarget({ root });
    expect(t.kind).toBe("root");
    expect(t.live).toBe(false);
    expect(await t.readText("/etc/os-release")).toBe("ID=debian\n");
    expect(await t.readText("/etc/missing")).toBeNull();
    expect(await t.readText("/etc/missing/deeper")).toBeNull();
  });

  it("resolves absolute symlinks relative to the root, never the host", async () => {
    const t = await openTarget({ root });
    expect(await t.readText("/etc/abs-link")).toBe("root:!:1::::::\n");
    // The link names a host path; inside the root that path does not exist.
    expect(await t.readText("/etc/host-link")).toBeNull();
    expect(await t.readText("/etc/ssl/deep")).toBe("root:!:1::::::\n");
    expect(await t.readText("/etc/ssl/etc-dir/shadow")).toBe("root:!:1::::::\n");
  });

  it("refuses target paths that escape the root and relative paths", async () => {
    const t = await openTarget({ root });
    await expect(t.readText("/../host-secret")).rejects.toThrow(/escapes the root/);
    await expect(t.readText("/etc/../../host-secret")).rejects.toThrow(/escapes the root/);
    await expect(t.readText("etc/shadow")).rejects.toThrow(/absolute/);
  });

  it("reports symlink loops as an error with a code", async () => {
    const t = await openTarget({ root });
    await expect(t.readText("/etc/loop-a")).rejects.toMatchObject({ code: "E_SYMLINK_LOOP" });
  });

  it("stats with mode and owner, lstat sees the link itself, readDir lists names", async () => {
    const t = (await openTarget({ root })) as RootTarget;
    const s = await t.stat("/etc/shadow");
    expect(s).toMatchObject({ type: "file", mode: 0o640, uid: 0 });
    expect((await t.stat("/etc/os-release"))?.type).toBe("file");
    expect((await t.lstat("/etc/os-release"))?.type).toBe("symlink");
    expect(await t.readLink("/etc/os-release")).toBe("../usr/lib/os-release");
    expect(await t.readLink("/etc/shadow")).toBeNull();
    expect(await t.readDir("/etc")).toContain("shadow");
    expect(await t.readDir("/nope")).toBeNull();
  });

  it("writes atomically with mode and owner and leaves no temporary file", async () => {
    const t = await openTarget({ root });
    await t.mkdirp("/etc/koffer");
    await t.writeFileAtomic("/etc/koffer/key.pem", "SECRET", { mode: 0o600, uid: 0, gid: 0 });
    const host = join(root, "etc/koffer/key.pem");
    expect(await readFile(host, "utf8")).toBe("SECRET");
    expect((await stat(host)).mode & 0o7777).toBe(0o600);
    await t.writeFileAtomic("/etc/koffer/key.pem", "NEW", { mode: 0o640 });
    expect(await readFile(host, "utf8")).toBe("NEW");
    expect((await stat(host)).mode & 0o7777).toBe(0o640);
    expect(await readdir(join(root, "etc/koffer"))).toEqual(["key.pem"]);
  });

  it("replaces a symlink at the write path instead of writing through it", async () => {
    const t = await openTarget({ root });
    await t.writeFileAtomic("/etc/host-link", "X", { mode: 0o644 });
    expect(await readFile(hostSecret, "utf8")).toBe("HOST\n");
    expect(await t.readText("/etc/host-link")).toBe("X");
  });

  it("runs commands on the host", async () => {
    const t = await openTarget({ root });
    const r = await t.exec("sh", ["-c", "echo $LC_ALL"]);
    expect(r.stdout.trim()).toBe("C");
  });

  it("fails with exit 2 for a missing root or disk, and for an unreachable ssh target", async () => {
    await expect(openTarget({ root: join(base, "nope") })).rejects.toMatchObject({ exitCode: 2 });
    await expect(openTarget({ root, disks: [join(base, "nope.img")] })).rejects.toMatchObject({
      exitCode: 2,
    });
    const ssh = openTarget({ ssh: "admin@127.0.0.1:1" }); // nothing listens on port 1
    await expect(ssh).rejects.toBeInstanceOf(KofferError);
    await expect(ssh).rejects.toMatchObject({ exitCode: 2, code: "E_SSH_CONNECT" });
    await expect(openTarget({ root, ssh: "x" })).rejects.toMatchObject({ exitCode: 64 });
    await expect(openTarget({ ssh: "x", disks: ["/dev/sda"] })).rejects.toMatchObject({
      exitCode: 64,
    });
    await expect(openTarget({ ssh: "-oProxyCommand=x" })).rejects.toMatchObject({ exitCode: 64 });
    await expect(openTarget({ knownHosts: "/etc/ssh/ssh_known_hosts" })).rejects.toMatchObject({
      exitCode: 64,
    });
  });

  it("keeps the disks given", async () => {
    const disk = join(base, "disk.img");
    await writeFile(disk, "");
    const t = await openTarget({ root, disks: [disk] });
    expect(t.disks).toEqual([{ path: disk }]);
  });
});

describe("local target", () => {
  it("is live and reads the host's files", async () => {
    const t = await openTarget({});
    expect(t.kind).toBe("local");
    expect(t.live).toBe(true);
    expect(await t.readText(hostSecret)).toBe("HOST\n");
    expect(t.hostPath("/etc/passwd")).toBe("/etc/passwd");
  });

  it("names the Debian package when a tool is missing", async () => {
    const t = await openTarget({});
    await expect(t.exec("cryptsetup-does-not-exist", [])).rejects.toMatchObject({
      exitCode: 2,
      code: "E_MISSING_TOOL",
    });
  });
});
