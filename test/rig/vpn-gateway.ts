/**
 * The municipality's VPN gateway for the rig: a second machine (a plain Debian 12 or 13 root
 * with strongSwan, booted with the rig's bootMachine) running charon-systemd/swanctl as the IKEv2
 * responder, with a server certificate from the test CA, the profile's gateway identity, only
 * the TR-02102-3 proposals, and a remote network behind it (a dummy interface in
 * 10.252.x.y, a host in its own network namespace routed by the gateway) that traffic
 * assertions aim at.
 *
 * HARNESS ONLY — the userspace data path. This host's kernel has no ESP and no AES-GCM xfrm,
 * so both ends of the rig's tunnel run strongSwan's kernel-libipsec plugin (Debian package
 * libcharon-extra-plugins): ESP in userspace, packets through a TUN device (/dev/net/tun is
 * bound into both machines). It is switched on by {@link libipsecDropIn}, a file in
 * strongswan.d/charon/ of the TEST COPY only. koffer never installs or enables
 * kernel-libipsec on a laptop; the provisioned laptop configuration is used unchanged apart
 * from that drop-in (and /etc/hosts naming the gateway's address, see vpn-tunnel.test.ts).
 */
import { execa } from "execa";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { debianRoot, debianRootPackages } from "../../src/demo/debian-root.js";
import { releases, type PlatformId } from "../../src/platform/releases.js";
import { issue, makeCa, openssl } from "../helpers/openssl.js";
import { bootMachine, type BootedMachine } from "./machine.js";
import { createNetns, deleteNetns, linkNetns } from "./netns.js";

/** What a gateway root has on top of the release's plain root (the same names in 12 and 13). */
const gatewayExtras = [
  "strongswan-swanctl",
  "charon-systemd",
  "libstrongswan-standard-plugins",
  // kernel-libipsec (the userspace ESP data path of the harness) is in this package.
  "libcharon-extra-plugins",
  "iproute2",
  "iputils-ping",
  // Captures on the gateway's uplink: only UDP 4500 (ESP in UDP) may carry the laptop's traffic.
  "tcpdump",
] as const;

/** The Debian 12 gateway's root: the plain Debian root plus strongSwan (with kernel-libipsec) and tools. */
export const gatewayPackages: readonly string[] = [...debianRootPackages, ...gatewayExtras];

/**
 * The cached gateway root of a release (default Debian 12; read-only, boot a copy). The
 * Debian 13 one also serves as the minimal laptop koffer provisions for the post-quantum
 * tunnel cases (test/rig/vpn-pq.test.ts).
 */
export function gatewayRoot(platform: PlatformId = "debian-12"): Promise<string> {
  if (platform === "debian-12") return debianRoot(gatewayPackages);
  const release = releases[platform];
  return debianRoot({
    release: platform,
    packages: [...release.debootstrapPackages, ...gatewayExtras],
  });
}

/** HARNESS ONLY: load strongSwan's userspace IPsec data path (see the module note). */
export const libipsecDropIn = {
  path: "/etc/strongswan.d/charon/zz-koffer-rig-libipsec.conf",
  text:
    "# koffer test harness ONLY (never on a laptop): this machine's kernel has no ESP/AES-GCM\n" +
    "# xfrm, so the rig's tunnel uses strongSwan's userspace data path through /dev/net/tun.\n" +
    "kernel-libipsec {\n    load = yes\n}\n",
};

/**
 * Boot options for a machine that runs charon with kernel-libipsec: /dev/net/tun, and
 * CAP_NET_ADMIN, which systemd-nspawn grants only with --private-network, not to a machine
 * joining a host network namespace (charon must add routes, rules and the TUN device).
 */
export const tunDevice = {
  binds: ["/dev/net/tun"],
  properties: ["DeviceAllow=/dev/net/tun rwm"],
  capabilities: ["CAP_NET_ADMIN"],
};

/** Write the harness-only libipsec drop-in into a machine's (copied) root tree. */
export async function addLibipsecDropIn(root: string): Promise<void> {
  await mkdir(join(root, "etc/strongswan.d/charon"), { recursive: true });
  await writeFile(join(root, libipsecDropIn.path), libipsecDropIn.text, { mode: 0o644 });
}

/** The test PKI: the example municipality CA (its key from the test .p12) and issued leaves. */
export interface TestPki {
  dir: string;
  /** File stem of the municipality CA in `dir` (`<ca>.pem`, `<ca>.key`). */
  ca: string;
}

/** Put the example VPN CA (examples/certs/test-vpn-ca.p12) into `dir` as `vpn-ca.pem/.key`. */
export async function examplePki(dir: string, repoRoot: string): Promise<TestPki> {
  const certs = join(repoRoot, "examples/certs");
  await openssl(dir, [
    "pkcs12",
    "-in",
    join(certs, "test-vpn-ca.p12"),
    "-passin",
    `file:${join(certs, "test-vpn-ca.pass")}`,
    "-nocerts",
    "-nodes",
    "-out",
    "vpn-ca.key",
  ]);
  await chmod(join(dir, "vpn-ca.key"), 0o600);
  await openssl(dir, ["x509", "-in", join(certs, "test-vpn-ca.pem"), "-out", "vpn-ca.pem"]);
  return { dir, ca: "vpn-ca" };
}

/** A second, foreign CA (for the "gateway certificate from another CA" case). */
export async function foreignCa(dir: string): Promise<TestPki> {
  await makeCa(dir, "foreign-ca", "/CN=Fremde CA (Test)/O=Anderswo/C=DE");
  return { dir, ca: "foreign-ca" };
}

/** openssl -subj form of a DN written "CN=a, O=b, C=DE" (same order: strongSwan compares it). */
export function subjectArg(dn: string): string {
  return `/${dn
    .split(/,\s*/)
    .map((p) => p.replace(/\//g, "\\/"))
    .join("/")}`;
}

/** A gateway server certificate for `dn`, issued by `pki`'s CA; returns the PEM paths. */
export async function issueGatewayCert(
  pki: TestPki,
  name: string,
  dn: string,
  dnsName: string,
): Promise<{ cert: string; key: string }> {
  await issue(pki.dir, {
    ca: pki.ca,
    name,
    subject: subjectArg(dn),
    extensions: `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:${dnsName}\n`,
  });
  return { cert: join(pki.dir, `${name}.pem`), key: join(pki.dir, `${name}.key`) };
}

/**
 * A client certificate valid only in the past (for the "expired client certificate" case),
 * for the key and subject of an existing certificate: `openssl ca` is the one openssl 3.0
 * command that takes explicit dates.
 */
export async function issueExpiredCert(
  pki: TestPki,
  name: string,
  keyFile: string,
  certFile: string,
): Promise<string> {
  const dir = pki.dir;
  await writeFile(join(dir, "index.txt"), "");
  await writeFile(join(dir, "serial"), "4711\n");
  await writeFile(
    join(dir, "ca.cnf"),
    [
      "[ca]",
      "default_ca = rig",
      "[rig]",
      `dir = ${dir}`,
      "database = $dir/index.txt",
      "serial = $dir/serial",
      "new_certs_dir = $dir",
      `certificate = $dir/${pki.ca}.pem`,
      `private_key = $dir/${pki.ca}.key`,
      "default_md = sha384",
      "policy = any",
      "unique_subject = no",
      "copy_extensions = none",
      "x509_extensions = client",
      "[any]",
      "commonName = supplied",
      "organizationalUnitName = optional",
      "organizationName = optional",
      "countryName = optional",
      "[client]",
      "basicConstraints = critical,CA:FALSE",
      "keyUsage = critical,digitalSignature",
      "extendedKeyUsage = clientAuth",
      "",
    ].join("\n"),
  );
  await openssl(dir, [
    "x509",
    "-x509toreq",
    "-in",
    certFile,
    "-signkey",
    keyFile,
    "-out",
    `${name}.csr`,
  ]);
  await openssl(dir, [
    "ca",
    "-batch",
    "-config",
    "ca.cnf",
    "-preserveDN",
    "-startdate",
    "20240101000000Z",
    "-enddate",
    "20250101000000Z",
    "-in",
    `${name}.csr`,
    "-out",
    `${name}.pem`,
    "-notext",
  ]);
  return join(dir, `${name}.pem`);
}

export interface GatewayConfig {
  /** The gateway's identity (its certificate subject; the laptop pins it). */
  id: string;
  /** IKE and ESP proposals the responder accepts. */
  ike: string[];
  esp: string[];
  /** Server certificate and key (PEM files on the host). */
  cert: string;
  key: string;
  /** CA certificates the gateway trusts for clients. */
  clientCas: string[];
  /** The host behind the gateway, e.g. "10.252.7.1/24" (the gateway is .254 on that link). */
  remoteNet: string;
  /** Virtual IPv4 pool for clients, e.g. "10.252.3.0/24"; IPv6 from a ULA /120. */
  pool4: string;
  pool6: string;
}

/** swanctl.conf of the responder; accepts any client certificate from `clientCas`. */
export function gatewaySwanctl(config: GatewayConfig): string {
  const cas = config.clientCas.map((_, i) => `client-ca-${i}.pem`).join(",");
  return `# koffer rig: the municipality's VPN gateway (responder)
connections {
	rathaus {
		version = 2
		local_addrs = %any
		proposals = ${config.ike.join(",")}
		pools = v4, v6
		local {
			auth = pubkey
			certs = gateway.pem
			id = "${config.id}"
		}
		remote {
			auth = pubkey
			cacerts = ${cas}
		}
		children {
			koffer {
				local_ts = 0.0.0.0/0,::/0
				esp_proposals = ${config.esp.join(",")}
				mode = tunnel
			}
		}
	}
}
pools {
	v4 {
		addrs = ${config.pool4}
	}
	v6 {
		addrs = ${config.pool6}
	}
}
`;
}

/** Write the gateway's swanctl configuration and credentials into its root tree. */
export async function writeGatewayConfig(root: string, config: GatewayConfig): Promise<void> {
  const swanctl = join(root, "etc/swanctl");
  await mkdir(join(swanctl, "conf.d"), { recursive: true });
  await writeFile(join(swanctl, "conf.d/rathaus.conf"), gatewaySwanctl(config));
  await writeFile(join(swanctl, "x509/gateway.pem"), await readFile(config.cert));
  await writeFile(join(swanctl, "private/gateway.key"), await readFile(config.key), {
    mode: 0o600,
  });
  for (const [i, ca] of config.clientCas.entries())
    await writeFile(join(swanctl, `x509ca/client-ca-${i}.pem`), await readFile(ca));
}

export interface Gateway {
  machine: BootedMachine;
  config: GatewayConfig;
  /** The host namespace of the network behind the gateway (its host has `remoteNet`). */
  remoteNetns: string;
  /** Stop the machine and remove the remote network. Idempotent. */
  stop(): Promise<void>;
  /** Replace the configuration and credentials and restart charon with them (SAs dropped). */
  reconfigure(config: GatewayConfig): Promise<void>;
  /** `swanctl --list-sas` of the gateway. */
  listSas(): Promise<string>;
}

async function must(machine: BootedMachine, argv: string[]): Promise<string> {
  const r = await machine.run(argv, { timeoutMs: 60_000 });
  if (r.exitCode !== 0)
    throw new Error(
      `${machine.name}: ${argv.join(" ")} failed (${r.exitCode}): ${r.stderr}${r.stdout}`,
    );
  return r.stdout;
}

/** Wait until charon answers on its VICI socket (strongswan.service loaded the config). */
export async function waitForCharon(machine: BootedMachine, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    const r = await machine.run(["swanctl", "--stats"], { timeoutMs: 10_000 });
    if (r.exitCode === 0) return;
    last = r.stderr || r.stdout;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const journal = await machine.run(["journalctl", "-u", "strongswan", "--no-pager", "-n", "40"]);
  throw new Error(`${machine.name}: charon did not come up (${last}):\n${journal.stdout}`);
}

/**
 * Boot the gateway from a writable copy of {@link gatewayRoot} in host netns `netns`, with
 * the remote network on a dummy interface. The caller owns `root` (and removes it).
 */
export async function startGateway(opts: {
  root: string;
  name: string;
  netns: string;
  config: GatewayConfig;
}): Promise<Gateway> {
  await addLibipsecDropIn(opts.root);
  await writeGatewayConfig(opts.root, opts.config);
  await writeFile(join(opts.root, "etc/hostname"), "vpn-gateway\n");
  // The remote network: a host in its own namespace behind the gateway, reached only through
  // the tunnel (this kernel has no dummy links). The gateway routes between the two.
  const remoteNetns = await createNetns("kof-vrem");
  const [host, prefix] = opts.config.remoteNet.split("/");
  const inner = `${host!.replace(/\.\d+$/, ".254")}/${prefix}`;
  try {
    await linkNetns(remoteNetns, opts.netns, opts.config.remoteNet, inner);
    await execa("ip", ["-n", remoteNetns, "route", "add", "default", "via", inner.split("/")[0]!]);
    await execa("ip", ["netns", "exec", opts.netns, "sysctl", "-qw", "net.ipv4.ip_forward=1"]);
  } catch (error) {
    await deleteNetns(remoteNetns);
    throw error;
  }
  const machine = await bootMachine({
    root: opts.root,
    name: opts.name,
    netns: opts.netns,
    ...tunDevice,
  });
  const gateway: Gateway = {
    machine,
    config: opts.config,
    remoteNetns,
    async stop() {
      await machine.stop();
      await deleteNetns(remoteNetns);
    },
    async reconfigure(config) {
      await writeGatewayConfig(opts.root, config);
      gateway.config = config;
      // A restart, not only a reload: charon caches certificates it has verified, and a
      // cached one (same subject and key) would stand in for the one a case is about.
      await must(machine, ["systemctl", "restart", "strongswan.service"]);
      await waitForCharon(machine);
    },
    async listSas() {
      return must(machine, ["swanctl", "--list-sas"]);
    },
  };
  try {
    await machine.waitUntilBooted(180_000);
    await waitForCharon(machine);
  } catch (error) {
    await gateway.stop();
    throw error;
  }
  return gateway;
}

/** One SA of `swanctl --list-sas`: its name, state and algorithm line, and the CHILD_SAs. */
export interface ListedIkeSa {
  name: string;
  state: string;
  algorithms: string;
  children: {
    name: string;
    state: string;
    algorithms: string;
    bytesIn: number;
    bytesOut: number;
  }[];
}

/** Parse `swanctl --list-sas` (strongSwan 5.9/6 text form). */
export function parseListSas(text: string): ListedIkeSa[] {
  const out: ListedIkeSa[] = [];
  let child: ListedIkeSa["children"][number] | undefined;
  for (const line of text.split("\n")) {
    const ike = /^(\S+): #\d+, (\w+), IKEv\d/.exec(line);
    if (ike) {
      out.push({ name: ike[1] as string, state: ike[2] as string, algorithms: "", children: [] });
      child = undefined;
      continue;
    }
    const sa = out.at(-1);
    if (sa === undefined) continue;
    const c = /^ {2}(\S+): #\d+, reqid \d+, (\w+), [\w-]+, (\S+)/.exec(line);
    if (c) {
      child = {
        name: c[1] as string,
        state: c[2] as string,
        algorithms: c[3] as string,
        bytesIn: 0,
        bytesOut: 0,
      };
      sa.children.push(child);
      continue;
    }
    const bytes = /^ {4}(in|out)\s+\S+,\s+(\d+) bytes/.exec(line);
    if (bytes && child) {
      if (bytes[1] === "in") child.bytesIn = Number(bytes[2]);
      else child.bytesOut = Number(bytes[2]);
      continue;
    }
    const algorithms = /^ {2}([A-Z][A-Z0-9_]+(?:-\d+)?(?:\/[A-Z0-9_-]+)+)\s*$/.exec(line);
    if (algorithms && child === undefined) sa.algorithms = algorithms[1] as string;
  }
  return out;
}
