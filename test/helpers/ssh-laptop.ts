/**
 * Running laptops reachable over SSH, on the rig (test/rig/): the rig's desktop laptop root
 * plus a cached layer with what an SSH-administered laptop has (openssh-server, sudo, a
 * technician login with sudo NOPASSWD), booted with systemd-nspawn in its own network
 * namespace. The controller side is another namespace joined by a veth pair; koffer runs
 * there (`ip netns exec`), exactly as a technician's machine would reach the laptop.
 *
 * The laptops have no route to the Debian mirror, so the layer also carries the packages
 * provisioning with the given profile installs (found with `koffer plan --root` on the
 * layer's own tree); everything else provisioning does (files, units, accounts, purges)
 * happens over SSH during the test.
 */
import { createHash } from "node:crypto";
import { existsSync, realpathSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rename, rm, writeFile, chown } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { acquireCacheLock } from "../../src/demo/debian-root.js";
import { track, undoLeftover } from "../rig/cleanup.js";
import { laptopRoot } from "../rig/laptop-root.js";
import { bootMachine, machineSkipReason, type BootedMachine } from "../rig/machine.js";
import { createNetns, deleteNetns, linkNetns } from "../rig/netns.js";
import { kofferBin, repoRoot } from "./cli.js";

export function sshLaptopSkipReason(): string | null {
  return machineSkipReason() ?? (existsSync("/usr/bin/ssh") ? null : "ssh is missing");
}

/** Bump when the layer recipe changes. */
const layerVersion = 1;
const technician = "technik";
/** test/fixtures/ssh/rig-laptop.yaml's sshListenAddress. */
export const tunnelAddress = "10.8.0.7";

async function sh(argv: string[], input?: string): Promise<string> {
  const r = await execa(argv[0] as string, argv.slice(1), {
    reject: false,
    ...(input === undefined ? {} : { input }),
    env: { LC_ALL: "C" },
  });
  if (r.exitCode !== 0) {
    throw new Error(`${argv.join(" ")} failed (${r.exitCode}): ${String(r.stderr).slice(-2000)}`);
  }
  return String(r.stdout);
}

async function mountOverlay(lower: string[], dir: string): Promise<string> {
  const merged = join(dir, "root");
  await mkdir(join(dir, "upper"), { recursive: true });
  await mkdir(join(dir, "work"), { recursive: true });
  await mkdir(merged, { recursive: true });
  await sh([
    "mount",
    "-t",
    "overlay",
    "overlay",
    "-o",
    `lowerdir=${lower.join(":")},upperdir=${join(dir, "upper")},workdir=${join(dir, "work")}`,
    merged,
  ]);
  return merged;
}

/**
 * The cached layer (an overlay upper directory) over the laptop root for `profileYaml`.
 * Returns [layer, laptop root] — the lower directories of every laptop's overlay.
 */
export async function sshLaptopLayer(profileYaml: string): Promise<[string, string]> {
  const base = await laptopRoot();
  const key = createHash("sha256")
    .update(JSON.stringify({ layerVersion, base, profileYaml }))
    .digest("hex")
    .slice(0, 12);
  const cache = join(homedir(), ".cache", "koffer");
  const final = join(cache, `ssh-laptop-${key}`);
  if (existsSync(final)) return [final, base];
  const dir = await mkdtemp(join(cache, `ssh-laptop-${key}.tmp-`));
  const merged = await mountOverlay([base], dir);
  const item = { kind: "mount" as const, name: dir.split("/").pop() as string, path: merged, dir };
  const untrack = track(item, () => undoLeftover(item));
  try {
    // What provisioning would install: taken from koffer's own plan of this tree.
    const profile = join(dir, "profile.yaml");
    await writeFile(profile, profileYaml);
    const plan = await execa(
      process.execPath,
      [kofferBin, "plan", "--root", merged, "--profile", profile, "--format", "json"],
      { reject: false },
    );
    const changes = (
      JSON.parse(String(plan.stdout)) as { changes: { kind: string; packages?: string[] }[] }
    ).changes;
    const packages = changes
      .filter((c) => c.kind === "install-packages")
      .flatMap((c) => c.packages ?? []);
    const archives = join(cache, "apt-archives");
    await mkdir(join(archives, "partial"), { recursive: true });
    const script = [
      "set -e",
      "printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d",
      "apt-get update -q",
      `apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-confold openssh-server openssh-sftp-server sudo ${packages.join(" ")}`,
      "rm -f /usr/sbin/policy-rc.d /etc/ssh/ssh_host_*",
      "rm -rf /var/lib/apt/lists/*",
      `id ${technician} >/dev/null 2>&1 || useradd -m -s /bin/bash ${technician}`,
      `usermod -p '*' ${technician}`,
      `printf '%s ALL=(ALL:ALL) NOPASSWD: ALL\\n' ${technician} > /etc/sudoers.d/${technician}`,
      `chmod 440 /etc/sudoers.d/${technician}`,
      // openssh-server's postinst enables ssh.service (deb-systemd-helper, no bus needed).
    ].join("\n");
    // The .deb cache is shared with koffer's own apt runs (and other tests): apt gives up at
    // once on its archives lock, so take koffer's lock on the cache first, as they do.
    const releaseArchives = await acquireCacheLock(join(archives, ".koffer-lock"), 30 * 60_000);
    await sh([
      "systemd-nspawn",
      "-q",
      `--directory=${merged}`,
      "--register=no",
      // No scope unit: this host's PID 1 need not be systemd (no system bus).
      "--keep-unit",
      "--as-pid2",
      "--pipe",
      "--resolv-conf=bind-host",
      "--timezone=off",
      "--link-journal=no",
      `--bind=${archives}:/var/cache/apt/archives`,
      "-E",
      "DEBIAN_FRONTEND=noninteractive",
      "sh",
      "-c",
      script,
    ]).finally(releaseArchives);
    await sh(["umount", merged]);
    untrack();
    await rm(join(dir, "work"), { recursive: true, force: true });
    await rename(join(dir, "upper"), final);
    return [final, base];
  } finally {
    await execa("umount", [merged], { reject: false });
    untrack();
    await rm(dir, { recursive: true, force: true });
  }
}

export interface SshLaptop {
  readonly machine: BootedMachine;
  /** Host path of the laptop's root. */
  root: string;
  address: string;
  /** `technik@10.251.N.2`. */
  destination: string;
  /** `technik@10.8.0.7`: the profile's sshListenAddress, where sshd listens once provisioned. */
  tunnelDestination: string;
  knownHosts: string;
  identity: string;
  /** SHA256 fingerprint of its ECDSA host key. */
  fingerprint: string;
  /** The namespace koffer (the controller) runs in. */
  controllerNs: string;
  /** The controller's end of the veth pair (for tc netem). */
  controllerIf: string;
  /** Run the built koffer CLI in the controller namespace. */
  koffer(
    args: string[],
    timeoutMs?: number,
  ): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  /** Run the built koffer CLI inside the laptop (local verify there). */
  kofferInside(args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  /** Power the laptop off and boot it again on the same root and network (`machine` is the new one). */
  reboot(): Promise<void>;
  /**
   * Stand in for the IPsec tunnel the rig does not have: koffer's firewall lets SSH in only
   * through IPsec (`meta ipsec exists`); this inserts, live and only into the running ruleset,
   * a rule that admits the controller's address to port 22 as the tunnel would.
   */
  admitController(): Promise<void>;
  stop(): Promise<void>;
}

/** Node and this checkout, read-only inside the laptop, at the same paths as on the host. */
function kofferBinds(): string[] {
  const modules = realpathSync(join(repoRoot, "node_modules"));
  const repo = repoRoot.replace(/\/$/, "");
  return [
    `${process.execPath}:/usr/local/bin/node`,
    `${repo}:${repo}`,
    ...(modules.startsWith(repo) ? [] : [`${modules}:${modules}`]),
  ];
}

const keys = new Map<string, Promise<void>>();
/**
 * The controller's key, made once even when several laptops boot at the same time (a second
 * ssh-keygen on an existing file asks "Overwrite?" and waits for ever).
 */
function controllerKey(identity: string): Promise<void> {
  let made = keys.get(identity);
  if (made === undefined) {
    made = existsSync(identity)
      ? Promise.resolve()
      : sh(["ssh-keygen", "-q", "-t", "ecdsa", "-b", "384", "-N", "", "-f", identity]).then(
          () => undefined,
        );
    keys.set(identity, made);
  }
  return made;
}

/** A controller namespace shared by several laptops. */
export async function controllerNetns(): Promise<string> {
  return createNetns("kof-sshc");
}

/**
 * Boot laptop `index` (1–250): its own overlay over the layer, fresh host keys, the
 * controller's key authorised for the technician, sshd listening, reached at 10.251.index.2.
 */
export async function bootSshLaptop(options: {
  index: number;
  layer: [string, string];
  controllerNs: string;
  /** Private key (its .pub beside it) for the technician's login; made when missing. */
  identity: string;
  workDir: string;
  /** Route the tunnel address (10.8.0.7) from the controller namespace to this laptop. */
  routeTunnelAddress?: boolean;
  /**
   * CAP_NET_ADMIN for the laptop's root (a real laptop's root has it): nftables.service can
   * load its ruleset. Off by default: the ruleset lets SSH in only through the IPsec tunnel,
   * which the rig does not have, so a test that asks for it stands in for the tunnel itself.
   */
  netAdmin?: boolean;
  /** Do not put the tunnel address on the laptop's link (the tunnel is not up yet). */
  withoutTunnelAddress?: boolean;
  /** How long its boot may take (default 120 s; a fleet booting on two cores needs more). */
  bootTimeoutMs?: number;
}): Promise<SshLaptop> {
  const { index, layer, controllerNs, identity, workDir } = options;
  await controllerKey(identity);
  const dir = await mkdtemp(join("/var/tmp", "kof-root-"));
  const root = await mountOverlay(layer, dir);
  const item = { kind: "mount" as const, name: dir.split("/").pop() as string, path: root, dir };
  const untrack = track(item, () => undoLeftover(item));
  let machine: BootedMachine | null = null;
  let laptopNs: string | null = null;
  const stop = async () => {
    await machine?.stop();
    if (laptopNs !== null) await deleteNetns(laptopNs);
    await execa("umount", [root], { reject: false });
    untrack();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const hostname = `kof-lap-${index}`;
    await writeFile(join(root, "etc", "hostname"), `${hostname}\n`);
    await writeFile(
      join(root, "etc", "hosts"),
      `127.0.0.1\tlocalhost\n127.0.1.1\t${hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n`,
    );
    await sh(["ssh-keygen", "-A", "-f", root]);
    const passwd = await readFile(join(root, "etc", "passwd"), "utf8");
    const entry = passwd
      .split("\n")
      .find((l) => l.startsWith(`${technician}:`))
      ?.split(":");
    const [uid, gid] = [Number(entry?.[2]), Number(entry?.[3])];
    const sshDir = join(root, "home", technician, ".ssh");
    await mkdir(sshDir, { recursive: true, mode: 0o700 });
    await writeFile(join(sshDir, "authorized_keys"), await readFile(`${identity}.pub`), {
      mode: 0o600,
    });
    await chown(sshDir, uid, gid);
    await chown(join(sshDir, "authorized_keys"), uid, gid);
    laptopNs = await createNetns(`kof-sshl${index}`);
    const link = await linkNetns(
      controllerNs,
      laptopNs,
      `10.251.${index}.1/24`,
      `10.251.${index}.2/24`,
    );
    const address = `10.251.${index}.2`;
    // The profile's sshListenAddress stands in for the laptop's tunnel address (harness only:
    // no tunnel here). Every laptop has it, so an sshd restarted onto it can bind; the
    // controller routes it to the laptop that asks (one per controller namespace).
    if (options.withoutTunnelAddress !== true)
      await sh(["ip", "-n", laptopNs, "addr", "add", `${tunnelAddress}/32`, "dev", link.ifB]);
    if (options.routeTunnelAddress) {
      await sh(["ip", "-n", controllerNs, "route", "add", `${tunnelAddress}/32`, "via", address]);
    }
    const pub = (await readFile(join(root, "etc", "ssh", "ssh_host_ecdsa_key.pub"), "utf8")).split(
      " ",
    );
    const knownHosts = join(workDir, `known_hosts-${index}`);
    await writeFile(
      knownHosts,
      `${address} ${pub[0]} ${pub[1]}\n${tunnelAddress} ${pub[0]} ${pub[1]}\n`,
    );
    const fingerprint = (
      await sh(["ssh-keygen", "-lf", join(root, "etc", "ssh", "ssh_host_ecdsa_key.pub")])
    ).split(/\s+/)[1] as string;
    const boot = async (): Promise<BootedMachine> => {
      const booted = await bootMachine({
        root,
        name: `kof-sshlap-${index}-${process.pid}`,
        netns: laptopNs as string,
        bindsRo: kofferBinds(),
        ...(options.netAdmin === true
          ? {
              capabilities: ["CAP_NET_ADMIN"],
              // The laptop's own net.* sysctls (systemd-sysctl at boot, sysctl -p).
              netSysctlWritable: true,
            }
          : {}),
      });
      machine = booted;
      await booted.waitUntilBooted(options.bootTimeoutMs ?? 120_000);
      return booted;
    };
    const first = await boot();
    const deadline = Date.now() + 60_000;
    for (;;) {
      const scan = await execa(
        "ip",
        ["netns", "exec", controllerNs, "ssh-keyscan", "-T", "2", "-t", "ecdsa", address],
        { reject: false },
      );
      if (String(scan.stdout).includes("ecdsa")) break;
      if (Date.now() > deadline) {
        throw new Error(`sshd on ${hostname} did not come up: ${await first.consoleLog()}`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    const controllerAddress = `10.251.${index}.1`;
    return {
      get machine() {
        return machine as BootedMachine;
      },
      root,
      address,
      destination: `${technician}@${address}`,
      tunnelDestination: `${technician}@${tunnelAddress}`,
      knownHosts,
      identity,
      fingerprint,
      controllerNs,
      controllerIf: link.ifA,
      async koffer(args, timeoutMs = 600_000) {
        const r = await execa(
          "ip",
          ["netns", "exec", controllerNs, process.execPath, kofferBin, ...args],
          { reject: false, timeout: timeoutMs, env: { NO_COLOR: "1" } },
        );
        return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
      },
      async kofferInside(args) {
        return (machine as BootedMachine).run(["/usr/local/bin/node", kofferBin, ...args], {
          timeoutMs: 300_000,
        });
      },
      async reboot() {
        await machine?.stop();
        await boot();
      },
      async admitController() {
        const r = await (machine as BootedMachine).run([
          "nft",
          "insert",
          "rule",
          "inet",
          "koffer",
          "input",
          "ip",
          "saddr",
          controllerAddress,
          "tcp",
          "dport",
          "22",
          "accept",
        ]);
        if (r.exitCode !== 0) throw new Error(`nft insert failed: ${r.stderr}`);
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The profile of the ssh rig tests (network.ssh: true, the tunnel address, admins: [technik]). */
export const rigLaptopProfile = join(repoRoot, "test", "fixtures", "ssh", "rig-laptop.yaml");

/** What {@link sshLaptopRig} sets up for one test file, and takes down again. */
export interface SshLaptopRig {
  /** The test's own directory (controller key, known_hosts files, profiles). */
  readonly work: string;
  /** The cached layer for {@link rigLaptopProfile} (made on first use, then reused). */
  layer(): Promise<[string, string]>;
  /** A further controller namespace (a laptop needing its own route to the tunnel address). */
  controller(): Promise<string>;
  /**
   * Boot laptop `index` from the layer, the technician's key the rig's, its known_hosts in
   * `work`; reached from `controllerNs`, by default one controller namespace shared by the
   * file's laptops.
   */
  boot(
    options: Omit<
      Parameters<typeof bootSshLaptop>[0],
      "layer" | "identity" | "workDir" | "controllerNs"
    > & {
      controllerNs?: string;
    },
  ): Promise<SshLaptop>;
  /** Stop every laptop (in boot order), delete the controller namespaces, remove `work`. */
  cleanup(): Promise<void>;
}

/**
 * The common setup of the ssh rig tests: a work directory `<prefix>XXXXXX` in the run's
 * TMPDIR, the layer, controller namespaces and laptops, all removed by `cleanup()` (call it
 * from afterAll; everything is tracked by the rig as well, for a run that is killed).
 */
export async function sshLaptopRig(prefix: string): Promise<SshLaptopRig> {
  const work = await mkdtemp(join(tmpdir(), prefix));
  const laptops: SshLaptop[] = [];
  const controllers: string[] = [];
  let layer: Promise<[string, string]> | undefined;
  let shared: Promise<string> | undefined;
  const controller = async () => {
    const ns = await controllerNetns();
    controllers.push(ns);
    return ns;
  };
  const rig: SshLaptopRig = {
    work,
    layer: () => (layer ??= readFile(rigLaptopProfile, "utf8").then(sshLaptopLayer)),
    controller,
    async boot(options) {
      const laptop = await bootSshLaptop({
        ...options,
        layer: await rig.layer(),
        controllerNs: options.controllerNs ?? (await (shared ??= controller())),
        identity: join(work, "id_ecdsa"),
        workDir: work,
      });
      laptops.push(laptop);
      return laptop;
    },
    async cleanup() {
      for (const laptop of laptops.splice(0)) await laptop.stop();
      for (const ns of controllers.splice(0)) await deleteNetns(ns);
      await rm(work, { recursive: true, force: true });
    },
  };
  return rig;
}
