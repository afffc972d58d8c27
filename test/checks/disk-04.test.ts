import { disk04 } from "../../src/checks/disk-04.js";
import {
  firstBootFacts,
  firstBootInstalled,
  hardenedFacts,
  hardenedInitrd,
  hardenedVolume,
  stockInitrd,
} from "../helpers/facts.js";
import { makeProfile } from "../helpers/profile.js";
import { testControl } from "./control-tester.js";

const v = hardenedVolume();
const f = hardenedFacts();
const stock = stockInitrd();

testControl(disk04, import.meta.url, [
  { name: "TPM2 + PIN + PCR 7", status: "pass", messages: ["ok"], exact: true },
  {
    name: "passphrase unlock by profile",
    profile: makeProfile({ spec: { disk: { unlock: "passphrase" } } }),
    status: "pass",
    messages: ["okPassphrase"],
  },
  {
    name: "no TPM token yet",
    facts: hardenedFacts({ disk: { volumes: [{ ...v, tokens: [v.tokens[0]!] }] } }),
    status: "fail",
    messages: ["pending"],
    exact: true,
  },
  {
    name: "first-boot enrolment installed: pending, not pass, not fail",
    facts: firstBootFacts({}),
    status: "pending",
    messages: ["firstBootPending"],
    data: { pcrs: "7", unit: "koffer-tpm2-enrol.service" },
    exact: true,
  },
  {
    name: "first-boot enrolment installed, and a TPM2+PIN token already there: pass",
    facts: (() => {
      const facts = firstBootFacts({});
      facts.disk.volumes = [v];
      return facts;
    })(),
    status: "pass",
    messages: ["ok"],
    exact: true,
  },
  {
    name: "first-boot enrolment failed on the device: fail with its note",
    facts: firstBootFacts({
      failure: {
        text: "2026-12-01T08:00:00Z cryptroot: keine Eingabe/no answer",
        source: "/var/lib/koffer/tpm2-enrol.failed",
      },
    }),
    status: "fail",
    messages: ["firstBootFailed"],
    data: { failure: "2026-12-01T08:00:00Z cryptroot: keine Eingabe/no answer" },
    exact: true,
  },
  {
    name: "first-boot unit disabled: incomplete, fail",
    facts: firstBootFacts({}, "disabled"),
    status: "fail",
    messages: ["firstBootIncomplete"],
    data: { missing: "koffer-tpm2-enrol.service disabled" },
    exact: true,
  },
  {
    name: "first-boot config with other PCRs, no script: incomplete, fail",
    facts: firstBootFacts({
      script: null,
      volumes: [{ ...firstBootInstalled.volumes[0]!, pcrs: [0] }],
    }),
    status: "fail",
    messages: ["firstBootIncomplete"],
    exact: true,
  },
  {
    name: "TPM without PIN",
    facts: hardenedFacts({
      disk: { volumes: [{ ...v, tokens: [v.tokens[0]!, { ...v.tokens[1]!, tpm2Pin: false }] }] },
    }),
    status: "fail",
    messages: ["noPin"],
  },
  {
    name: "PCR 0 only",
    facts: hardenedFacts({
      disk: { volumes: [{ ...v, tokens: [v.tokens[0]!, { ...v.tokens[1]!, tpm2Pcrs: [0] }] }] },
    }),
    status: "fail",
    messages: ["pcrs"],
    data: { actual: "0" },
  },
  {
    name: "crypttab without tpm2-device",
    facts: hardenedFacts({ disk: { crypttab: [{ ...f.disk.crypttab[0]!, options: ["luks"] }] } }),
    status: "fail",
    messages: ["crypttabOption"],
  },
  {
    name: "Debian 13 without systemd-cryptsetup: nothing acts on tpm2-device=auto at boot",
    profile: makeProfile({ spec: { platform: "debian-13" } }),
    status: "fail",
    messages: ["unlockPackage"],
    data: { package: "systemd-cryptsetup", release: "Debian 13 (trixie)" },
    exact: true,
  },
  {
    name: "Debian 13 with systemd-cryptsetup",
    profile: makeProfile({ spec: { platform: "debian-13" } }),
    facts: hardenedFacts({
      apps: {
        packages: [
          ...f.apps.packages,
          { name: "systemd-cryptsetup", version: "257.13-1~deb13u1", status: "ii" },
        ],
      },
    }),
    status: "pass",
    messages: ["ok"],
  },
  {
    name: "default kernel's initrd from cryptsetup-initramfs: the token cannot be used at boot",
    facts: hardenedFacts({ boot: { initrds: [stock] } }),
    status: "fail",
    messages: ["initrdToken"],
    data: {
      initrd: "/boot/initrd.img-6.1.0-28-amd64",
      generator: "initramfs-tools+cryptsetup",
      missing:
        "systemd-cryptsetup, libcryptsetup-token-systemd-tpm2.so, libtss2-esys, libtss2-tcti-device",
    },
    exact: true,
  },
  {
    name: "dracut initrd without the token plugin",
    facts: hardenedFacts({
      boot: {
        initrds: [
          hardenedInitrd({
            capabilities: { ...hardenedInitrd().capabilities, tpm2TokenPlugin: null },
          }),
        ],
      },
    }),
    status: "fail",
    messages: ["initrdToken"],
    data: { generator: "dracut", missing: "libcryptsetup-token-systemd-tpm2.so" },
    exact: true,
  },
  {
    name: "only the default kernel's initrd is judged (an older stock initrd stays bootable by choice)",
    facts: hardenedFacts({
      boot: {
        initrds: [{ ...stock, kver: "6.1.0-9-amd64", default: false }, hardenedInitrd()],
      },
    }),
    status: "pass",
    messages: ["ok"],
  },
  {
    name: "unreadable initrd (hostile or truncated) fails with its reason",
    facts: hardenedFacts({
      boot: {
        initrds: [hardenedInitrd({ error: "the initrd decompresses to more than 2 bytes" })],
      },
    }),
    status: "fail",
    messages: ["initrdUnreadable"],
    data: { error: "the initrd decompresses to more than 2 bytes" },
    exact: true,
  },
  {
    name: "stale initrd: its crypttab does not ask for the token",
    facts: hardenedFacts({
      boot: {
        initrds: [
          hardenedInitrd({
            crypttab: {
              path: "/etc/crypttab",
              entries: [{ name: "cryptroot", options: ["luks", "discard"] }],
            },
          }),
        ],
      },
    }),
    status: "fail",
    messages: ["initrdCrypttab"],
    data: { name: "cryptroot", found: "luks, discard" },
    exact: true,
  },
  {
    name: "initrd without crypttab fails, unless rd.luks.options asks for the token",
    facts: hardenedFacts({ boot: { initrds: [hardenedInitrd({ crypttab: null })] } }),
    status: "fail",
    messages: ["initrdCrypttab"],
    data: { found: "no crypttab" },
  },
  {
    name: "initrd without crypttab, rd.luks.options=tpm2-device=auto on the command line",
    facts: hardenedFacts({
      boot: {
        initrds: [hardenedInitrd({ crypttab: null })],
        kernelCmdline: { value: ["quiet", "rd.luks.options=tpm2-device=auto"], source: "x" },
      },
    }),
    status: "pass",
    messages: ["ok"],
  },
  {
    name: "a tree without kernels has no initrd to judge",
    facts: hardenedFacts({ boot: { initrds: [] } }),
    status: "pass",
    messages: ["ok"],
    exact: true,
  },
  {
    name: "passphrase unlock does not need the token in the initrd",
    profile: makeProfile({ spec: { disk: { unlock: "passphrase" } } }),
    facts: hardenedFacts({ boot: { initrds: [stock] } }),
    status: "pass",
    messages: ["okPassphrase"],
    exact: true,
  },
  {
    name: "key file in crypttab",
    facts: hardenedFacts({
      disk: { crypttab: [{ ...f.disk.crypttab[0]!, keyFile: "/etc/keys/root.key" }] },
    }),
    status: "fail",
    messages: ["keyFile"],
  },
  {
    name: "key file in initramfs",
    facts: hardenedFacts({ disk: { initramfsKeyFiles: ["/etc/keys/*.key"] } }),
    status: "fail",
    messages: ["initramfsKeyFile"],
  },
  {
    name: "no header",
    facts: hardenedFacts({ disk: { volumes: [] } }),
    status: "skip",
    messages: ["noVolumes"],
  },
  {
    name: "no encrypted volume configured at all (plain installation): fail, not skip",
    facts: hardenedFacts({ disk: { volumes: [], crypttab: [] } }),
    status: "fail",
    messages: ["noEncryption"],
  },
  {
    name: "damaged header",
    facts: hardenedFacts({ disk: { volumes: [hardenedVolume({ error: "bad" })] } }),
    status: "error",
    messages: ["unreadable"],
  },
]);
