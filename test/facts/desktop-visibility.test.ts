/**
 * Which desktop entries a GNOME session lists (APP-02): the ones GLib's g_app_info_get_all()
 * loads and g_app_info_should_show() keeps, along the session's XDG_DATA_DIRS. The live
 * oracle (test/mutations/live.test.ts) asks GLib itself on the booted laptop; these cases
 * pin the same rules offline, each one a wrong verdict before (issue 11).
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { gatherApps } from "../../src/facts/apps.js";
import type { DesktopEntry } from "../../src/facts/types.js";
import { RootTarget } from "../../src/targets/root.js";

const app = (extra: string) => `[Desktop Entry]\nType=Application\nName=X\n${extra}`;
let root = "";
afterEach(async () => {
  if (root !== "") await rm(root, { recursive: true, force: true });
  root = "";
});

async function entries(
  files: Record<string, string>,
  programs: string[] = [],
): Promise<Record<string, Pick<DesktopEntry, "notShown" | "shadowedBy">>> {
  // A test may call this twice: the earlier tree goes first (afterEach removes the last).
  if (root !== "") await rm(root, { recursive: true, force: true });
  root = await mkdtemp(join(tmpdir(), "koffer-desktop-"));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  }
  for (const p of programs) {
    await mkdir(dirname(join(root, p)), { recursive: true });
    await writeFile(join(root, p), "#!/bin/sh\n");
    await chmod(join(root, p), 0o755);
  }
  const target = await RootTarget.open({ root, disks: [] });
  try {
    const apps = await gatherApps(target, { profile: null, now: new Date() });
    return Object.fromEntries(
      apps.desktopEntries.map((e) => [
        e.path,
        {
          ...(e.notShown === undefined ? {} : { notShown: e.notShown }),
          ...(e.shadowedBy === undefined ? {} : { shadowedBy: e.shadowedBy }),
        },
      ]),
    );
  } finally {
    await target.close();
  }
}

describe("desktop entries as a GNOME session lists them", () => {
  it("leaves out an entry whose program or TryExec is not found along the session's PATH", async () => {
    const got = await entries(
      {
        "/usr/share/applications/found.desktop": app("Exec=anydesk %u\n"),
        "/usr/share/applications/absolute.desktop": app("Exec=/opt/vnc/vnc\n"),
        "/usr/share/applications/missing.desktop": app("Exec=xterm\n"),
        "/usr/share/applications/tryexec.desktop": app("TryExec=vim\nExec=/usr/bin/anydesk\n"),
        "/usr/share/applications/sbin.desktop": app("Exec=tool\n"),
      },
      ["/usr/bin/anydesk", "/opt/vnc/vnc", "/usr/sbin/tool"],
    );
    expect(got).toEqual({
      "/usr/share/applications/absolute.desktop": {},
      "/usr/share/applications/found.desktop": {},
      "/usr/share/applications/missing.desktop": { notShown: "program xterm of Exec= not found" },
      "/usr/share/applications/sbin.desktop": { notShown: "program tool of Exec= not found" },
      "/usr/share/applications/tryexec.desktop": { notShown: "TryExec=vim not found" },
    });
  });

  it("applies OnlyShowIn and NotShowIn for GNOME, and only applications are listed", async () => {
    const got = await entries(
      {
        "/usr/share/applications/kde.desktop": app("Exec=sh\nOnlyShowIn=KDE;XFCE;\n"),
        "/usr/share/applications/gnome.desktop": app("Exec=sh\nOnlyShowIn=GNOME;\n"),
        "/usr/share/applications/not.desktop": app("Exec=sh\nNotShowIn=GNOME;\n"),
        "/usr/share/applications/link.desktop": "[Desktop Entry]\nType=Link\nName=L\nURL=x\n",
      },
      ["/usr/bin/sh"],
    );
    expect(got).toEqual({
      "/usr/share/applications/gnome.desktop": {},
      "/usr/share/applications/kde.desktop": { notShown: "OnlyShowIn=KDE;XFCE without GNOME" },
      "/usr/share/applications/link.desktop": { notShown: "Type=Link is not an application" },
      "/usr/share/applications/not.desktop": { notShown: "NotShowIn=GNOME" },
    });
  });

  it("an entry that does not load still masks the same id lower in XDG_DATA_DIRS", async () => {
    const got = await entries(
      {
        "/usr/local/share/applications/firefox-esr.desktop": app("Exec=/opt/gone\n"),
        "/usr/share/applications/firefox-esr.desktop": app("Exec=sh\n"),
      },
      ["/usr/bin/sh"],
    );
    expect(got).toEqual({
      "/usr/local/share/applications/firefox-esr.desktop": {
        notShown: "program /opt/gone of Exec= not found",
      },
      "/usr/share/applications/firefox-esr.desktop": {
        shadowedBy: "/usr/local/share/applications/firefox-esr.desktop",
      },
    });
  });

  it("reads flatpak's exports only where flatpak is installed, and then before /usr/local/share", async () => {
    const files = {
      "/var/lib/flatpak/exports/share/applications/vim.desktop": app("Exec=sh\nHidden=true\n"),
      "/usr/local/share/applications/vim.desktop": app("Exec=sh\n"),
    };
    expect(await entries(files, ["/usr/bin/sh"])).toEqual({
      "/usr/local/share/applications/vim.desktop": {},
    });
    expect(await entries(files, ["/usr/bin/sh", "/usr/bin/flatpak"])).toEqual({
      "/var/lib/flatpak/exports/share/applications/vim.desktop": {},
      "/usr/local/share/applications/vim.desktop": {
        shadowedBy: "/var/lib/flatpak/exports/share/applications/vim.desktop",
      },
    });
  });
});
