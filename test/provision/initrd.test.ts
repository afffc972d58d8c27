/**
 * TPM2+PIN at boot on a real Debian root with a kernel (test/rig/kernel-root.ts: the cloud
 * kernel and the stock initramfs-tools + cryptsetup-initramfs initrd), an encrypted root in
 * crypttab/fstab and its LUKS2 image:
 *
 * (a) `koffer verify` fails DISK-04 with the initrd message: the default kernel's initrd
 *     cannot use the systemd-tpm2 token;
 * (b) provisioning (the `initrd` resource: crypttab, dracut drop-in, `initrd-tpm2`) installs
 *     dracut in the image sandbox, regenerates the initrd and adds tpm2-device=auto; the new
 *     initrd — listed by koffer and by the host's cpio — holds systemd-cryptsetup, the token
 *     plugin, libtss2-esys and a crypttab asking for the token;
 * (c) planning again yields nothing, so a second provision changes nothing.
 *
 * Debian 13 as well when its cached root exists (systemd-cryptsetup is its own package there).
 */
import { existsSync } from "node:fs";
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { disk04 } from "../../src/checks/disk-04.js";
import { debianRootPath } from "../../src/demo/debian-root.js";
import { gatherFacts } from "../../src/facts/index.js";
import { listInitrd } from "../../src/facts/initrd.js";
import type { Facts } from "../../src/facts/types.js";
import { releases, type PlatformId } from "../../src/platform/releases.js";
import type { Profile } from "../../src/profiles/types.js";
import { applyChanges } from "../../src/provision/apply.js";
import { cleanupChroot, makeHandlers } from "../../src/provision/handlers/index.js";
import { planProvision } from "../../src/provision/plan.js";
import { dracutTpm2Conf } from "../../src/provision/resources/initrd.js";
import type { Change } from "../../src/provision/types.js";
import { openTarget } from "../../src/targets/index.js";
import { RootTarget } from "../../src/targets/root.js";
import { koffer, repoRoot, type CliRun } from "../helpers/cli.js";
import { hostListing } from "../helpers/cpio.js";
import { makeLuksImage } from "../helpers/luks.js";
import { makeProfile } from "../helpers/profile.js";
import { kernelArchives, kernelRoot, kernelRootSkipReason } from "../rig/kernel-root.js";

const skip = kernelRootSkipReason();
const available = (["debian-12", "debian-13"] as const).filter((r) =>
  existsSync(debianRootPath({ release: r })),
);

const exampleProfile: Record<PlatformId, string> = {
  "debian-12": join(repoRoot, "examples", releases["debian-12"].exampleProfile),
  "debian-13": join(repoRoot, "examples", releases["debian-13"].exampleProfile),
};

async function facts(root: string, image: string, profile: Profile): Promise<Facts> {
  const target = await openTarget({ root, disks: [image] });
  try {
    return await gatherFacts(target, { profile });
  } finally {
    await target.close();
  }
}

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");
const initrdOnly = (changes: Change[]) => changes.filter((c) => c.resource === "initrd");

describe.skipIf(skip !== null).each(available)("TPM2+PIN initrd on %s", (release) => {
  let dir: string;
  let root: string;
  let image: string;
  let uuid: string;
  let profile: Profile;
  let before: Facts;
  let cliBefore: CliRun;
  let planned: Change[];
  let applySeconds = 0;
  let runId: string;
  /** SHA-256 of each initrd before provisioning (/boot/initrd.img-<kver> → hash). */
  const initrdsBefore = new Map<string, string>();

  beforeAll(async () => {
    const base = await kernelRoot(release);
    dir = await mkdtemp(join(tmpdir(), "koffer-initrd-"));
    root = join(dir, "root");
    await execa("cp", ["-a", base, root]);
    const luks = await makeLuksImage({ copyTo: join(dir, "disk.img") });
    image = luks.path;
    uuid = luks.uuid;
    await writeFile(join(root, "etc/crypttab"), `root UUID=${uuid} none luks,discard\n`);
    await writeFile(join(root, "etc/fstab"), "/dev/mapper/root / ext4 errors=remount-ro 0 1\n");
    profile = makeProfile({ spec: { platform: release, disk: { unlock: "tpm2+pin" } } });
    before = await facts(root, image, profile);
    cliBefore = await koffer([
      "verify",
      ...["--root", root, "--disk", image, "--profile", exampleProfile[release]],
      ...["--format", "json", "--lang", "en"],
    ]);
    planned = initrdOnly(planProvision(profile, before, { now: new Date() }));
    for (const name of await readdir(join(root, "boot")))
      if (name.startsWith("initrd.img-"))
        initrdsBefore.set(`/boot/${name}`, sha256(await readFile(join(root, "boot", name))));
    const target = await RootTarget.open({ root, disks: [image] });
    const set = makeHandlers({ profile, pbkdfCost: "fast", aptArchives: kernelArchives(release) });
    const started = Date.now();
    try {
      const report = await applyChanges(target, planned, { handlers: set.handlers });
      expect(report.failed).toEqual([]);
      runId = report.runId;
    } finally {
      await target.close();
    }
    applySeconds = (Date.now() - started) / 1000;
  }, 40 * 60_000);

  afterAll(async () => {
    if (root !== undefined)
      await cleanupChroot(await RootTarget.open({ root })).catch(() => undefined);
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it("(a) verify fails DISK-04 because the stock initrd cannot use the systemd-tpm2 token", async () => {
    const initrd = before.boot.initrds?.find((i) => i.default);
    expect(initrd?.generator).toBe("initramfs-tools+cryptsetup");
    const findings = disk04.evaluate(profile, before, { now: new Date() });
    const token = findings.find((f) => f.messageId === "initrdToken");
    expect(token?.status).toBe("fail");
    expect(token?.data).toMatchObject({
      initrd: initrd?.path,
      generator: "initramfs-tools+cryptsetup",
      missing:
        "systemd-cryptsetup, libcryptsetup-token-systemd-tpm2.so, libtss2-esys, libtss2-tcti-device",
    });
    // The same through the CLI with the release's example profile.
    expect(cliBefore.exitCode).toBe(1);
    const result = JSON.parse(cliBefore.stdout) as {
      controls: { id: string; status: string; messages: { id: string; text: { en: string } }[] }[];
    };
    const control = result.controls.find((c) => c.id === "DISK-04");
    expect(control?.status).toBe("fail");
    expect(control?.messages.find((m) => m.id === "initrdToken")?.text.en).toContain(
      `Expected an initramfs that can use the systemd-tpm2 token in ${initrd?.path} (default kernel), found initramfs-tools+cryptsetup without systemd-cryptsetup`,
    );
  });

  it("(b) provisioning plans crypttab, the dracut drop-in and initrd-tpm2, and applies them", async () => {
    expect(planned.map((c) => c.kind)).toEqual(["write-file", "write-file", "initrd-tpm2"]);
    expect(planned.find((c) => c.kind === "initrd-tpm2")?.summary).toBe(
      "initrd: dracut with systemd-cryptsetup + tpm2-tss",
    );
    expect(await readFile(join(root, "etc/crypttab"), "utf8")).toBe(
      `root UUID=${uuid} none luks,discard,tpm2-device=auto\n`,
    );
    expect(await readFile(join(root, "etc/dracut.conf.d/50-koffer-tpm2.conf"), "utf8")).toBe(
      dracutTpm2Conf(),
    );
    const { stdout } = await execa("dpkg-query", [
      `--admindir=${join(root, "var/lib/dpkg")}`,
      "-W",
      "-f=${Package} ${db:Status-Abbrev}\\n",
      ...releases[release].initrd.packages,
    ]);
    expect(
      stdout
        .trim()
        .split("\n")
        .filter((l) => !/ ii\s*$/.test(l)),
    ).toEqual([]);

    const after = await facts(root, image, profile);
    const initrd = after.boot.initrds?.find((i) => i.default);
    expect(initrd?.generator).toBe("dracut");
    expect(initrd?.error).toBeUndefined();
    expect(initrd?.capabilities.systemdCryptsetup).toMatch(/systemd-cryptsetup$/);
    expect(initrd?.capabilities.tpm2TokenPlugin).toMatch(
      /cryptsetup\/libcryptsetup-token-systemd-tpm2\.so$/,
    );
    expect(initrd?.capabilities.tss2Esys).toMatch(/libtss2-esys\.so/);
    expect(initrd?.crypttab?.entries).toEqual([
      { name: "root", options: ["luks", "discard", "tpm2-device=auto"] },
    ]);
    // DISK-04 no longer complains about the initrd: only the enrolment (no TPM here) is left.
    const messages = disk04.evaluate(profile, after, { now: new Date() }).map((f) => f.messageId);
    expect(messages.filter((m) => m.startsWith("initrd"))).toEqual([]);
    expect(messages).toContain("pending");

    // The host's cpio agrees with koffer's lister on the new initrd, entry for entry.
    const data = await readFile(join(root, initrd!.path));
    const listing = await listInitrd(data);
    expect(listing.parts.at(-1)).toBe("zstd");
    const names = listing.entries.map((e) => e.name);
    expect(names).toEqual(await hostListing(data, listing.parts));
    expect(names).toEqual(
      expect.arrayContaining(["etc/crypttab", "usr/lib/systemd/systemd-cryptsetup"]),
    );
    console.log(
      `${release}: initrd-tpm2 applied in ${applySeconds.toFixed(0)} s; ${initrd?.path}: ${data.length} bytes, ${names.length} entries, parts ${listing.parts.join("+")}`,
    );
  });

  it("(c) plans nothing afterwards: a second provision changes nothing", async () => {
    const after = await facts(root, image, profile);
    expect(initrdOnly(planProvision(profile, after, { now: new Date() }))).toEqual([]);
  });

  it("(d) koffer rollback of the run puts the old initrds and crypttab back, byte for byte", async () => {
    expect(initrdsBefore.size).toBeGreaterThan(0);
    for (const [path, hash] of initrdsBefore)
      expect(sha256(await readFile(join(root, path))), path).not.toBe(hash);
    const run = await koffer(["rollback", runId, "--root", root]);
    expect(run.exitCode, run.stderr).toBe(0);
    for (const [path, hash] of initrdsBefore)
      expect(sha256(await readFile(join(root, path))), path).toBe(hash);
    expect(await readFile(join(root, "etc/crypttab"), "utf8")).toBe(
      `root UUID=${uuid} none luks,discard\n`,
    );
    // DISK-04 says again what the stock initrd cannot do.
    const back = disk04.evaluate(profile, await facts(root, image, profile), { now: new Date() });
    expect(back.find((f) => f.messageId === "initrdToken")?.status).toBe("fail");
  });
});
