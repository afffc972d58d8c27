/**
 * Hybrid post-quantum IKEv2 on Debian 13, with real daemons on both ends (issue 13).
 *
 * Two Debian 13 machines booted with systemd-nspawn, one veth between their namespaces:
 * - the laptop: the cached Debian 13 gateway root (plain trixie + strongSwan 6.0.1) as a
 *   minimal laptop, provisioned by the built CLI with a profile that REQUIRES ML-KEM
 *   (`postQuantum: required`, only `…-ecp384-ke1_mlkem768` proposals);
 * - the gateway: the same root as the municipality's responder (vpn-gateway.ts).
 *
 * What Debian 13 can show today: Debian's strongSwan packages implement no ML-KEM (the probe in
 * test/fixtures/trixie-mlkem/probe-output.txt), so a hybrid tunnel between two stock trixie
 * machines cannot come up. The cases prove both halves with the daemons themselves:
 * - a gateway without ML-KEM (classical proposals only) refuses the laptop that requires it,
 *   and `koffer validate`/`koffer plan` say why before anyone drives to the town;
 * - two Debian 13 charons both configured for ECP-384 + ML-KEM-768 still get no tunnel, and
 *   the laptop's charon names the missing key exchange. The day a Debian package implements
 *   ML-KEM this case fails: then it becomes the hybrid tunnel test (swanctl --list-sas with
 *   both key exchanges), and releases.ts's `mlkem.packaged` turns true.
 *
 * Harness-only pieces as in vpn-tunnel.test.ts: the kernel-libipsec drop-in and an /etc/hosts
 * line naming the gateway. Addresses: uplink 10.251.9.0/24 (laptop .1, gateway .2); behind
 * the gateway 10.252.9.0/24; virtual IPs from 10.252.10.0/24 and fd00:252:10::/120.
 */
import { existsSync, rmSync } from "node:fs";
import { appendFile, cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { managedPath } from "../../src/facts/managed.js";
import { releases } from "../../src/platform/releases.js";
import { loadProfileOrThrow } from "../../src/profiles/loader.js";
import { koffer, repoRoot, type CliRun } from "../helpers/cli.js";
import { copyRoot, laptopRootSkipReason } from "./laptop-root.js";
import { bootMachine, type BootedMachine } from "./machine.js";
import { createNetns, deleteNetns, linkNetns } from "./netns.js";
import {
  addLibipsecDropIn,
  examplePki,
  gatewayRoot,
  issueGatewayCert,
  parseListSas,
  startGateway,
  tunDevice,
  waitForCharon,
  type Gateway,
  type GatewayConfig,
} from "./vpn-gateway.js";

const skip =
  laptopRootSkipReason() ??
  (existsSync("/dev/net/tun") ? null : "no /dev/net/tun (kernel-libipsec needs a TUN device)");

const uplink = { laptop: "10.251.9.1/24", gateway: "10.251.9.2/24" };
const hybrid = {
  ike: ["aes256gcm16-prfsha384-ecp384-ke1_mlkem768"],
  esp: ["aes256gcm16-ecp384-ke1_mlkem768"],
};
const classical = { ike: ["aes256gcm16-prfsha384-ecp384"], esp: ["aes256gcm16-ecp384"] };
/** The connection koffer writes is named after the profile (meerane-trixie). */
const connection = "meerane-trixie";

/** The profile: examples/meerane-trixie.yaml with ML-KEM required (extends stays in its dir). */
const requiredProfile = `apiVersion: koffer/v1
kind: Profile
metadata:
  name: meerane-trixie
  title: Mobiler Bürgerkoffer – Stadt Meerane (Debian 13, ML-KEM verpflichtend)
extends: [./meerane-trixie.yaml]
spec:
  vpn:
    postQuantum: required
    proposals:
      ike: [${hybrid.ike.join(", ")}]
      esp: [${hybrid.esp.join(", ")}]
`;

let dir: string;
let profilePath: string;
let validated: CliRun;
let provisioned: CliRun;
let planned: CliRun;
let good: GatewayConfig;
let laptopCopy: { path: string; cleanup(): Promise<void> } | undefined;
let gatewayCopy: { path: string; cleanup(): Promise<void> } | undefined;
let gateway: Gateway | undefined;
let machine: BootedMachine | undefined;
const namespaces: string[] = [];

function removeOnExit(path: string): void {
  process.once("exit", () => rmSync(path, { recursive: true, force: true }));
}

async function initiate(): Promise<{ exitCode: number; log: string }> {
  const r = await machine!.run(
    ["swanctl", "--initiate", "--child", "koffer", "--timeout", "20", "--loglevel", "1"],
    { timeoutMs: 40_000 },
  );
  return { exitCode: r.exitCode, log: r.stdout + r.stderr };
}

/** Both charons afresh, then one attempt; no SA may be left on either end. */
async function attempt(): Promise<{ exitCode: number; log: string; gatewayLog: string }> {
  await machine!.run(["swanctl", "--terminate", "--ike", connection, "--force"]);
  const restart = await machine!.run(["systemctl", "restart", "strongswan.service"]);
  expect(restart.exitCode, restart.stderr).toBe(0);
  await waitForCharon(machine!);
  const since = (await gateway!.machine.run(["date", "+%Y-%m-%d %H:%M:%S"])).stdout.trim();
  const result = await initiate();
  const gw = await gateway!.machine.run(
    ["journalctl", "-u", "strongswan", "--since", since, "--no-pager"],
    { timeoutMs: 20_000 },
  );
  return { ...result, gatewayLog: gw.stdout };
}

/** The daemons' own words for each case, kept as evidence under test-artifacts/vpn-pq/. */
async function keep(name: string, r: { log: string; gatewayLog: string }): Promise<void> {
  const out = join(repoRoot, "test-artifacts", "vpn-pq");
  await mkdir(out, { recursive: true });
  await writeFile(
    join(out, `${name}.log`),
    `# laptop: swanctl --initiate\n${r.log}\n# gateway: journalctl -u strongswan\n${r.gatewayLog}`,
  );
}

async function expectNoSa(): Promise<void> {
  const lap = parseListSas((await machine!.run(["swanctl", "--list-sas"])).stdout);
  expect(lap.filter((s) => s.state === "ESTABLISHED")).toEqual([]);
  const gw = parseListSas(await gateway!.listSas());
  expect(gw.filter((s) => s.state === "ESTABLISHED")).toEqual([]);
}

describe.skipIf(skip !== null)("Debian 13 on both ends: hybrid ML-KEM IKEv2", () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "kof-vpn-pq-"));
    removeOnExit(dir);
    // The profile beside copies of the examples it extends and the certificates they name.
    for (const file of ["meerane.yaml", "meerane-trixie.yaml"])
      await cp(join(repoRoot, "examples", file), join(dir, file));
    await cp(join(repoRoot, "examples/certs"), join(dir, "certs"), { recursive: true });
    profilePath = join(dir, "required.yaml");
    await writeFile(profilePath, requiredProfile);
    validated = await koffer(["validate", profilePath]);

    const base = await gatewayRoot("debian-13");
    laptopCopy = await copyRoot(base);
    provisioned = await koffer(
      [
        "provision",
        ...["--root", laptopCopy.path, "--profile", profilePath, "--yes"],
        ...["--ca-p12", join(repoRoot, "examples/certs/test-vpn-ca.p12")],
        ...["--ca-passphrase-file", join(repoRoot, "examples/certs/test-vpn-ca.pass")],
      ],
      {
        env: {
          KOFFER_APT_ARCHIVES: join(
            process.env.HOME ?? "/root",
            ".cache/koffer",
            releases["debian-13"].aptArchiveCache,
          ),
        },
        timeoutMs: 20 * 60_000,
      },
    );
    planned = await koffer(["plan", "--root", laptopCopy.path, "--profile", profilePath]);
    // HARNESS ONLY (see vpn-gateway.ts): userspace ESP, and the gateway's name.
    await addLibipsecDropIn(laptopCopy.path);
    const profile = await loadProfileOrThrow(profilePath);
    const vpn = profile.spec.vpn;
    await appendFile(
      join(laptopCopy.path, "etc/hosts"),
      `${uplink.gateway.split("/")[0]}\t${vpn.gateway}\n`,
    );

    const pki = await examplePki(dir, repoRoot);
    const server = await issueGatewayCert(pki, "gateway", vpn.gatewayId!, vpn.gateway!);
    good = {
      id: vpn.gatewayId!,
      ...classical,
      cert: server.cert,
      key: server.key,
      clientCas: [join(dir, "vpn-ca.pem")],
      remoteNet: "10.252.9.1/24",
      pool4: "10.252.10.0/24",
      pool6: "fd00:252:10::/120",
    };
    const nsLaptop = await createNetns("kof-pqlap");
    namespaces.push(nsLaptop);
    const nsGateway = await createNetns("kof-pqgw");
    namespaces.push(nsGateway);
    await linkNetns(nsLaptop, nsGateway, uplink.laptop, uplink.gateway);
    gatewayCopy = await copyRoot(base, "overlay");
    gateway = await startGateway({
      root: gatewayCopy.path,
      name: `kof-pqgw-${process.pid}`,
      netns: nsGateway,
      config: good,
    });
    machine = await bootMachine({
      root: laptopCopy.path,
      name: `kof-pqlap-${process.pid}`,
      netns: nsLaptop,
      ...tunDevice,
    });
    await machine.waitUntilBooted(180_000);
    await waitForCharon(machine);
  }, 45 * 60_000);

  afterAll(async () => {
    await machine?.stop();
    await gateway?.stop();
    for (const ns of namespaces) await deleteNetns(ns);
    await gatewayCopy?.cleanup();
    await laptopCopy?.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 120_000);

  it("validate and plan say before the trip that the tunnel will not come up on Debian 13", () => {
    expect(validated.exitCode, validated.stderr).toBe(0);
    const why =
      /warning: Expected an ML-KEM implementation in Debian 13 \(trixie\)'s strongSwan for postQuantum: required, found none packaged: .*the tunnel will not come up .*\[platform\/post-quantum-provider\]/;
    expect(validated.stderr).toMatch(why);
    expect(planned.stderr).toMatch(why);
  });

  it("provisioning writes only the hybrid proposals, and the laptop's charon loads them", async () => {
    expect(provisioned.stderr).not.toMatch(/failed:/);
    expect(provisioned.stdout).toMatch(/ 0 failed/);
    const conf = await readFile(join(laptopCopy!.path, managedPath.swanctl.slice(1)), "utf8");
    expect(conf).toMatch(/^\s*proposals = aes256gcm16-prfsha384-ecp384-ke1_mlkem768$/m);
    expect(conf).toMatch(/^\s*esp_proposals = aes256gcm16-ecp384-ke1_mlkem768$/m);
    const loaded = await machine!.run(["swanctl", "--load-all"]);
    expect(loaded.exitCode, loaded.stdout + loaded.stderr).toBe(0);
    expect(loaded.stdout).toMatch(/successfully loaded 1 connections, 0 unloaded/);
  });

  it("a Debian 13 gateway without ML-KEM is refused: no proposal chosen, no SA", async () => {
    await gateway!.reconfigure(good);
    const r = await attempt();
    await keep("classical-gateway", r);
    expect(r.exitCode, r.log).not.toBe(0);
    expect(r.log).toMatch(/received NO_PROPOSAL_CHOSEN notify error/);
    // The gateway saw the laptop's hybrid proposal and had only classical ones to match.
    expect(r.gatewayLog).toMatch(
      /received proposals: IKE:AES_GCM_16_256\/PRF_HMAC_SHA2_384\/ECP_384\/KE1_ML_KEM_768/,
    );
    expect(r.gatewayLog).toMatch(
      /configured proposals: IKE:AES_GCM_16_256\/PRF_HMAC_SHA2_384\/ECP_384(?!\/KE1)/,
    );
    await expectNoSa();
  });

  it("two stock Debian 13 charons, both configured for ECP-384 + ML-KEM-768: still no tunnel (no ML-KEM implementation)", async () => {
    await gateway!.reconfigure({ ...good, ...hybrid });
    const r = await attempt();
    await keep("both-hybrid", r);
    // The day a Debian package implements ML-KEM this fails: make it the hybrid tunnel test.
    expect(r.exitCode, r.log).not.toBe(0);
    // Both charons agree on the hybrid proposal; the laptop's cannot run the key exchange.
    expect(r.log).toMatch(
      /selected proposal: IKE:AES_GCM_16_256\/PRF_HMAC_SHA2_384\/ECP_384\/KE1_ML_KEM_768/,
    );
    expect(r.log).toMatch(/negotiated key exchange method ML_KEM_768 not supported/);
    expect(r.log).not.toMatch(/IKE_SA .* established/);
    await expectNoSa();
  });
});
