/**
 * Provisioning over the laptop's LAN (not through the tunnel) when the firewall service runs:
 * the run loads the kill switch (`nft -f`) over its own SSH session. Nothing tracked that
 * session before (no conntrack in the laptop's network namespace), so after the load its
 * packets are not "established" and new SSH comes in only through IPsec (NET-03). The session
 * lives on all the same: the output chain lets SSH replies out (`tcp sport 22 tcp dport
 * 1024-65535 accept`, with `network.ssh`), the laptop's next reply is tracked, and the
 * technician's packets then match `ct state established`.
 *
 * Real OpenSSH on both ends and koffer's own ssh target: sshd runs in a "laptop" namespace,
 * the TCP connection comes from a "controller" namespace joined by a veth pair (the ssh
 * client's ProxyCommand opens it there). The namespaces are the test's own; the host's
 * firewall is never touched. The negative control loads the same ruleset without the reply
 * rule: the session is cut, so the first case can fail.
 */
import { execa } from "execa";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadProfileOrThrow } from "../../src/profiles/loader.js";
import { nftablesConf } from "../../src/provision/resources/nftables.js";
import { SshTarget } from "../../src/targets/ssh.js";
import { createNetns, deleteNetns, linkNetns } from "../rig/netns.js";
import { sshdSkipReason, startSshd, type TestSshd } from "../helpers/sshd.js";

const skip =
  sshdSkipReason() ??
  (["/usr/sbin/nft", "/usr/bin/socat"].every((tool) => existsSync(tool))
    ? null
    : "nft or socat is missing (scripts/setup.sh installs them)");

const laptopAddress = "10.253.7.1";
const profileFile = resolve(import.meta.dirname, "..", "fixtures", "ssh", "rig-laptop.yaml");
const replyRule = "tcp sport 22 tcp dport 1024-65535 accept";

interface Lan {
  laptop: string;
  controller: string;
  sshd: TestSshd;
  config: string;
}

let dir = "";
const lans: Lan[] = [];
let killSwitch = "";

/** A laptop namespace running sshd on port 22, reached from a controller namespace only. */
async function lan(): Promise<Lan> {
  const laptop = await createNetns("lanks");
  const controller = await createNetns("lanctl");
  const entry: Lan = { laptop, controller, sshd: null as unknown as TestSshd, config: "" };
  lans.push(entry);
  await linkNetns(laptop, controller, `${laptopAddress}/24`, "10.253.7.2/24");
  // A session cut by the firewall ends on the laptop's side too (its child would otherwise
  // wait for TCP to give up and keep sshd's log pipe open).
  entry.sshd = await startSshd({
    netns: laptop,
    address: laptopAddress,
    port: 22,
    extraConfig: "ClientAliveInterval 2\nClientAliveCountMax 2",
  });
  entry.config = join(dir, `ssh_config-${controller}`);
  await writeFile(
    entry.config,
    `Host ${laptopAddress}\n  ProxyCommand ip netns exec ${controller} socat - TCP:%h:%p\n`,
  );
  return entry;
}

function open(l: Lan, connectTimeoutSeconds = 10): Promise<SshTarget> {
  return SshTarget.open({
    destination: l.sshd.destination("root"),
    identityFile: l.sshd.identity,
    knownHostsFile: l.sshd.knownHosts,
    configFile: l.config,
    connectTimeoutSeconds,
  });
}

/** The promise's value, or "cut" when nothing came back within `ms`. */
async function within<T>(ms: number, work: Promise<T>): Promise<T | "cut"> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"cut">((done) => {
    timer = setTimeout(() => done("cut"), ms);
  });
  try {
    return await Promise.race([work.catch(() => "cut" as const), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Conntrack entries of the laptop's namespace for SSH from the controller. */
async function tracked(l: Lan): Promise<string[]> {
  const r = await execa("ip", ["netns", "exec", l.laptop, "cat", "/proc/net/nf_conntrack"], {
    reject: false,
  });
  return String(r.stdout)
    .split("\n")
    .filter((line) => line.includes("src=10.253.7.2") && line.includes("dport=22"));
}

describe.skipIf(skip !== null)("ssh over the LAN while the kill switch loads", () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "koffer-lanks-"));
    const profile = await loadProfileOrThrow(profileFile);
    expect(profile.spec.network.ssh && profile.spec.vpn.killSwitch).toBe(true);
    killSwitch = nftablesConf(profile, [
      { address: "192.0.2.7", names: ["vpn.meerane.example"], source: "/etc/hosts:3" },
    ]);
    expect(killSwitch).toContain(replyRule);
    await writeFile(join(dir, "koffer.nft"), killSwitch);
    await writeFile(
      join(dir, "no-reply-rule.nft"),
      killSwitch
        .split("\n")
        .filter((line) => line.trim() !== replyRule)
        .join("\n"),
    );
  }, 60_000);

  afterEach(async () => {
    for (const l of lans.splice(0)) {
      await l.sshd?.stop();
      await deleteNetns(l.laptop);
      await deleteNetns(l.controller);
    }
  });

  afterAll(async () => {
    if (dir !== "") await rm(dir, { recursive: true, force: true });
  });

  it("keeps the run's own session, and refuses a new one from the LAN (NET-03)", async () => {
    const l = await lan();
    const target = await open(l);
    try {
      expect(await target.readText("/etc/os-release")).not.toBeNull();
      // The hard case: nothing tracks the session when the ruleset arrives.
      expect(await tracked(l)).toEqual([]);
      // koffer's reads go on beside the load (the tar channel, SFTP).
      const reads = Promise.all(
        Array.from({ length: 20 }, () => target.readText("/etc/os-release")),
      );
      const load = await within(30_000, target.exec("nft", ["-f", join(dir, "koffer.nft")]));
      expect(load === "cut" ? "cut" : load.exitCode).toBe(0);
      expect((await within(30_000, reads)) === "cut").toBe(false);
      const ruleset = await execa("ip", ["netns", "exec", l.laptop, "nft", "list", "ruleset"]);
      expect(ruleset.stdout).toMatch(/chain output \{[^}]*policy drop;/);
      for (let i = 0; i < 5; i++) {
        const r = await within(30_000, target.exec("true", []));
        expect(r === "cut" ? "cut" : r.exitCode).toBe(0);
        await new Promise((done) => setTimeout(done, 500));
      }
      // The session is tracked now; a new one from the LAN does not get in.
      expect((await tracked(l)).length).toBeGreaterThan(0);
      await expect(open(l, 3)).rejects.toThrow();
    } finally {
      await within(15_000, target.close());
    }
  }, 180_000);

  it("is cut by the same ruleset without the SSH reply rule (so the case above can fail)", async () => {
    const l = await lan();
    const target = await open(l);
    try {
      expect(await tracked(l)).toEqual([]);
      const load = await within(
        10_000,
        target
          .exec("nft", ["-f", join(dir, "no-reply-rule.nft")])
          .then(() => target.exec("true", [])),
      );
      expect(load).toBe("cut");
    } finally {
      await within(15_000, target.close());
    }
  }, 180_000);
});
