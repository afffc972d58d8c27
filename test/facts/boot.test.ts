import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { openTarget } from "../../src/targets/index.js";
import { gatherBoot, parseGrubDefault, parseSecureBootVar } from "../../src/facts/boot.js";
import { buildRoot } from "../helpers/root-tree.js";

const ctx = { profile: null, now: new Date() };

describe("boot gatherer", () => {
  it("on an offline root: firmware unavailable with a reason, command line from /etc/default/grub", async () => {
    const root = await buildRoot({
      files: {
        "/etc/default/grub":
          'GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT="quiet"\nGRUB_CMDLINE_LINUX="apparmor=1 security=apparmor"\n',
        "/etc/default/grub.d/koffer.cfg": 'GRUB_CMDLINE_LINUX_DEFAULT="quiet lockdown=integrity"\n',
      },
    });
    const facts = await gatherBoot(await openTarget({ root }), ctx);
    expect(facts.secureBoot).toEqual({
      available: false,
      reason: "firmware state is not visible in an offline root filesystem",
    });
    expect(facts.tpm.available).toBe(false);
    expect(facts.efiBootEntries.available).toBe(false);
    expect(facts.kernelCmdline?.value).toEqual([
      "apparmor=1",
      "security=apparmor",
      "quiet",
      "lockdown=integrity",
    ]);
  });

  it("has no command line when the root has no grub defaults", async () => {
    const facts = await gatherBoot(await openTarget({ root: await buildRoot({}) }), ctx);
    expect(facts.kernelCmdline).toBeNull();
  });

  it("reads the live machine: /proc/cmdline always, Secure Boot and TPM as the host shows them", async () => {
    const facts = await gatherBoot(await openTarget({}), ctx);
    expect(facts.kernelCmdline?.source).toBe("/proc/cmdline");
    // This machine has no TPM device; a live answer is still an answer, not a skip.
    if (facts.tpm.available) expect(typeof facts.tpm.value.present).toBe("boolean");
  });

  // grub-mkconfig sources /etc/default/grub with /bin/sh: assignments after `;`, `&&`, `||`,
  // `then`, `else`, `do` are made as well. Differential against the host's /bin/sh.
  it("applies assignments behind ; && || then else, as /bin/sh does", async () => {
    const texts = [
      'GRUB_CMDLINE_LINUX="quiet"\nif true; then GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX apparmor=0"; fi\n',
      'GRUB_CMDLINE_LINUX="quiet"\n[ -d / ] && GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX apparmor=0"\n',
      'GRUB_CMDLINE_LINUX="quiet"\n[ -d /nonexistent-koffer ] || GRUB_CMDLINE_LINUX="${GRUB_CMDLINE_LINUX} lsm=landlock"\n',
      'GRUB_CMDLINE_LINUX="a;b"; if false; then :; else GRUB_CMDLINE_LINUX_DEFAULT="x && y"; fi\n',
      "GRUB_CMDLINE_LINUX='quiet'\nfor x in 1; do GRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX apparmor=0\"; done\n",
    ];
    for (const text of texts) {
      const sh = await execa("/bin/sh", [
        "-c",
        `${text}\nprintf '%s %s' "$GRUB_CMDLINE_LINUX" "$GRUB_CMDLINE_LINUX_DEFAULT"`,
      ]);
      expect(parseGrubDefault(text), text).toEqual(sh.stdout.split(/\s+/).filter((w) => w !== ""));
    }
  });

  it("decodes the SecureBoot efivar (4 attribute bytes, then the value)", () => {
    expect(parseSecureBootVar(Buffer.from([6, 0, 0, 0, 1]))).toBe(true);
    expect(parseSecureBootVar(Buffer.from([6, 0, 0, 0, 0]))).toBe(false);
    expect(parseSecureBootVar(Buffer.from([6, 0, 0]))).toBeNull();
    expect(parseGrubDefault("GRUB_CMDLINE_LINUX=''\n")).toEqual([]);
  });
});
