import { data01 } from "../../src/checks/data-01.js";
import { hardenedFacts } from "../helpers/facts.js";
import { makeProfile } from "../helpers/profile.js";
import { testControl } from "./control-tester.js";

const f = hardenedFacts();
testControl(data01, import.meta.url, [
  { name: "/tmp on tmpfs, no capture files", status: "pass", messages: ["ok"], exact: true },
  {
    name: "a second fstab line puts /tmp on tmpfs, but systemd mounts the first (O_EXCL unit)",
    facts: {
      ...f,
      disk: {
        ...f.disk,
        fstab: [
          { spec: "/dev/sda5", file: "/tmp", vfstype: "ext4", options: [], source: "/etc/fstab:8" },
          ...f.disk.fstab,
        ],
      },
    },
    status: "fail",
    messages: ["tmp"],
    exact: true,
  },
  {
    name: "/tmp on disk",
    facts: { ...f, disk: { ...f.disk, fstab: f.disk.fstab.filter((e) => e.file !== "/tmp") } },
    status: "fail",
    messages: ["tmp"],
    exact: true,
  },
  {
    name: "photos left behind",
    facts: hardenedFacts({
      data: {
        captureFiles: [
          { path: "/home/buergerbuero/scan.jp2", size: 40000, mtime: "2026-05-30T10:00:00Z" },
        ],
      },
    }),
    status: "fail",
    messages: ["captureFiles"],
    data: { count: 1 },
  },
  {
    name: "not required",
    profile: makeProfile({ spec: { data: { tmpOnTmpfs: false } } }),
    status: "not-applicable",
    messages: ["notRequired"],
  },
]);
