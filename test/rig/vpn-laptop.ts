/**
 * The provisioned laptop for the tunnel tests: a private overlay of the rig's desktop laptop
 * root, provisioned by the built CLI with examples/meerane.yaml (the device certificate
 * issued on the spot with the example test CA), exactly as a technician would.
 *
 * Then, HARNESS ONLY (documented in vpn-gateway.ts and the README's rig section):
 * - libcharon-extra-plugins is installed into the copy and the kernel-libipsec drop-in
 *   written, because this host's kernel has no ESP/AES-GCM xfrm;
 * - /etc/hosts names the gateway: the profile's `gateway` (vpn.meerane.example) resolves to
 *   the gateway machine's uplink address. swanctl.conf stays as koffer wrote it, so the
 *   laptop's own `remote_addrs` (a host name) is what the test exercises.
 */
import { appendFile, readdir } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { loadProfileOrThrow } from "../../src/profiles/loader.js";
import { applyChanges } from "../../src/provision/apply.js";
import { cleanupChroot, makeHandlers } from "../../src/provision/handlers/index.js";
import { RootTarget } from "../../src/targets/root.js";
import { koffer, repoRoot } from "../helpers/cli.js";
import { copyRoot, laptopRoot } from "./laptop-root.js";
import { addLibipsecDropIn } from "./vpn-gateway.js";

export const profilePath = join(repoRoot, "examples/meerane.yaml");
/**
 * The .deb cache of these tests: its own, because apt gives up at once on an archives
 * directory another apt (e.g. the laptop-root build in systemd-nspawn) holds locked.
 */
export const aptArchives = join(homedir(), ".cache", "koffer", "apt-archives-vpn");

export interface ProvisionedLaptop {
  root: string;
  /** The device certificate and key koffer installed (host paths in the copy). */
  cert: string;
  key: string;
  /** `koffer provision` output, for diagnostics. */
  provisionOutput: string;
  cleanup(): Promise<void>;
}

/** Provision an overlay of the laptop root with meerane.yaml, then add the harness pieces. */
export async function provisionedVpnLaptop(gatewayAddress: string): Promise<ProvisionedLaptop> {
  const copy = await copyRoot(await laptopRoot());
  try {
    const root = copy.path;
    const run = await koffer(
      [
        "provision",
        "--root",
        root,
        "--profile",
        profilePath,
        "--yes",
        "--ca-p12",
        join(repoRoot, "examples/certs/test-vpn-ca.p12"),
        "--ca-passphrase-file",
        join(repoRoot, "examples/certs/test-vpn-ca.pass"),
      ],
      { env: { KOFFER_APT_ARCHIVES: aptArchives }, timeoutMs: 30 * 60_000 },
    );
    const provisionOutput = `${run.stdout}\n${run.stderr}`;
    if (/failed:/.test(run.stderr) || !/ 0 failed/.test(run.stdout))
      throw new Error(`koffer provision failed (exit ${run.exitCode}):\n${provisionOutput}`);

    // HARNESS ONLY: the userspace ESP data path (see vpn-gateway.ts).
    const target = await RootTarget.open({ root });
    const profile = await loadProfileOrThrow(profilePath);
    const { handlers } = makeHandlers({ profile, pbkdfCost: "fast" });
    try {
      const report = await applyChanges(
        target,
        [
          {
            kind: "install-packages",
            resource: "packages",
            summary: "HARNESS ONLY: kernel-libipsec",
            controls: [],
            packages: ["libcharon-extra-plugins"],
          },
        ],
        { handlers },
      );
      if (report.failed.length > 0)
        throw new Error(`installing libcharon-extra-plugins failed: ${JSON.stringify(report)}`);
    } finally {
      await cleanupChroot(target);
    }
    await addLibipsecDropIn(root);
    // HARNESS ONLY: the gateway's name resolves to the gateway machine.
    const gateway = profile.spec.vpn.gateway ?? "";
    await appendFile(join(root, "etc/hosts"), `${gatewayAddress}\t${gateway}\n`);

    const certs = (await readdir(join(root, "etc/swanctl/x509"))).filter((n) => n.endsWith(".pem"));
    const keys = await readdir(join(root, "etc/swanctl/private"));
    if (certs.length !== 1 || keys.length !== 1)
      throw new Error(`expected one device certificate and key, found ${certs} / ${keys}`);
    return {
      root,
      cert: join(root, "etc/swanctl/x509", certs[0] as string),
      key: join(root, "etc/swanctl/private", keys[0] as string),
      provisionOutput,
      cleanup: copy.cleanup,
    };
  } catch (error) {
    await copy.cleanup();
    throw error;
  }
}
