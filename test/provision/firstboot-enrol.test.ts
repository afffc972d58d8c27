/**
 * The first-boot enrolment script (templates/tpm2-enrol.sh → /usr/lib/koffer/tpm2-enrol), run
 * for real on the host: POSIX sh, the real cryptsetup, systemd-cryptenroll with
 * `--tpm2-device=auto` and the real systemd-tpm2 token plugin, against swtpm shown as
 * /dev/tpmrm0 (test/helpers/tpm-device.ts) and a LUKS2 image file. Only systemd-ask-password
 * is replaced (by PATH, in the test only): it records each prompt and answers from a list.
 * systemd-cryptenroll is wrapped (by PATH) to record its environment and command line before
 * it execs the real tool: the secrets must reach it through the ask-password protocol only.
 */
import { execa } from "execa";
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../helpers/cli.js";
import { makeLuksImage, testPassphrase } from "../helpers/luks.js";
import { startTpmDevice, type TpmDevice } from "../helpers/tpm-device.js";

const script = join(repoRoot, "templates/tpm2-enrol.sh");
const recoveryKey = `${testPassphrase}-1`;
const pin = "271828";

let dir: string;
let tpm: TpmDevice;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "koffer-firstboot-"));
  tpm = await startTpmDevice();
}, 60_000);
afterAll(async () => {
  await tpm?.stop();
  await rm(dir, { recursive: true, force: true });
});

// The test double for systemd-ask-password: the prompt (last argument) goes to prompts.log,
// the answer is the next line of answers; none left = nobody at the console (exit 1).
const askPassword = `#!/bin/sh
d=$(dirname "$0")
for a; do msg=$a; done
printf '%s\\n' "$msg" >>"$d/prompts.log"
n=$(cat "$d/count" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" >"$d/count"
line=$(sed -n "\${n}p" "$d/answers")
[ -n "$line" ] || exit 1
printf '%s\\n' "$line"
`;

// Power loss at a chosen step: this cryptsetup / sync kills the script (SIGKILL, no trap runs)
// when the flag file names that step, else runs the real tool.
const killer = (tool: string, step: string, match: string) => `#!/bin/sh
d=$(dirname "$0")
if [ "$(cat "$d/power-loss" 2>/dev/null)" = "${step}" ] && ${match}; then
  rm -f "$d/power-loss"; kill -9 "$PPID"; exit 137
fi
exec ${tool} "$@"
`;

interface Volume {
  image: string;
  bin: string;
  state: string;
  config: string;
}

async function volume(name: string, withRecovery = true): Promise<Volume> {
  const base = join(dir, name);
  const bin = join(base, "bin");
  await mkdir(bin, { recursive: true });
  const image = await makeLuksImage({
    extraKeyslots: withRecovery ? [{ token: { type: "systemd-recovery" } }] : [],
    copyTo: join(base, "disk.img"),
  });
  const config = join(base, "tpm2-enrol.conf");
  await writeFile(config, `# test\ncryptroot ${image.path} 7\n`);
  await writeFile(join(bin, "systemd-ask-password"), askPassword);
  await writeFile(
    join(bin, "cryptsetup"),
    killer(
      "/usr/sbin/cryptsetup",
      "wipe",
      `case " $* " in *luksRemoveKey*) true ;; *) false ;; esac`,
    ),
  );
  await writeFile(join(bin, "sync"), killer("/usr/bin/sync", "marker", "true"));
  // Same PID as the real tool (exec): what /proc/PID/environ and cmdline of it show.
  await writeFile(
    join(bin, "systemd-cryptenroll"),
    `#!/bin/sh\n{ env; echo "argv: $*"; } >>"$(dirname "$0")/cryptenroll-seen"\nexec /usr/bin/systemd-cryptenroll "$@"\n`,
  );
  for (const tool of ["systemd-ask-password", "cryptsetup", "sync", "systemd-cryptenroll"])
    await chmod(join(bin, tool), 0o755);
  return { image: image.path, bin, state: join(base, "state"), config };
}

async function run(v: Volume, answers: string[], powerLoss?: "wipe" | "marker") {
  await writeFile(join(v.bin, "answers"), answers.map((a) => `${a}\n`).join(""));
  await rm(join(v.bin, "count"), { force: true });
  await rm(join(v.bin, "prompts.log"), { force: true });
  if (powerLoss) await writeFile(join(v.bin, "power-loss"), powerLoss);
  const result = await tpm.run("sh", [script, "--config", v.config, "--state-dir", v.state], {
    env: { PATH: `${v.bin}:${process.env.PATH ?? "/usr/bin:/bin"}` },
    timeout: 120_000,
  });
  if (process.env.DEBUG_FB) console.log(result.exitCode, result.stderr);
  const prompts = (await readFile(join(v.bin, "prompts.log"), "utf8").catch(() => ""))
    .split("\n")
    .filter(Boolean);
  return { ...result, prompts };
}

interface Header {
  keyslots: Record<string, unknown>;
  tokens: Record<
    string,
    { type: string; keyslots: string[]; "tpm2-pin"?: boolean; "tpm2-pcrs"?: number[] }
  >;
}

async function header(image: string): Promise<Header> {
  const dump = await execa("cryptsetup", ["luksDump", "--dump-json-metadata", image]);
  return JSON.parse(dump.stdout) as Header;
}

/** The keyslot a secret opens (plain passphrase or, with `token`, the TPM2 token + PIN). */
async function opens(image: string, secret: string, token = false): Promise<string | null> {
  const args = token
    ? ["open", "--test-passphrase", "-v", "--token-only", "--token-type", "systemd-tpm2", image]
    : ["open", "--test-passphrase", "-v", "--key-file=-", image];
  const result = await tpm.run("cryptsetup", args, { input: secret });
  if (process.env.DEBUG_FB)
    console.log(args.join(" "), result.exitCode, result.stdout, result.stderr);
  return /^Key slot (\d+) unlocked\.$/m.exec(result.stdout)?.[1] ?? null;
}

const prompt = {
  passphrase: "koffer: Aktuelle Passphrase des Technikers für cryptroot (technician passphrase):",
  pin: "koffer: Neue TPM-PIN für cryptroot, mindestens 6 Zeichen (new TPM PIN, at least 6 characters):",
  repeat: "koffer: Neue TPM-PIN wiederholen (repeat new TPM PIN):",
};

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

describe("first-boot TPM2+PIN enrolment script", () => {
  it("enrols, proves the token with the PIN, wipes the technician slot, keeps the recovery slot, never runs twice", async () => {
    const v = await volume("main");
    // The recovery key is refused as "the wrong key"; a short PIN and a mismatch are asked again.
    const r = await run(v, [recoveryKey, testPassphrase, "12", "12", pin, "999999", pin, pin]);
    expect(r.stderr).toContain("TPM2+PIN registriert/enrolled: cryptroot");
    expect(r.exitCode).toBe(0);
    expect(r.prompts).toEqual([
      prompt.passphrase,
      prompt.passphrase,
      prompt.pin,
      prompt.repeat,
      prompt.pin,
      prompt.repeat,
      prompt.pin,
      prompt.repeat,
    ]);
    expect(r.stderr).toContain("das ist der Wiederherstellungsschlüssel");
    // Secrets are never echoed, and never in systemd-cryptenroll's environment or argv.
    for (const secret of [testPassphrase, pin]) expect(r.stdout + r.stderr).not.toContain(secret);
    const seen = await readFile(join(v.bin, "cryptenroll-seen"), "utf8");
    expect(seen).toContain("argv: --tpm2-device=auto --tpm2-with-pin=yes --tpm2-pcrs=7");
    for (const secret of [testPassphrase, pin]) expect(seen).not.toContain(secret);

    const h = await header(v.image);
    const tpm2 = Object.values(h.tokens).filter((t) => t.type === "systemd-tpm2");
    expect(tpm2).toHaveLength(1);
    expect(tpm2[0]?.["tpm2-pin"]).toBe(true);
    expect(tpm2[0]?.["tpm2-pcrs"]).toEqual([7]);
    const tokenSlot = tpm2[0]?.keyslots[0] as string;
    expect(Object.keys(h.keyslots).sort()).toEqual(["1", tokenSlot].sort());
    expect(Object.values(h.tokens).find((t) => t.type === "systemd-recovery")?.keyslots).toEqual([
      "1",
    ]);

    expect(await opens(v.image, pin, true)).toBe(tokenSlot);
    expect(await opens(v.image, "000000", true)).toBeNull();
    expect(await opens(v.image, testPassphrase)).toBeNull();
    expect(await opens(v.image, recoveryKey)).toBe("1");

    expect(await exists(join(v.state, "tpm2-enrolled"))).toBe(true);
    expect(await exists(join(v.state, "tpm2-enrol.failed"))).toBe(false);

    const again = await run(v, []);
    expect(again.exitCode).toBe(0);
    expect(again.prompts).toEqual([]);
    expect(again.stderr).toContain("bereits erledigt/already done");
  }, 180_000);

  it("power loss between enrolment and wipe: the next boot asks again, replaces the token, wipes", async () => {
    const v = await volume("loss-wipe");
    const first = await run(v, [testPassphrase, pin, pin], "wipe");
    expect(first.exitCode).not.toBe(0);
    let h = await header(v.image);
    expect(Object.values(h.tokens).filter((t) => t.type === "systemd-tpm2")).toHaveLength(1);
    expect(await opens(v.image, testPassphrase)).toBe("0");
    expect(await exists(join(v.state, "tpm2-enrolled"))).toBe(false);

    const pin2 = "314159";
    const second = await run(v, [testPassphrase, pin2, pin2]);
    expect(second.exitCode).toBe(0);
    h = await header(v.image);
    const tpm2 = Object.values(h.tokens).filter((t) => t.type === "systemd-tpm2");
    expect(tpm2).toHaveLength(1);
    expect(Object.keys(h.keyslots)).toHaveLength(2);
    expect(await opens(v.image, pin2, true)).toBe(tpm2[0]?.keyslots[0]);
    expect(await opens(v.image, testPassphrase)).toBeNull();
    expect(await opens(v.image, recoveryKey)).toBe("1");
    expect(await exists(join(v.state, "tpm2-enrolled"))).toBe(true);
  }, 180_000);

  it("power loss after the wipe, before the marker: the next boot finishes without asking", async () => {
    const v = await volume("loss-marker");
    const first = await run(v, [testPassphrase, pin, pin], "marker");
    expect(first.exitCode).not.toBe(0);
    expect(await opens(v.image, testPassphrase)).toBeNull();
    expect(await exists(join(v.state, "tpm2-enrolled"))).toBe(false);

    const second = await run(v, []);
    expect(second.exitCode).toBe(0);
    expect(second.prompts).toEqual([]);
    expect(second.stderr).toContain("bereits registriert");
    expect(await exists(join(v.state, "tpm2-enrolled"))).toBe(true);
    expect(await opens(v.image, pin, true)).not.toBeNull();
  }, 180_000);

  it("without a recovery key in the header the passphrase stays (never the last way in besides the TPM)", async () => {
    const v = await volume("no-recovery", false);
    const r = await run(v, [testPassphrase, pin, pin]);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain("Passphrase bleibt/no recovery key in the header");
    expect(await opens(v.image, testPassphrase)).toBe("0");
    expect(await opens(v.image, pin, true)).not.toBeNull();
  }, 180_000);

  it("a config naming something that is not a LUKS2 volume: fails before asking anything", async () => {
    const v = await volume("not-luks");
    await writeFile(v.image, Buffer.alloc(1024 * 1024));
    const r = await run(v, [testPassphrase, pin, pin]);
    expect(r.exitCode).toBe(1);
    expect(r.prompts).toEqual([]);
    expect(r.stderr).toContain("ist kein LUKS2-Datenträger/is not a LUKS2 volume");
  }, 60_000);

  it("nobody at the console: fails, notes why (no secret), changes nothing, runs again next boot", async () => {
    const v = await volume("walked-away");
    const r = await run(v, []);
    expect(r.exitCode).toBe(1);
    const note = await readFile(join(v.state, "tpm2-enrol.failed"), "utf8");
    expect(note).toMatch(/^\d{4}-\d\d-\d\dT\S+Z cryptroot: keine Eingabe\/no answer\n$/);
    expect(await opens(v.image, testPassphrase)).toBe("0");
    expect(
      Object.values((await header(v.image)).tokens).some((t) => t.type === "systemd-tpm2"),
    ).toBe(false);
  }, 60_000);
});
