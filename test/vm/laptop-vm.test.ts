/**
 * The laptop VM (issue 10, item 5): the disk as the installer leaves it (weak 256-bit LUKS2
 * root, technician passphrase only), provisioned offline by koffer, booted under QEMU with
 * OVMF Secure Boot and a swtpm TPM 2.0; the console typed over serial.
 *
 * Boot 1: the technician's passphrase at the initrd prompt; the first boot enrols TPM2+PIN
 *         and wipes the technician's slot.
 * Boot 2: a wrong PIN is refused, the right one unlocks; Secure Boot enforcing (efivars);
 *         auditd, persistent journald; USBGuard blocks a hot-plugged usb-storage and allows
 *         the profile's usb-ccid (08e6:4433); the kill switch: with the tunnel down nothing
 *         but what the profile allows leaves the laptop (captured on the host side of its
 *         tap), with it up traffic to the town hall flows through it and only ESP is on the
 *         wire; the clock synchronised through the tunnel; `koffer verify` on the running VM
 *         exits 0. Then over ssh from the town hall's network, through the tunnel (issue 12,
 *         ssh-vm.ts): `verify --ssh` gives the local verdicts, control by control; drift
 *         (a kernel setting, an sshd override, the kill switch's output policy) makes it fail;
 *         `provision --ssh` fixes it without cutting its own connection, after which
 *         `verify --ssh` exits 0 with the local verdicts again, and a second
 *         `provision --ssh` has nothing to change.
 *
 * Every boot has the same NIC on the test's own network (uplink.ts): a namespace with a tap,
 * the strongSwan gateway and the town hall's time server behind it.
 * Boot 3: Secure Boot off (plain OVMF, same TPM): PCR 7 differs, the PIN no longer opens the
 *         root; the recovery key escrowed to the profile's certificate (decrypted here with
 *         the test escrow key) does.
 *
 * Figures (boot-to-login, unlock, tunnel up, clock sync, verify) are printed and written to
 * test-artifacts/vm-figures.json; the whole console is in test-artifacts/vm-laptop.log.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openEscrow } from "../../src/pki/escrow.js";
import { readPkcs12 } from "../../src/pki/pkcs12.js";
import {
  rootPassword,
  technicianPassphrase,
  vmDisk,
  vmProfileOnLaptop,
  vmProfilePath,
  vmRelease,
  type VmDisk,
} from "./image.js";
import { vmNet } from "./network.js";
import { captureFrames, classifyFrame, startVmUplink, type VmUplink } from "./uplink.js";
import { loadProfileOrThrow } from "../../src/profiles/loader.js";
import {
  differingControls,
  driftScript,
  kofferIn,
  prepareSshAccess,
  provisionSshArgs,
  statusesOf,
  verifySshArgs,
  type SshAccess,
} from "./ssh-vm.js";
import {
  accel,
  artifactsDir,
  bootVm,
  createVmState,
  prepareShell,
  vmSkipReason,
  type Vm,
  type VmState,
} from "./qemu.js";

const skip = vmSkipReason();
const pin = "246810";
const wrongPin = "135799";
/** TCG on two busy cores is slow: generous, but bounded. */
const bootTimeout = accel() === "kvm" ? 180_000 : 900_000;
const efiGlobal = "8be4df61-93ca-11d2-aa0d-00e098032b8c";
const ccidId = "08e6:4433";
const storageId = "46f4:0001";

const figures: Record<string, number | string> = { accel: accel(), release: vmRelease() };
const log = (line: string) => process.stderr.write(`[vm] ${line}\n`);
const seconds = (since: number) => Math.round((Date.now() - since) / 100) / 10;

let disk: VmDisk;
let state: VmState;
let uplink: VmUplink | null = null;
let vm: Vm | null = null;
const started = Date.now();

let access: SshAccess | null = null;
const sshLog: string[] = [];
let sshStarted = 0;
/** The profile's sshListenAddress: the laptop's address in the tunnel. */
const sshAddress = (await loadProfileOrThrow(vmProfilePath)).spec.network.sshListenAddress ?? "";

/** `koffer verify` on the running laptop (local target): control id → status. */
async function localVerify(artifact: string) {
  const v = Date.now();
  const verify = await vm!.sh(
    `koffer verify --profile ${vmProfileOnLaptop} --format json` +
      " --out /root/result.json --lang en; echo verify-exit=$?; " +
      "/opt/koffer/bin/node -e 'for(const c of require(\"/root/result.json\").controls)console.log(c.id,c.status)'",
    1_200_000,
  );
  const took = seconds(v);
  await writeFile(join(artifactsDir, artifact), verify.out);
  const statuses = new Map(
    [...verify.out.matchAll(/^([A-Z]+-\d+) ([\w-]+)$/gm)].map((m) => [m[1]!, m[2]!] as const),
  );
  return { out: verify.out, statuses, seconds: took };
}

async function stopVm(): Promise<void> {
  await vm?.stop();
  vm = null;
}

/** The LUKS prompt of systemd-cryptsetup in the initrd (passphrase or TPM2 PIN). */
/** With Secure Boot off (PCR 7 changed) systemd 252 asks for the "recovery key" only. */
const passphrasePrompt =
  /Please enter (passphrase (or recovery key )?|recovery key )for disk[^\n]*:/;
const pinPrompt = /(Please enter|Enter) (LUKS2 token |TPM2 )?PIN[^\n]*:/i;
const rootDevice = "/dev/nvme0n1p3";
/** The same NIC on every boot (no option ROM: PCR 7 stays as enrolled). */
const nic = () => ({ netns: uplink!.netns, tap: uplink!.tap, mac: vmNet.mac });

describe.skipIf(skip !== null)("laptop VM: Secure Boot, TPM2+PIN, USBGuard, verify", () => {
  beforeAll(async () => {
    const t = Date.now();
    // The uplink (namespace, tap, gateway with the time server) boots while the disk is made.
    const network = startVmUplink({
      profilePath: vmProfilePath,
      name: `kof-vmgw-${process.pid}`,
    }).then((u) => {
      figures.gatewayReadySeconds = seconds(t);
      return u;
    });
    disk = await vmDisk(log).catch(async (error: unknown) => {
      await (await network.catch(() => null))?.stop();
      throw error;
    });
    uplink = await network;
    figures.diskReadySeconds = seconds(t);
    figures.diskBuildSeconds = disk.manifest.buildSeconds;
    log(
      `disk ${disk.image} (${figures.diskReadySeconds} s; built in ${disk.manifest.buildSeconds} s)`,
    );
    state = await createVmState("laptop", disk.image);
  });

  afterAll(async () => {
    await access?.remove();
    if (sshLog.length > 0)
      await writeFile(join(artifactsDir, "vm-ssh.txt"), `${sshLog.join("\n\n")}\n`);
    await stopVm();
    await uplink?.stop();
    await state?.remove();
    figures.totalSeconds = seconds(started);
    await writeFile(join(artifactsDir, "vm-figures.json"), `${JSON.stringify(figures, null, 2)}\n`);
    log(`figures: ${JSON.stringify(figures)}`);
  });

  it("boot 1: the technician's passphrase opens the root, the first boot enrols TPM2+PIN", async () => {
    await stopVm(); // an earlier boot that failed still holds the disk
    const t = Date.now();
    vm = await bootVm(state, { secureBoot: true, logName: "laptop", net: nic() });
    await vm.expect(passphrasePrompt, bootTimeout);
    figures.boot1ToPassphrasePromptSeconds = seconds(t);
    const typed = Date.now();
    vm.send(technicianPassphrase);
    // The first-boot unit (koffer-tpm2-enrol) asks for the technician's passphrase and the
    // new PIN (twice) on the console, before the login.
    for (let i = 0; i < 6; i++) {
      const m = await vm.expect(/(login: $)|(TPM-PIN[^\n]*:)|(passphrase[^\n]*:)/im, bootTimeout);
      if (m[1] !== undefined) break;
      figures.firstBootUnit = "koffer-tpm2-enrol";
      vm.send(m[2] !== undefined ? pin : technicianPassphrase);
    }
    vm.send(""); // a fresh login prompt for prepareShell
    await prepareShell(vm, rootPassword, bootTimeout);
    figures.boot1PassphraseToLoginSeconds = seconds(typed);
    figures.boot1ToLoginSeconds = seconds(t);
    if (figures.firstBootUnit === undefined) {
      // Stand-in until the first-boot unit is merged (branch h/firstboot): the same steps by hand.
      figures.firstBootUnit = "stand-in (systemd-cryptenroll on the console)";
      const enrol = await vm.sh(
        `PASSWORD='${technicianPassphrase}' NEWPIN='${pin}' systemd-cryptenroll --tpm2-device=auto --tpm2-with-pin=yes --tpm2-pcrs=7 ${rootDevice} && systemd-cryptenroll --wipe-slot=password ${rootDevice}`,
        600_000,
      );
      expect(enrol.code, enrol.out).toBe(0);
    }
    const dump = await vm.sh(`cryptsetup luksDump ${rootDevice}`);
    expect(dump.out).toMatch(/systemd-tpm2/);
    // The technician's passphrase no longer opens the root.
    const tech = await vm.sh(
      `printf '%s' '${technicianPassphrase}' | cryptsetup open --test-passphrase --key-file=- ${rootDevice}`,
      300_000,
    );
    expect(tech.code).not.toBe(0);
    await vm.sh("systemctl poweroff --no-block");
    await vm.exited;
    await stopVm();
  });

  it(
    "boot 2: a wrong PIN is refused, the right PIN unlocks; Secure Boot, logs, USB, verify",
    async () => {
      await stopVm(); // an earlier boot that failed still holds the disk
      const t = Date.now();
      vm = await bootVm(state, { secureBoot: true, logName: "laptop", net: nic() });
      await vm.expect(pinPrompt, bootTimeout);
      figures.boot2ToPinPromptSeconds = seconds(t);
      vm.send(wrongPin);
      // Refused: asked again (the root stays closed).
      const afterWrong = Date.now();
      await vm.expect(
        new RegExp(`${pinPrompt.source}|${passphrasePrompt.source}`, "i"),
        bootTimeout,
      );
      figures.wrongPinRefusedSeconds = seconds(afterWrong);
      const typed = Date.now();
      vm.send(pin);
      await prepareShell(vm, rootPassword, bootTimeout);
      figures.pinUnlockToLoginSeconds = seconds(typed);
      figures.boot2ToLoginSeconds = seconds(t);

      // Secure Boot enforcing, read from the firmware's variable (4 attribute bytes, then 1).
      const sb = await vm.sh(`od -An -tu1 /sys/firmware/efi/efivars/SecureBoot-${efiGlobal}`);
      expect(sb.out.trim().split(/\s+/).at(-1)).toBe("1");
      const journal = await vm.sh(
        "journalctl --header | grep -m1 'File path'; ls -d /var/log/journal/*/",
      );
      expect(journal.out).toMatch(/\/var\/log\/journal\//);
      const audit = await vm.sh(
        "systemctl is-active auditd && auditctl -s && ausearch -m DAEMON_START --start today | tail -3",
      );
      expect(audit.code, audit.out).toBe(0);
      expect(audit.out).toMatch(/enabled\s+[12]/);
      expect(audit.out).toMatch(/DAEMON_START/);

      // USB: the profile's reader is allowed, a USB stick is blocked.
      const usbguard = await vm.sh("systemctl is-active usbguard");
      expect(usbguard.out.trim()).toBe("active");
      await vm.qmp("device_add", { driver: "usb-ccid", bus: "xhci.0", id: "ccid" });
      await vm.qmp("blockdev-add", {
        "node-name": "stick",
        driver: "null-co",
        size: 64 * 1024 * 1024,
        "read-zeroes": true,
      });
      await vm.qmp("device_add", {
        driver: "usb-storage",
        bus: "xhci.0",
        drive: "stick",
        id: "stick",
      });
      let devices = "";
      for (let i = 0; i < 60; i++) {
        devices = (await vm.sh("usbguard list-devices")).out;
        if (devices.includes(ccidId) && devices.includes(storageId)) break;
        await new Promise((r) => setTimeout(r, 2000));
      }
      const line = (id: string) => devices.split("\n").find((l) => l.includes(`id ${id}`)) ?? "";
      expect(line(ccidId), devices).toMatch(/: allow /);
      expect(line(storageId), devices).toMatch(/: block /);
      const blockDev = await vm.sh("lsblk -ndo NAME,TRAN | grep -c usb || true");
      expect(blockDev.out.trim()).toBe("0");

      // The kill switch, tunnel DOWN: strongSwan stopped (no SA, no IPsec policy: nothing but
      // koffer's nftables stands between the laptop and the uplink). The laptop tries to reach
      // outside and the town hall; the host side of the tap sees every frame the laptop sends.
      // The uplink's address first: under TCG at a load of ~7 a udev worker stalled 134 s
      // (soft lockup) and systemd-networkd, past its 3 min watchdog, was killed and restarted
      // after the login (Debian 12 run of 2 Dec, console 353 s), so the address came late.
      const down = await vm.sh(
        `for i in $(seq 300); do ip -4 -o addr show | grep -q 'inet ${vmNet.laptop}/' && break; sleep 1; done; ` +
          "systemctl stop strongswan.service; ip -4 addr show; ip xfrm state | grep -c '^src' ; ip xfrm policy | grep -c '^src'",
        420_000,
      );
      log(`tunnel down: ${down.out.trim().split("\n").slice(-2).join(" SAs, ")} policies`);
      expect(down.out.trim().split("\n").slice(-2)).toEqual(["0", "0"]);
      expect(down.out).toContain(`inet ${vmNet.laptop}`);
      const attempts = [
        ["ping outside", "ping -n -c 2 -W 1 192.0.2.1"],
        ["ping town hall", `ping -n -c 2 -W 1 ${vmNet.townHall}`],
        ["ping gateway", `ping -n -c 2 -W 1 ${vmNet.gateway}`],
        ["DNS (resolv.conf)", "getent ahosts www.meerane.example"],
        ["DNS outside", "timeout 5 bash -c 'echo q > /dev/udp/9.9.9.9/53'"],
        ["TCP outside", "timeout 5 bash -c 'exec 3<>/dev/tcp/198.51.100.7/443'"],
        ["TCP gateway", `timeout 5 bash -c 'exec 3<>/dev/tcp/${vmNet.gateway}/22'`],
        ["NTP town hall", `timeout 5 bash -c 'echo q > /dev/udp/${vmNet.ntp}/123'`],
        // IKE's ports, but not to the gateway: a kill switch that opens 500/4500 to any address
        // lets anything out on them (fixed: pinned to the address /etc/hosts gives the gateway).
        ["UDP 500 outside", "timeout 5 bash -c 'echo q > /dev/udp/192.0.2.1/500'"],
        ["UDP 4500 outside", "timeout 5 bash -c 'echo q > /dev/udp/192.0.2.1/4500'"],
      ] as const;
      // What the kill switch lets out by design (the positive control of the capture): IKE to
      // the gateway.
      const allowed = `timeout 5 bash -c 'echo koffer-probe > /dev/udp/${vmNet.gateway}/500'`;
      const tried = await captureFrames(uplink!.netns, uplink!.tap, `ether src ${vmNet.mac}`, () =>
        vm!.sh(
          [
            ...attempts.map(([name, cmd]) => `${cmd} >/dev/null 2>&1; echo "${name}=$?"`),
            allowed,
          ].join("; "),
          300_000,
        ),
      );
      for (const [name] of attempts)
        expect(tried.result.out, `${name} must fail with the tunnel down`).toMatch(
          new RegExp(`^${name.replace(/[()]/g, "\\$&")}=[1-9]`, "m"),
        );
      const byKind = (frames: string[]) => {
        const kinds: Record<string, number> = {};
        for (const f of frames) kinds[classifyFrame(f)] = (kinds[classifyFrame(f)] ?? 0) + 1;
        return kinds;
      };
      figures.killSwitchDownFrames = JSON.stringify(byKind(tried.frames));
      log(`tunnel down, frames from the laptop on the tap: ${figures.killSwitchDownFrames}`);
      await writeFile(join(artifactsDir, "vm-killswitch-down.txt"), tried.frames.join("\n"));
      expect(tried.frames.filter((f) => classifyFrame(f) === "leak")).toEqual([]);
      // The capture saw the laptop: the allowed probe is on the wire.
      expect(tried.frames.filter((f) => classifyFrame(f) === "ike").length).toBeGreaterThan(0);

      // Tunnel UP: strongSwan as provisioned; the laptop initiates its own connection.
      const up = Date.now();
      const initiate = await vm.sh(
        "systemctl start strongswan.service && for i in $(seq 60); do swanctl --stats >/dev/null 2>&1 && break; sleep 1; done; " +
          "swanctl --initiate --child koffer --timeout 60",
        180_000,
      );
      expect(initiate.code, initiate.out).toBe(0);
      figures.tunnelUpSeconds = seconds(up);
      log(`tunnel up in ${figures.tunnelUpSeconds} s`);
      // Traffic to the town hall: replies from behind the gateway; on the laptop's wire only ESP.
      const flow = await captureFrames(uplink!.netns, uplink!.tap, `ether src ${vmNet.mac}`, () =>
        captureFrames(uplink!.gateway.remoteNetns, "any", "icmp", () =>
          vm!.sh(`ping -n -c 5 -i 0.5 -W 2 ${vmNet.townHall}`, 60_000),
        ),
      );
      const ping = flow.result.result;
      expect(ping.code, ping.out).toBe(0);
      expect(ping.out).toMatch(new RegExp(`bytes from ${vmNet.townHall.replace(/\./g, "\\.")}`));
      figures.killSwitchUpFrames = JSON.stringify(byKind(flow.frames));
      log(`tunnel up, frames from the laptop on the tap: ${figures.killSwitchUpFrames}`);
      await writeFile(
        join(artifactsDir, "vm-killswitch-up.txt"),
        `${flow.frames.join("\n")}\n--- behind the gateway ---\n${flow.result.frames.join("\n")}\n`,
      );
      const kinds = flow.frames.map((f) => classifyFrame(f));
      // ESP in UDP 4500 (and IKE's own messages on 500/4500) to the gateway, ARP and ND: nothing else.
      expect(kinds.filter((k) => !["esp", "ike", "arp", "nd"].includes(k))).toEqual([]);
      expect(kinds.filter((k) => k === "esp").length).toBeGreaterThanOrEqual(5);
      // Behind the gateway the ping is in clear, from the laptop's virtual address in the pool.
      expect(flow.result.frames.join("\n")).toMatch(
        new RegExp(
          `10\\.252\\.9\\.\\d+ > ${vmNet.townHall.replace(/\./g, "\\.")}: ICMP echo request`,
        ),
      );

      // The clock, synchronised through the tunnel against the town hall's time server.
      const sync = Date.now();
      const ntp = await vm.sh(
        'systemctl restart systemd-timesyncd; for i in $(seq 180); do [ "$(timedatectl show -p NTPSynchronized --value)" = yes ] && break; sleep 1; done; ' +
          "timedatectl show -p NTPSynchronized --value; timedatectl timesync-status",
        300_000,
      );
      figures.ntpSyncSeconds = seconds(sync);
      log(`clock synchronised in ${figures.ntpSyncSeconds} s:\n${ntp.out}`);
      expect(ntp.out).toMatch(/^yes$/m);
      expect(ntp.out).toMatch(new RegExp(`Server: ${vmNet.ntp.replace(/\./g, "\\.")}`));
      expect(ntp.out).toMatch(/Stratum: 8/);

      // Administration over ssh (issue 12): the technician authorises the controller's key for
      // the admin (sudo without a password) on the console; sshd listens on the tunnel address.
      const vip = await vm.sh(`ip -4 -o addr show to ${sshAddress}`);
      expect(vip.out, "the laptop's virtual address is the profile's sshListenAddress").toContain(
        `inet ${sshAddress}/`,
      );
      const prepared = Date.now();
      access = await prepareSshAccess(vm, sshAddress);
      figures.sshAccessSetupSeconds = seconds(prepared);

      // koffer verify on the running laptop (local target).
      const local1 = await localVerify("vm-verify.txt");
      figures.verifySeconds = local1.seconds;
      const { statuses, out: verifyOut } = local1;
      const verify = { out: verifyOut };
      expect(statuses.get("BOOT-01"), verify.out).toBe("pass");
      expect(statuses.get("BOOT-02"), verify.out).toBe("pass");
      // Every control passes (or does not apply) on the running laptop, TIME-01 too: its clock
      // is synchronised through the tunnel.
      expect(
        [...statuses].filter(([, s]) => s !== "pass" && s !== "not-applicable"),
        verify.out,
      ).toEqual([]);
      expect(statuses.get("TIME-01"), verify.out).toBe("pass");
      expect(verify.out).toContain("verify-exit=0");

      // verify --ssh from the town hall's network, through the tunnel: the same verdicts.
      const town = uplink!.gateway.remoteNetns;
      sshStarted = Date.now();
      const remote1 = await kofferIn(town, verifySshArgs(access));
      sshLog.push(
        `verify --ssh (compliant): exit ${remote1.exitCode}, ${remote1.seconds} s\n${remote1.stderr}`,
      );
      figures.verifySshSeconds = remote1.seconds;
      const remoteStatuses1 = statusesOf(remote1.stdout);
      const diff1 = differingControls(statuses, remoteStatuses1);
      figures.verifySshEqual = `${statuses.size - diff1.length}/${statuses.size}`;
      log(
        `verify --ssh ${remote1.seconds} s (local ${figures.verifySeconds} s): ${figures.verifySshEqual} equal ${diff1.join(", ")}`,
      );
      expect(diff1).toEqual([]);
      expect(remote1.exitCode, remote1.stderr).toBe(0);

      // Drift → provision --ssh → verify --ssh → second provision --ssh: 17 min more at a host
      // load of ~10 (five more gathers of the VM's facts), so opt-in (KOFFER_VM_SSH_PROVISION=1).
      if (process.env.KOFFER_VM_SSH_PROVISION === "1") {
        // Drift that provisioning fixes on the running laptop: verify --ssh finds it.
        const drift = await vm.sh(driftScript);
        sshLog.push(`drift:\n${drift.out}`);
        expect(drift.code, drift.out).toBe(0);
        const remote2 = await kofferIn(town, verifySshArgs(access));
        const drifted = [...statusesOf(remote2.stdout)]
          .filter(([, st]) => st === "fail")
          .map(([id]) => id);
        figures.driftFailing = drifted.join(" ");
        figures.verifySshDriftSeconds = remote2.seconds;
        log(
          `after the drift verify --ssh: exit ${remote2.exitCode}, failing ${figures.driftFailing}`,
        );
        expect(remote2.exitCode, remote2.stderr).toBe(1);
        expect(drifted).toEqual(expect.arrayContaining(["BOOT-04", "NET-03", "VPN-06"]));

        // provision --ssh fixes it without cutting its own connection; then verify --ssh passes
        // and equals the local verify; a second provision --ssh has nothing to change.
        const fix = await kofferIn(town, provisionSshArgs(access));
        sshLog.push(
          `provision --ssh: exit ${fix.exitCode}, ${fix.seconds} s\n${fix.stdout}\n${fix.stderr}`,
        );
        figures.provisionSshSeconds = fix.seconds;
        log(`provision --ssh: exit ${fix.exitCode} in ${fix.seconds} s\n${fix.stdout}`);
        expect(fix.exitCode, `${fix.stdout}\n${fix.stderr}`).toBe(0);
        expect(fix.stdout).toMatch(/^Run \S+: [1-9]\d* applied, \d+ already right, 0 failed/m);
        const remote3 = await kofferIn(town, verifySshArgs(access));
        figures.verifySshAfterProvisionSeconds = remote3.seconds;
        const local2 = await localVerify("vm-verify-after-ssh-provision.txt");
        const remoteStatuses3 = statusesOf(remote3.stdout);
        const diff3 = differingControls(local2.statuses, remoteStatuses3);
        figures.verifySshEqualAfterProvision = `${local2.statuses.size - diff3.length}/${local2.statuses.size}`;
        log(
          `after provision --ssh: verify --ssh exit ${remote3.exitCode} (${remote3.seconds} s), local ${local2.out.match(/verify-exit=\d+/)?.[0]}; ${figures.verifySshEqualAfterProvision} equal ${diff3.join(", ")}`,
        );
        expect(remote3.exitCode, remote3.stderr).toBe(0);
        expect(local2.out).toContain("verify-exit=0");
        expect(diff3).toEqual([]);
        const again = await kofferIn(town, provisionSshArgs(access));
        sshLog.push(
          `second provision --ssh: exit ${again.exitCode}, ${again.seconds} s\n${again.stdout}\n${again.stderr}`,
        );
        figures.secondProvisionSshSeconds = again.seconds;
        log(
          `second provision --ssh: exit ${again.exitCode} in ${again.seconds} s\n${again.stdout}`,
        );
        expect(again.exitCode, `${again.stdout}\n${again.stderr}`).toBe(0);
        expect(again.stdout).toMatch(/^Plan: nothing to change\.$/m);
        expect(again.stdout).not.toMatch(/: [1-9]\d* applied/);
      }
      // What the ssh steps add to the VM run (the first local verify was there before).
      figures.sshStepsSeconds =
        Math.round((Date.now() - sshStarted) / 100) / 10 +
        (figures.sshAccessSetupSeconds as number);
      await vm.sh("systemctl poweroff --no-block");
      await vm.exited;
      await stopVm();
      // The ssh steps alone took 21 min at a host load of ~10 (six gathers of the VM's facts):
      // beyond the default 30 min per test.
    },
    75 * 60_000,
  );

  it("boot 3: Secure Boot off changes PCR 7: the PIN no longer unlocks, the escrowed recovery key does", async () => {
    await stopVm(); // an earlier boot that failed still holds the disk
    const t = Date.now();
    vm = await bootVm(state, { secureBoot: false, logName: "laptop", net: nic() });
    await vm.expect(pinPrompt, bootTimeout);
    figures.boot3ToPinPromptSeconds = seconds(t);
    vm.send(pin);
    // The TPM refuses to unseal under the changed PCR 7 however often the right PIN is
    // typed: systemd-cryptsetup ends up asking for a passphrase.
    let pinTries = 1;
    for (;;) {
      const m = await vm.expect(
        new RegExp(`(${pinPrompt.source})|(${passphrasePrompt.source})|(login: $)`, "im"),
        bootTimeout,
      );
      expect(m[0], "the right PIN must not open the root with Secure Boot off").not.toMatch(
        /login/,
      );
      if (m[0].match(passphrasePrompt)) break;
      expect(++pinTries).toBeLessThanOrEqual(5);
      vm.send(pin);
    }
    figures.pcr7PinTries = pinTries;
    const pass = (await readFile(join("examples", "certs", "test-escrow.pass"), "utf8")).trim();
    const key = readPkcs12(await readFile(join("examples", "certs", "test-escrow.p12")), pass).key;
    const recovery = openEscrow(await readFile(disk.escrow, "utf8"), key).toString("utf8");
    const typed = Date.now();
    vm.send(recovery);
    await prepareShell(vm, rootPassword, bootTimeout);
    figures.recoveryUnlockToLoginSeconds = seconds(typed);
    const sb = await vm.sh(`od -An -tu1 /sys/firmware/efi/efivars/SecureBoot-${efiGlobal}`);
    expect(sb.out.trim().split(/\s+/).at(-1)).toBe("0");
    await vm.sh("systemctl poweroff --no-block");
    await vm.exited;
    await stopVm();
  });
});
