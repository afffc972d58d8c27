/**
 * Over ssh, provisioning never cuts its own way in: a plan that stops or purges the SSH
 * server, or locks and expires the account the run logs in with, is refused before anything
 * is applied (E_SSH_SELF_CUT).
 */
import { userInfo } from "node:os";
import { describe, expect, it } from "vitest";
import { loginName, refuseCuttingTheConnection } from "../../src/provision/provision.js";
import type { Change } from "../../src/provision/types.js";

const lock = (user: string, expire = true): Change => ({
  kind: "lock-account",
  user,
  ...(expire ? { expire: true } : {}),
  resource: "accounts",
  controls: ["ACC-01"],
  summary: `lock ${user}`,
});

const refused = (changes: Change[], location: string) => {
  try {
    refuseCuttingTheConnection(changes, location);
    return null;
  } catch (error) {
    return error as { code?: string; message: string };
  }
};

describe("provision over ssh never cuts its own way in", () => {
  it("refuses locking and expiring the login account, naming it", () => {
    const error = refused([lock("praktikant"), lock("technik")], "technik@10.252.9.7:22");
    expect(error?.code).toBe("E_SSH_SELF_CUT");
    expect(error?.message).toMatch(/^technik is not among the profile's accounts/);
  });

  it("lets other accounts be locked, and root's password (keys still log in)", () => {
    expect(refused([lock("praktikant")], "technik@10.252.9.7")).toBeNull();
    expect(refused([lock("root", false)], "root@10.252.9.7")).toBeNull();
  });

  it("without a user in the destination, ssh logs in as the local user", () => {
    expect(refused([lock(userInfo().username)], "laptop-07")?.code).toBe("E_SSH_SELF_CUT");
  });

  it("refuses stopping the SSH server", () => {
    const mask: Change = {
      kind: "mask-unit",
      unit: "ssh.service",
      resource: "ssh",
      controls: ["NET-03"],
      summary: "mask ssh",
    } as Change;
    expect(refused([mask], "technik@10.252.9.7")?.code).toBe("E_SSH_SELF_CUT");
  });

  describe("the login account is the one the target's greeting names", () => {
    const passwd = [
      { name: "root", uid: 0, gid: 0, home: "/root", shell: "/bin/bash" },
      { name: "technik", uid: 1000, gid: 1000, home: "/home/technik", shell: "/bin/bash" },
      { name: "kisa-ops", uid: 1001, gid: 1001, home: "/home/kisa-ops", shell: "/bin/bash" },
    ];
    const facts = { accounts: { passwd } } as unknown as Parameters<typeof loginName>[1];

    it("an ssh_config User (no user in the location) is found through the uid", () => {
      const target = { location: "laptop-07", loginUid: 1001 };
      expect(loginName(target, facts)).toBe("kisa-ops");
      expect(() =>
        refuseCuttingTheConnection([lock("kisa-ops")], target.location, loginName(target, facts)),
      ).toThrow(/^kisa-ops is not among the profile's accounts/);
    });

    it("the uid wins over the location's user (an alias logs in as another account)", () => {
      expect(loginName({ location: "technik@laptop-07", loginUid: 1001 }, facts)).toBe("kisa-ops");
    });

    it("without a greeting uid, or a uid passwd does not name, the location's user counts", () => {
      expect(loginName({ location: "technik@laptop-07", loginUid: null }, facts)).toBe("technik");
      expect(loginName({ location: "technik@laptop-07", loginUid: 4242 }, facts)).toBe("technik");
      expect(loginName({ location: "technik@laptop-07" }, facts)).toBe("technik");
    });
  });
});
