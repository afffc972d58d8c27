/**
 * Online re-encryption on the running laptop VM (issue 10, item 4): a weak LUKS2 volume
 * (aes-xts-plain64, 256-bit key) on a second virtio disk is opened and mounted inside the
 * booted VM, a writer keeps appending to it, and `koffer provision --confirm-reencrypt` runs
 * INSIDE the VM (local target, `--disk`): the plan says "online, mapping …" and the handler
 * runs `cryptsetup reencrypt --active-name`. Midway cryptsetup is killed with SIGKILL; the next
 * provision resumes it (still online, still mounted). Then: the checksums of the files written
 * before match, the writer's log has no gap, e2fsck finds the file system clean, the volume
 * reopens with its passphrase, and DISK-02 passes in `koffer verify` on the VM.
 *
 * The second disk, not the root, because the root of the cached disk is already 512-bit (its
 * build re-encrypts offline) and a small volume keeps the run short; the path through
 * cryptsetup (--active-name, dm-crypt reloads under a mounted file system) is the same.
 * koffer's current build reaches the VM on a third small disk (ext4 made with `mkfs.ext4 -d`),
 * copied over /opt/koffer's, so the VM runs the code under test without rebuilding the image.
 *
 * The weak disk is throttled through QMP while the first run goes (so the kill lands midway
 * on any machine) and unthrottled for the resume, whose rate is the online figure printed.
 */
import { execa } from "execa";
import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  formatLuksPartition,
  newLayout,
  rootPassword,
  technicianPassphrase,
  vmDisk,
} from "./image.js";
import {
  accel,
  artifactsDir,
  bootVm,
  createVmState,
  firstBootLogin,
  vmSkipReason,
  type Vm,
  type VmState,
} from "./qemu.js";

/**
 * Not yet green (its one full run under load never saw cryptsetup's first progress line in
 * 19 min): opt-in with KOFFER_VM_ONLINE_REENCRYPT=1 until it is, so `npm run test:vm` in CI
 * proves what has been proven.
 */
const skip =
  vmSkipReason() ??
  (process.env.KOFFER_VM_ONLINE_REENCRYPT === "1"
    ? null
    : "not yet proven green; set KOFFER_VM_ONLINE_REENCRYPT=1 to run it");
const bootTimeout = accel() === "kvm" ? 180_000 : 900_000;
const pin = "246810";
/** The weak volume: 128 MiB, its passphrase (test material, typed into the VM's /run). */
const weakMiB = 128;
const weakPassphrase = "Schwach-256-Bit-Volume-2026";
/** Total bytes/s of the weak disk while the first run goes: ~6 MiB/s of re-encryption. */
const throttleBps = 12 * 1024 * 1024;
const repo = resolve(import.meta.dirname, "..", "..");

const figures: Record<string, number | string> = { accel: accel() };
const log = (line: string) => process.stderr.write(`[vm-reonline] ${line}\n`);
const seconds = (since: number) => Math.round((Date.now() - since) / 100) / 10;
const started = Date.now();

let state: VmState | null = null;
let vm: Vm | null = null;

/** Run on the VM's console; fails the test with the output when the exit status differs. */
async function must(command: string, timeoutMs = 300_000): Promise<string> {
  const r = await vm!.sh(command, timeoutMs);
  expect(r.code, `${command}\n${r.out}`).toBe(0);
  return r.out;
}

const provisionCommand = (run: string) =>
  `cd /run/kof && KOFFER_TEST_PBKDF=fast koffer provision --profile /opt/koffer/profile/vm-laptop.yaml ` +
  `--disk "$(cat /run/kof/dev)" --yes --confirm-reencrypt --passphrase-file /run/kof/pass --lang en ` +
  `> /run/kof/${run}.out 2> /run/kof/${run}.err; echo $? > /run/kof/${run}.rc`;

async function throttle(bps: number): Promise<void> {
  await vm!.qmp("block_set_io_throttle", {
    // The drive's id (QEMU 7.2 has no block backend under the virtio-blk-pci's own qdev id).
    device: "weak",
    bps,
    bps_rd: 0,
    bps_wr: 0,
    iops: 0,
    iops_rd: 0,
    iops_wr: 0,
  });
}

describe.skipIf(skip !== null)("laptop VM: online re-encryption of a mounted weak volume", () => {
  beforeAll(async () => {
    const disk = await vmDisk(log);
    state = await createVmState("reonline", disk.image);
    // The weak volume as an installer of old leaves it: 256-bit XTS key, one passphrase slot.
    await formatLuksPartition(
      join(state.dir, "weak.img"),
      newLayout(weakMiB),
      { keyBits: 256 },
      weakPassphrase,
    );
    // koffer's current build (dist/ must be built: `npx tsc -p tsconfig.build.json`).
    const code = join(state.dir, "code");
    await mkdir(code);
    for (const entry of ["dist", "bin", "templates", "schema", "package.json"])
      await execa("cp", ["-a", "-L", join(repo, entry), join(code, entry)]);
    await execa("mkfs.ext4", [
      "-q",
      "-F",
      "-L",
      "kofcode",
      "-d",
      code,
      join(state.dir, "code.img"),
      "64M",
    ]);
  });

  afterAll(async () => {
    await vm?.stop();
    vm = null;
    await state?.remove();
    figures.totalSeconds = seconds(started);
    await mkdir(artifactsDir, { recursive: true });
    await writeFile(
      join(artifactsDir, "vm-reencrypt-online.json"),
      `${JSON.stringify(figures, null, 2)}\n`,
    );
    log(`figures: ${JSON.stringify(figures)}`);
  });

  it("re-encrypts the mounted volume online, survives kill -9 of cryptsetup, loses no data", async () => {
    const t = Date.now();
    vm = await bootVm(state!, {
      secureBoot: true,
      logName: "reencrypt-online",
      drives: [
        `if=none,id=weak,file=${join(state!.dir, "weak.img")},format=raw,cache=unsafe`,
        `if=none,id=kcode,file=${join(state!.dir, "code.img")},format=raw,readonly=on`,
      ],
      devices: [
        "virtio-blk-pci,drive=weak,id=weakdev,serial=kofweak",
        "virtio-blk-pci,drive=kcode,id=kcodedev,serial=kofcode",
      ],
    });
    await firstBootLogin(vm, {
      passphrase: technicianPassphrase,
      pin,
      password: rootPassword,
      timeoutMs: bootTimeout,
    });
    figures.bootToShellSeconds = seconds(t);

    // The build under test over /opt/koffer's; secrets and run files on tmpfs only.
    await must(
      "mkdir -p /mnt/kcode /mnt/weak && mount -o ro /dev/disk/by-id/virtio-kofcode /mnt/kcode && " +
        "for e in dist templates schema package.json bin/koffer.js; do rm -rf /opt/koffer/$e && cp -a /mnt/kcode/$e /opt/koffer/$e; done && " +
        "umount /mnt/kcode && install -d -m 0700 /run/kof && readlink -f /dev/disk/by-id/virtio-kofweak > /run/kof/dev && cat /run/kof/dev",
    );
    await must(`umask 077; printf '%s' '${weakPassphrase}' > /run/kof/pass`);
    const before = await must(
      'cryptsetup luksDump "$(cat /run/kof/dev)" | grep -E "^\\s+(Key|cipher):"',
    );
    expect(before).toMatch(/Key:\s+256 bits/);

    // Opened, formatted, mounted, filled; checksums of the decrypted content kept in /run.
    const fill = Date.now();
    await must(
      'cryptsetup open --key-file=/run/kof/pass "$(cat /run/kof/dev)" weakdata && ' +
        "mkfs.ext4 -q -L weakdata /dev/mapper/weakdata && mount /dev/mapper/weakdata /mnt/weak && " +
        "head -c 80M /dev/urandom > /mnt/weak/akte.bin && mkdir /mnt/weak/docs && " +
        "for i in $(seq 1 200); do head -c $((i * 97)) /dev/urandom > /mnt/weak/docs/f$i; done && sync && " +
        "(cd /mnt/weak && find . -type f -print0 | sort -z | xargs -0 sha256sum) > /run/kof/before.sha256 && wc -l < /run/kof/before.sha256",
      600_000,
    );
    figures.fillSeconds = seconds(fill);
    // The volume stays in use: a writer appends numbered lines (fsync every 20) throughout.
    await must(
      "setsid sh -c 'i=0; while [ ! -e /run/kof/stop ]; do echo $i >> /mnt/weak/writer.log; i=$((i+1)); " +
        "[ $((i % 20)) -eq 0 ] && sync /mnt/weak/writer.log; sleep 0.05; done; sync' </dev/null >/dev/null 2>&1 & echo $! > /run/kof/writer.pid",
    );

    // The plan on the running VM first: the re-encryption online through the mapping, and
    // whatever else the live laptop still gets before it (kept for the record).
    const plan = await must(
      `koffer plan --profile /opt/koffer/profile/vm-laptop.yaml --disk "$(cat /run/kof/dev)" 2>&1; true`,
      1_200_000,
    );
    await writeFile(join(artifactsDir, "vm-reencrypt-online-plan.txt"), plan);
    expect(plan).toMatch(/online, (mapping )?weakdata/);

    // Run 1, throttled: planned online, confirmed by flag; killed midway.
    await throttle(throttleBps);
    const run1 = Date.now();
    await must(`setsid sh -c '${provisionCommand("p1")}' </dev/null >/dev/null 2>&1 &`);
    let killedAt = -1;
    while (killedAt < 0) {
      await new Promise((r) => setTimeout(r, 2000));
      // The last lines of koffer's progress go to the console log each time (diagnosis).
      const seen = await vm.sh(
        "tail -n 2 /run/kof/p1.err; grep -o 're-encrypting [^:]*: [0-9]*%' /run/kof/p1.err | tail -1; sed 's/^/rc=/' /run/kof/p1.rc 2>/dev/null; true",
      );
      if (Date.now() - run1 > 1_200_000) {
        const out = await vm.sh("cat /run/kof/p1.out /run/kof/p1.err");
        throw new Error(`run 1 reached no progress line in 20 min:\n${out.out}`);
      }
      const pct = /: (\d+)%/.exec(seen.out);
      if (pct !== null && Number(pct[1]) >= 5 && Number(pct[1]) <= 90) {
        await must("kill -9 $(pgrep -f '^cryptsetup reencrypt')");
        killedAt = Number(pct[1]);
      } else if (/rc=\d+/.test(seen.out)) {
        const out = await vm.sh("cat /run/kof/p1.out /run/kof/p1.err");
        throw new Error(`run 1 ended before it could be interrupted:\n${out.out}`);
      }
    }
    figures.killedAtPercent = killedAt;
    figures.run1SecondsToKill = seconds(run1);
    await must(
      "for i in $(seq 1 300); do [ -e /run/kof/p1.rc ] && break; sleep 1; done; cat /run/kof/p1.rc",
    );
    const p1 = await must(
      "cat /run/kof/p1.out; echo ---; cat /run/kof/p1.err; echo rc=$(cat /run/kof/p1.rc)",
    );
    await writeFile(join(artifactsDir, "vm-reencrypt-online-run1.txt"), p1);
    expect(p1, "the plan says online, with the mapping").toMatch(/online, (mapping )?weakdata/);
    expect(p1).not.toMatch(/rc=0\s*$/);
    // The header keeps the requirement; the mapping is still there and the writer still writes.
    // What the kill left: the header keeps the requirement; cryptsetup's helper devices
    // (NAME-overlay, NAME-hotzone-forward, the latter suspended when the kill came inside a
    // step, so file-system I/O to the hot zone waits) are still stacked under the mapping.
    const mid = await must(
      'cryptsetup luksDump "$(cat /run/kof/dev)" | grep -A1 -i requirements; ' +
        "dmsetup info -c --noheadings -o name,suspended | sort; lsblk -J -o NAME,PATH,TYPE,FSTYPE,MOUNTPOINTS; " +
        "a=$(wc -l < /mnt/weak/writer.log); sleep 2; b=$(wc -l < /mnt/weak/writer.log); echo writer $a $b",
    );
    await writeFile(join(artifactsDir, "vm-reencrypt-online-after-kill.txt"), mid);
    expect(mid).toMatch(/online-reencrypt/);
    const writer = /writer (\d+) (\d+)/.exec(mid);
    figures.writerLinesDuringKilledState = Number(writer?.[2]) - Number(writer?.[1]);
    figures.helpersAfterKill = [...mid.matchAll(/^(weakdata-\S+)\s*:?\s*(\S+)/gm)]
      .map((m) => `${m[1]} ${m[2]}`)
      .join(", ");

    // Run 2, unthrottled: provision plans the resume and finishes online.
    await throttle(0);
    const run2 = Date.now();
    await must(provisionCommand("p2"), 1_800_000);
    figures.resumeSeconds = seconds(run2);
    const p2 = await must(
      "cat /run/kof/p2.out; echo ---; cat /run/kof/p2.err; echo rc=$(cat /run/kof/p2.rc)",
    );
    await writeFile(join(artifactsDir, "vm-reencrypt-online-run2.txt"), p2);
    expect(p2).toMatch(/resum/i);
    expect(p2).not.toMatch(/E_REENCRYPT|failed: cryptsetup/);
    const rates = [...p2.matchAll(/(\d+) MiB\/s/g)].map((m) => Number(m[1]));
    figures.onlineMiBPerSecond = rates.at(-1) ?? "not reported";
    figures.resumedMiB = Math.round((weakMiB * (100 - killedAt)) / 100);

    // No data lost: the writer's lines are complete, the files match, the fs checks clean.
    const after = await must(
      "touch /run/kof/stop; while kill -0 $(cat /run/kof/writer.pid) 2>/dev/null; do sleep 0.2; done; " +
        'awk \'NR-1 != $1 { print "gap at line " NR ": " $0; bad=1 } END { print "writer lines " NR; exit bad }\' /mnt/weak/writer.log && ' +
        "cd /mnt/weak && sha256sum --quiet -c /run/kof/before.sha256 && echo checksums-ok && cd / && " +
        "umount /mnt/weak && e2fsck -fn /dev/mapper/weakdata && cryptsetup close weakdata && " +
        'echo 3 > /proc/sys/vm/drop_caches && cryptsetup open --key-file=/run/kof/pass "$(cat /run/kof/dev)" weakdata && ' +
        "mount -o ro /dev/mapper/weakdata /mnt/weak && cd /mnt/weak && sha256sum --quiet -c /run/kof/before.sha256 && echo reopened-ok && " +
        'cd / && umount /mnt/weak && cryptsetup luksDump "$(cat /run/kof/dev)"',
      600_000,
    );
    expect(after).toContain("checksums-ok");
    expect(after).toContain("reopened-ok");
    expect(after).toMatch(/clean|0\/\d+ files/);
    expect(after).toMatch(/Key:\s+512 bits/);
    expect(after).not.toMatch(/online-reencrypt/);
    figures.writerLines = Number(/writer lines (\d+)/.exec(after)?.[1] ?? 0);

    // DISK-02 on the running VM (both volumes: the root and the re-encrypted one).
    const verify = await vm.sh(
      "koffer verify --profile /opt/koffer/profile/vm-laptop.yaml --format json --out /root/result.json --lang en >/dev/null 2>&1; " +
        "/opt/koffer/bin/node -e 'for(const c of require(\"/root/result.json\").controls)console.log(c.id,c.status)'",
      1_200_000,
    );
    expect(verify.out).toMatch(/^DISK-02 pass$/m);
    log(`figures: ${JSON.stringify(figures)}`);
    await vm.sh("systemctl poweroff --no-block");
    await vm.exited;
  });
});
