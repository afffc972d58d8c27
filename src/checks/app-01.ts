import type { Control, Finding } from "./types.js";
import { apparmorOffBy } from "../facts/parsers/grub.js";
import {
  cmdlineSource,
  effectiveFstabMount,
  ev,
  fail,
  installed,
  mountFlag,
  pass,
  unitOn,
  unitState,
} from "./util.js";

/** Places where users or downloads can put files; nothing there may execute. */
const noexecMounts = ["/tmp", "/var/tmp", "/home"];

export const app01: Control = {
  meta: {
    id: "APP-01",
    kind: "auto",
    title: {
      de: "Ausführungskontrolle: AppArmor erzwingend, noexec für /tmp, /var/tmp, /home",
      en: "Execution control: AppArmor enforcing; noexec on /tmp, /var/tmp, /home",
    },
    description: {
      de: "Nur ausdrücklich erlaubte Programme laufen: AppArmor ist aktiv und erzwingt Profile, und Orte, an denen Benutzer Dateien ablegen können (/tmp, /var/tmp, /home), sind mit noexec eingebunden.",
      en: "Only explicitly allowed programs run: AppArmor is active and enforcing profiles, and places where users can store files (/tmp, /var/tmp, /home) are mounted noexec.",
    },
    severity: "high",
    references: [
      "BSI SYS.2.1.A33",
      "BSI SYS.2.3.A8",
      "BSI SYS.2.3.A15",
      "DSGVO Art. 32 Abs. 1 lit. b",
    ],
    sdmGoals: ["integritaet"],
    art32: ["b"],
    facts: ["apps", "services", "disk", "data", "boot"],
    messages: {
      ok: {
        de: "Erwartet AppArmor aktiv und noexec, gefunden AppArmor {{apparmor}} und noexec auf {{mounts}}.",
        en: "Expected AppArmor active and noexec, found AppArmor {{apparmor}} and noexec on {{mounts}}.",
      },
      apparmor: {
        de: "Erwartet AppArmor aktiv, gefunden {{actual}}.",
        en: "Expected AppArmor active, found {{actual}}.",
      },
      noProfiles: {
        de: "Erwartet AppArmor-Profile im Modus enforce, gefunden {{count}}.",
        en: "Expected AppArmor profiles in enforce mode, found {{count}}.",
      },
      noexec: {
        de: "Erwartet {{mount}} mit noexec, gefunden {{actual}}.",
        en: "Expected {{mount}} mounted noexec, found {{actual}}.",
      },
    },
    fix: {
      de: "AppArmor aktivieren; /tmp und /var/tmp als tmpfs mit noexec, /home mit noexec einbinden.",
      en: "Enable AppArmor; mount /tmp and /var/tmp as tmpfs with noexec, /home with noexec.",
    },
  },
  evaluate(_profile, facts) {
    const findings: Finding[] = [];
    const { kernelEnabled, profilesEnforced } = facts.apps.apparmor;
    let apparmor: string;
    if (kernelEnabled.available) {
      apparmor = kernelEnabled.value ? "enabled (kernel)" : "disabled (kernel)";
      if (!kernelEnabled.value)
        findings.push(
          fail("apparmor", { actual: apparmor }, [
            ev("AppArmor", "enabled", apparmor, kernelEnabled.source),
          ]),
        );
    } else {
      const state = unitState(facts, "apparmor.service");
      // The kernel command line update-grub writes can switch AppArmor off whatever the unit says.
      const cmdline = facts.boot.kernelCmdline;
      const offBy = cmdline === null ? null : apparmorOffBy(cmdline.value);
      if (offBy !== null) {
        apparmor = `disabled by ${offBy} on the kernel command line`;
        findings.push(
          fail("apparmor", { actual: apparmor }, [
            ev("AppArmor", "enabled", apparmor, cmdlineSource(cmdline)),
          ]),
        );
      } else {
        apparmor = `package ${installed(facts, "apparmor") ? "installed" : "missing"}, apparmor.service ${state}`;
        if (!installed(facts, "apparmor") || !unitOn(state))
          findings.push(
            fail("apparmor", { actual: apparmor }, [
              ev(
                "AppArmor",
                "installed and enabled",
                apparmor,
                "dpkg status; systemctl is-enabled",
              ),
            ]),
          );
      }
    }
    if (profilesEnforced.available && profilesEnforced.value < 1)
      findings.push(
        fail("noProfiles", { count: profilesEnforced.value }, [
          ev(
            "AppArmor profiles",
            "≥ 1 in enforce mode",
            String(profilesEnforced.value),
            profilesEnforced.source,
          ),
        ]),
      );
    const live = facts.data.mounts;
    for (const mount of noexecMounts) {
      let options: string[] | null;
      let source: string;
      if (live.available) {
        // The longest live mount that contains the path decides.
        const candidates = live.value.filter(
          (m) => mount === m.target || mount.startsWith(m.target === "/" ? "/" : `${m.target}/`),
        );
        const best = candidates.sort((a, b) => b.target.length - a.target.length)[0];
        options = best?.options ?? null;
        source = live.source;
      } else {
        const { entry, masked, unit } = effectiveFstabMount(facts, mount);
        options = masked ? null : (entry?.options ?? null);
        source =
          entry === undefined
            ? "/etc/fstab"
            : masked
              ? `${entry.source}, not mounted: ${unit} masked`
              : entry.source;
      }
      if (options === null || !mountFlag(options, "noexec", "exec")) {
        const actual = options === null ? "no separate mount" : options.join(",");
        findings.push(fail("noexec", { mount, actual }, [ev(mount, "noexec", actual, source)]));
      }
    }
    if (findings.length === 0)
      findings.push(pass("ok", { apparmor, mounts: noexecMounts.join(", ") }));
    return findings;
  },
};
