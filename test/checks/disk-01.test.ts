import { disk01 } from "../../src/checks/disk-01.js";
import { hardenedFacts, hardenedVolume, live } from "../helpers/facts.js";
import { testControl } from "./control-tester.js";

const f = hardenedFacts();
testControl(disk01, import.meta.url, [
  { name: "hardened LUKS2 root", status: "pass", messages: ["ok"], exact: true },
  {
    name: "LUKS1 volume",
    facts: hardenedFacts({ disk: { volumes: [hardenedVolume({ version: 1 })] } }),
    status: "fail",
    messages: ["luks1"],
    data: { version: 1 },
  },
  {
    name: "no crypttab, no volumes",
    facts: hardenedFacts({
      disk: {
        crypttab: [],
        volumes: [],
        fstab: [
          { spec: "UUID=abc", file: "/", vfstype: "ext4", options: [], source: "/etc/fstab:1" },
        ],
      },
    }),
    status: "fail",
    messages: ["noEncryptionConfigured", "mountUnencrypted"],
  },
  {
    name: "a separate /var on an unencrypted partition (not only / and /home count)",
    facts: hardenedFacts({
      disk: {
        fstab: [
          ...f.disk.fstab,
          {
            spec: "/dev/sda3",
            file: "/var",
            vfstype: "ext4",
            options: ["defaults"],
            source: "/etc/fstab:9",
          },
        ],
      },
    }),
    status: "fail",
    messages: ["mountUnencrypted"],
    data: { mount: "/var", spec: "/dev/sda3" },
  },
  {
    name: "/boot, removable media (noauto), network and virtual mounts are not data volumes",
    facts: hardenedFacts({
      disk: {
        fstab: [
          ...f.disk.fstab,
          {
            spec: "UUID=b00t",
            file: "/boot",
            vfstype: "ext4",
            options: ["defaults"],
            source: "/etc/fstab:5",
          },
          {
            spec: "UUID=EF1",
            file: "/boot/efi",
            vfstype: "vfat",
            options: ["umask=0077"],
            source: "/etc/fstab:6",
          },
          {
            spec: "/dev/sr0",
            file: "/media/cdrom0",
            vfstype: "udf,iso9660",
            options: ["user", "noauto"],
            source: "/etc/fstab:7",
          },
          {
            spec: "nas:/export",
            file: "/mnt/nas",
            vfstype: "nfs4",
            options: ["defaults"],
            source: "/etc/fstab:8",
          },
          {
            spec: "proc",
            file: "/proc",
            vfstype: "proc",
            options: ["defaults"],
            source: "/etc/fstab:9",
          },
        ],
      },
    }),
    status: "pass",
    messages: ["ok"],
  },
  {
    name: "unknown mandatory requirements",
    facts: hardenedFacts({ disk: { volumes: [hardenedVolume({ requirements: ["req0"] })] } }),
    status: "fail",
    messages: ["requirements"],
  },
  {
    name: "an interrupted re-encryption",
    facts: hardenedFacts({
      disk: { volumes: [hardenedVolume({ requirements: ["online-reencrypt-v2"] })] },
    }),
    status: "fail",
    messages: ["reencryptInterrupted"],
  },
  {
    name: "damaged header",
    facts: hardenedFacts({
      disk: {
        volumes: [hardenedVolume({ version: null, error: "Device is not a valid LUKS device." })],
      },
    }),
    status: "error",
    messages: ["unreadable"],
  },
  {
    name: "header not given",
    facts: hardenedFacts({ disk: { volumes: [] } }),
    status: "skip",
    messages: ["headerMissing"],
  },
  {
    name: "live: /home outside crypt",
    facts: hardenedFacts({
      disk: {
        blockDevices: live([
          {
            name: "sda",
            path: "/dev/sda",
            type: "disk",
            fstype: null,
            mountpoints: [],
            uuid: null,
            children: [
              {
                name: "sda3",
                path: "/dev/sda3",
                type: "part",
                fstype: "ext4",
                mountpoints: ["/home"],
                uuid: null,
                children: [],
              },
            ],
          },
        ]),
      },
    }),
    status: "fail",
    messages: ["liveUnencrypted"],
  },
  {
    name: "plain LVM root beside an encrypted swap (a random-key mapping holds no PV)",
    facts: hardenedFacts({
      disk: {
        crypttab: [
          {
            name: "cryptswap",
            device: "/dev/sda5",
            keyFile: "/dev/urandom",
            options: ["swap", "cipher=aes-xts-plain64", "size=512"],
            source: "/etc/crypttab:1",
          },
        ],
        volumes: [],
        fstab: [
          {
            spec: "/dev/mapper/vg-root",
            file: "/",
            vfstype: "ext4",
            options: ["errors=remount-ro"],
            source: "/etc/fstab:1",
          },
        ],
      },
    }),
    status: "fail",
    messages: ["mountUnencrypted"],
    data: { mount: "/", spec: "/dev/mapper/vg-root" },
  },
  {
    name: "LVM on LUKS root",
    facts: hardenedFacts({
      disk: {
        fstab: [
          {
            spec: "/dev/mapper/vg-root",
            file: "/",
            vfstype: "ext4",
            options: ["errors=remount-ro"],
            source: "/etc/fstab:1",
          },
        ],
      },
    }),
    status: "pass",
    messages: ["ok"],
  },
  {
    name: "unencrypted swap partition",
    facts: hardenedFacts({
      disk: {
        fstab: [
          ...f.disk.fstab,
          {
            spec: "/dev/sda2",
            file: "none",
            vfstype: "swap",
            options: ["sw"],
            source: "/etc/fstab:9",
          },
        ],
      },
    }),
    status: "fail",
    messages: ["mountUnencrypted"],
    data: { mount: "swap" },
  },
]);
