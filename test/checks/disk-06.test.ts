import { disk06 } from "../../src/checks/disk-06.js";
import { hardenedFacts, live } from "../helpers/facts.js";
import { testControl } from "./control-tester.js";

const f = hardenedFacts();
testControl(disk06, import.meta.url, [
  { name: "zram, hibernation off", status: "pass", messages: ["ok"], exact: true },
  {
    name: "swap on a plain LV while crypttab only maps tmp",
    facts: hardenedFacts({
      disk: {
        crypttab: [
          {
            name: "crypttmp",
            device: "/dev/sda6",
            keyFile: "/dev/urandom",
            options: ["tmp"],
            source: "/etc/crypttab:1",
          },
        ],
        fstab: [
          ...f.disk.fstab,
          {
            spec: "/dev/mapper/vg-swap",
            file: "none",
            vfstype: "swap",
            options: [],
            source: "/etc/fstab:9",
          },
        ],
      },
    }),
    status: "fail",
    messages: ["swapUnencrypted"],
    exact: true,
  },
  {
    name: "swap on LVM on LUKS",
    facts: hardenedFacts({
      disk: {
        fstab: [
          ...f.disk.fstab,
          {
            spec: "/dev/mapper/vg-swap",
            file: "none",
            vfstype: "swap",
            options: [],
            source: "/etc/fstab:9",
          },
        ],
      },
    }),
    status: "pass",
    messages: ["ok"],
  },
  {
    name: "swap on a plain partition",
    facts: hardenedFacts({
      disk: {
        fstab: [
          ...f.disk.fstab,
          { spec: "/dev/sda2", file: "none", vfstype: "swap", options: [], source: "/etc/fstab:9" },
        ],
      },
    }),
    status: "fail",
    messages: ["swapUnencrypted"],
    exact: true,
  },
  {
    name: "live swap file",
    facts: hardenedFacts({ disk: { activeSwap: live([{ name: "/swapfile", type: "file" }]) } }),
    status: "fail",
    messages: ["swapUnencrypted"],
    data: { swap: "/swapfile" },
  },
  // The Debian installer's LVM without encryption: swapon names the LV /dev/dm-1 (/proc/swaps),
  // and device-mapper is no proof of encryption — lsblk shows whether a crypt device is below.
  ...(
    [
      ["a plain LV (dm, no crypt below it)", "/dev/sda3", "part", "fail"],
      ["an LV on LUKS", "/dev/mapper/sda3_crypt", "crypt", "pass"],
    ] as const
  ).map(([what, pvPath, pvType, status]) => ({
    name: `live swap on ${what}`,
    facts: hardenedFacts({
      disk: {
        activeSwap: live([{ name: "/dev/dm-1", type: "partition" }]),
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
                name: pvPath.slice(pvPath.lastIndexOf("/") + 1),
                path: pvPath,
                type: pvType,
                fstype: "LVM2_member",
                mountpoints: [],
                uuid: null,
                children: [
                  {
                    name: "vg-swap_1",
                    kname: "dm-1",
                    path: "/dev/mapper/vg-swap_1",
                    type: "lvm",
                    fstype: "swap",
                    mountpoints: ["[SWAP]"],
                    uuid: null,
                    children: [],
                  },
                ],
              },
            ],
          },
        ]),
      },
    }),
    status,
    messages: [status === "pass" ? "ok" : "swapUnencrypted"],
    exact: true,
  })),
  {
    name: "hibernation allowed",
    facts: {
      ...f,
      disk: { ...f.disk, sleepConf: {} },
      services: {
        ...f.services,
        unitFiles: { ...f.services.unitFiles, "hibernate.target": "static" },
      },
    },
    status: "fail",
    messages: ["hibernation"],
    exact: true,
  },
]);
