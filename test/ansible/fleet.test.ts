/**
 * The Ansible collection (ansible/ansible_collections/koffer/fleet) with Debian's
 * ansible-core against three running rig laptops: koffer runs on the control node for each
 * inventory host through the ssh target, each result is signed and its signature checked,
 * and `report merge` builds the fleet overview. A fourth host whose pinned host key is wrong
 * fails alone, with the fingerprint in the message.
 */
import { execa } from "execa";
import { existsSync } from "node:fs";
import { readFile, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kofferBin, repoRoot } from "../helpers/cli.js";
import {
  rigLaptopProfile,
  sshLaptopRig,
  sshLaptopSkipReason,
  type SshLaptop,
  type SshLaptopRig,
} from "../helpers/ssh-laptop.js";
import { makeSigningPki, passphrase, type SigningPki } from "../report/signing-pki.js";

const skip =
  sshLaptopSkipReason() ??
  (existsSync("/usr/bin/ansible-playbook") ? null : "ansible-playbook is missing (ansible-core)");

describe.skipIf(skip !== null)("koffer.fleet with ansible-playbook against rig laptops", () => {
  let rig: SshLaptopRig;
  let work: string;
  let pki: SigningPki;
  const laptops: SshLaptop[] = [];

  beforeAll(async () => {
    rig = await sshLaptopRig("koffer-fleet-");
    work = rig.work;
    await rig.layer();
    pki = await makeSigningPki();
    for (const index of [21, 22, 23]) laptops.push(await rig.boot({ index }));
  }, 1_200_000);

  afterAll(async () => {
    if (rig) await rig.cleanup();
    if (pki) await rm(pki.dir, { recursive: true, force: true });
  }, 180_000);

  it("verifies every laptop, signs and checks each result, merges the fleet", async () => {
    const [a, b, c] = laptops as [SshLaptop, SshLaptop, SshLaptop];
    const knownHosts = join(work, "known_hosts");
    // b and c through a shared known_hosts file, a by its pinned fingerprint.
    await writeFile(
      knownHosts,
      (await readFile(b.knownHosts, "utf8")) + (await readFile(c.knownHosts, "utf8")),
    );
    const passFile = join(work, "signer.pass");
    await writeFile(passFile, passphrase, { mode: 0o600 });
    const inventory = join(work, "hosts.yml");
    const host = (l: SshLaptop, extra = "") =>
      `    ${l.machine.name}:\n      ansible_host: ${l.address}\n${extra}`;
    await writeFile(
      inventory,
      [
        "koffer_laptops:",
        "  hosts:",
        host(a, `      koffer_host_key_fingerprint: "${a.fingerprint}"\n`),
        host(b),
        host(c),
        // The same laptop as c under another name, pinned to a wrong key: must fail alone.
        `    impostor:\n      ansible_host: ${c.address}\n      koffer_host_key_fingerprint: "SHA256:${"Q".repeat(43)}"\n`,
        "  vars:",
        `    koffer_command: ["${process.execPath}", "${kofferBin}"]`,
        `    koffer_profile: "${rigLaptopProfile}"`,
        `    koffer_ssh_identity: "${a.identity}"`,
        `    koffer_known_hosts: "${knownHosts}"`,
        `    koffer_output_dir: "${join(work, "out")}"`,
        `    koffer_sign_key: "${pki.files.ecKey}"`,
        `    koffer_sign_cert: "${pki.files.ecCert}"`,
        `    koffer_sign_passphrase_file: "${passFile}"`,
        `    koffer_ca: "${pki.files.ca}"`,
        "",
      ].join("\n"),
    );
    const started = Date.now();
    const run = await execa(
      "ip",
      [
        "netns",
        "exec",
        a.controllerNs,
        "ansible-playbook",
        "-i",
        inventory,
        "--forks",
        "10",
        "koffer.fleet.verify",
      ],
      {
        reject: false,
        timeout: 900_000,
        env: {
          ANSIBLE_COLLECTIONS_PATH: join(repoRoot, "ansible"),
          ANSIBLE_LOCAL_TEMP: join(work, "ansible-tmp"),
          ANSIBLE_NOCOLOR: "1",
          ANSIBLE_RETRY_FILES_ENABLED: "0",
        },
      },
    );
    console.log(
      `ansible-playbook over 3 laptops (+1 impostor), forks 10: ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    const out = String(run.stdout);
    // Only the impostor failed.
    expect(run.exitCode).toBe(2);
    expect(out).toMatch(/impostor\s+:\s+ok=\d+\s+changed=\d+\s+unreachable=0\s+failed=1/);
    for (const l of laptops) {
      expect(out).toMatch(
        new RegExp(
          `${l.machine.name}\\s+:\\s+ok=\\d+\\s+changed=\\d+\\s+unreachable=0\\s+failed=0`,
        ),
      );
    }
    expect(out).toContain("does not match the pinned fingerprint");
    expect(out).toContain(c.fingerprint);

    const results = join(work, "out", "results");
    const files = (await readdir(results)).sort();
    expect(files).toEqual(
      laptops.flatMap((l) => [`${l.machine.name}.json`, `${l.machine.name}.json.p7s`]).sort(),
    );
    const fleet = JSON.parse(await readFile(join(work, "out", "fleet", "fleet.json"), "utf8"));
    expect(fleet.results).toBe(3);
    expect(fleet.devices).toBe(3);
    expect(fleet.municipalities.map((m: { name: string }) => m.name)).toEqual(["rig-ssh"]);
    expect(existsSync(join(work, "out", "fleet", "fleet.html"))).toBe(true);
  }, 900_000);
});
