/**
 * sshd bound to the VPN tunnel address starts at boot, before the tunnel exists, on a running
 * rig laptop (systemd-nspawn boot, CAP_NET_ADMIN as a real laptop's root has, its own
 * network namespace reached from a controller namespace over a veth pair):
 *
 * 1. `koffer provision --ssh` over the laptop's LAN address while the tunnel address is NOT
 *    configured: koffer sets net.ipv4.ip_nonlocal_bind (the sysctl.d drop-in, put into effect
 *    at once) before it reloads sshd onto ListenAddress 10.8.0.7; the run goes on;
 * 2. after a reboot, with the tunnel still down: ssh.service is active and sshd listens on
 *    10.8.0.7:22 only; the local verify judges NET-03 from the running sshd and passes;
 * 3. real connections from the controller namespace: to the LAN address nothing answers
 *    (the firewall drops it; sshd does not listen there either: refused once the firewall lets
 *    it through); to the tunnel address, once it is configured as strongSwan would, the
 *    firewall drops what does not come through IPsec, and with the rig's stand-in for the
 *    tunnel an ssh login succeeds.
 */
import { execa } from "execa";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  rigLaptopProfile,
  sshLaptopRig,
  sshLaptopSkipReason,
  tunnelAddress,
  type SshLaptop,
  type SshLaptopRig,
} from "../helpers/ssh-laptop.js";

const skip = sshLaptopSkipReason();

describe.skipIf(skip !== null)("sshd on the tunnel address starts before the tunnel", () => {
  let rig: SshLaptopRig;
  let laptop: SshLaptop | undefined;

  beforeAll(async () => {
    rig = await sshLaptopRig("koffer-sshboot-");
  });

  afterAll(async () => {
    if (rig) await rig.cleanup();
  }, 120_000);

  /** A TCP connection from the controller namespace: "open", "refused" or "timeout". */
  const connect = async (address: string): Promise<string> => {
    const r = await execa(
      "ip",
      [
        "netns",
        "exec",
        (laptop as SshLaptop).controllerNs,
        process.execPath,
        "-e",
        `const s = require("node:net").connect({ host: process.argv[1], port: 22, timeout: 3000 });
         s.on("connect", () => { console.log("open"); s.destroy(); });
         s.on("timeout", () => { console.log("timeout"); s.destroy(); });
         s.on("error", (e) => console.log(e.code === "ECONNREFUSED" ? "refused" : e.code));`,
        address,
      ],
      { reject: false },
    );
    return String(r.stdout).trim();
  };

  it("provision over the LAN, reboot without the tunnel: sshd is up on the tunnel address only", async () => {
    laptop = await rig.boot({
      index: 43,
      routeTunnelAddress: true,
      netAdmin: true,
      withoutTunnelAddress: true,
    });
    const l = laptop;
    const inside = async (argv: string[]) => {
      const r = await l.machine.run(argv);
      return r.stdout.trim();
    };
    const sshdListening = async () =>
      (await inside(["ss", "-Hltnp", "sport", "=", ":22"]))
        .split("\n")
        .filter((line) => line.includes('"sshd"'))
        .map((line) => line.trim().split(/\s+/)[3])
        .sort();
    expect(await inside(["sysctl", "-n", "net.ipv4.ip_nonlocal_bind"])).toBe("0");
    expect(await inside(["ip", "-o", "address", "show", "to", tunnelAddress])).toBe("");

    const run = await l.koffer([
      "provision",
      "--ssh",
      l.destination,
      "--ssh-identity",
      l.identity,
      "--known-hosts",
      l.knownHosts,
      "--profile",
      rigLaptopProfile,
      "--yes",
    ]);
    console.log(
      `provision --ssh before the tunnel: exit ${run.exitCode}\n${run.stdout
        .split("\n")
        .filter((line) => /^(Run| {2}failed|Verify| {2}failing)/.test(line))
        .join("\n")}`,
    );
    expect(run.stdout).toMatch(/^Run \S+: [1-9]\d* applied, \d+ already right, 0 failed/m);
    // Put into effect before sshd's reload, which therefore bound the absent address.
    expect(await inside(["sysctl", "-n", "net.ipv4.ip_nonlocal_bind"])).toBe("1");
    expect(await sshdListening()).toEqual([`${tunnelAddress}:22`]);

    // Boot again; the tunnel is still down.
    await l.reboot();
    expect(await inside(["systemctl", "is-active", "ssh.service"])).toBe("active");
    expect(await inside(["systemctl", "is-active", "nftables.service"])).toBe("active");
    expect(await inside(["sysctl", "-n", "net.ipv4.ip_nonlocal_bind"])).toBe("1");
    expect(await inside(["ip", "-o", "address", "show", "to", tunnelAddress])).toBe("");
    expect(await sshdListening()).toEqual([`${tunnelAddress}:22`]);
    await execa("cp", [rigLaptopProfile, join(l.root, "root", "rig-laptop.yaml")]);
    const verify = await l.kofferInside([
      "verify",
      "--profile",
      "/root/rig-laptop.yaml",
      "--format",
      "json",
    ]);
    const controls = (
      JSON.parse(verify.stdout) as { controls: { id: string; status: string; message: string }[] }
    ).controls;
    const net03 = controls.find((c) => c.id === "NET-03");
    expect(net03?.status, net03?.message).toBe("pass");
    expect(controls.find((c) => c.id === "NET-01")?.status).toBe("pass");

    // The LAN address: the firewall drops SSH that does not come through IPsec.
    expect(await connect(l.address)).toBe("timeout");
    // The tunnel comes up: strongSwan installs the virtual IP (here: by hand).
    const link = (await inside(["ip", "-o", "-4", "address", "show", "to", l.address])).split(
      /\s+/,
    )[1] as string;
    await l.machine.run(["ip", "address", "add", `${tunnelAddress}/32`, "dev", link]);
    // Still nothing without IPsec: the firewall admits port 22 only through the tunnel.
    expect(await connect(tunnelAddress)).toBe("timeout");
    // The stand-in for the tunnel: the controller's packets are let through.
    await l.admitController();
    // sshd itself accepts only on the tunnel address: the LAN address refuses.
    expect(await connect(l.address)).toBe("refused");
    const login = await execa(
      "ip",
      [
        "netns",
        "exec",
        l.controllerNs,
        "ssh",
        "-F",
        "none",
        "-i",
        l.identity,
        "-o",
        `UserKnownHostsFile=${l.knownHosts}`,
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "BatchMode=yes",
        "-o",
        "ConnectTimeout=5",
        l.tunnelDestination,
        "echo",
        "logged-in",
      ],
      { reject: false },
    );
    expect(String(login.stdout).trim(), String(login.stderr)).toBe("logged-in");
  }, 1_200_000);
});
