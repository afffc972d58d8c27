import type { Control, Finding } from "./types.js";
import { ev, fail, pass, presentPackage, unitOn, unitState } from "./util.js";

/** Units that offer remote access or announce the laptop on the network. */
export const remoteUnits = [
  "ssh.service",
  "ssh.socket",
  "sshd.service",
  "xrdp.service",
  "x11vnc.service",
  "vncserver@.service",
  "smbd.service",
  "nmbd.service",
  "avahi-daemon.service",
  "avahi-daemon.socket",
  "cups-browsed.service",
  "telnet.socket",
  "rsh.socket",
];
/** Packages that provide remote access; openssh-server only when SSH is not allowed. */
export const remotePackages = [
  "xrdp",
  "x11vnc",
  "tigervnc-standalone-server",
  "tightvncserver",
  "vino",
  "samba",
  "telnetd",
  "rsh-server",
  "anydesk",
  "teamviewer",
];

function isLoopback(address: string): boolean {
  return /^(127\.|::1$|\[::1\]|localhost)/.test(address);
}

/**
 * The IPsec client's own IKE sockets: charon binds UDP 500 and 4500 to receive the gateway's
 * answers (and NAT-T); they are the VPN (VPN-01), not a service offered to others, and the
 * inbound firewall (NET-01) admits only replies to them.
 */
function ikeSocket(l: { proto: string; port: number; process: string | null }): boolean {
  return (
    l.proto.startsWith("udp") &&
    (l.port === 500 || l.port === 4500) &&
    (l.process === "charon" || l.process === "charon-systemd")
  );
}

export const net02: Control = {
  meta: {
    id: "NET-02",
    kind: "auto",
    title: {
      de: "Keine Fernzugriffs- oder lauschenden Netzdienste",
      en: "No remote-access or listening network services",
    },
    description: {
      de: "Auf dem Gerät laufen keine Dienste für Fernzugriff oder Netzfreigaben (SSH, VNC, RDP, Samba, Avahi, CUPS-Browsing); es lauscht nur auf Loopback.",
      en: "No remote-access or sharing services run on the device (SSH, VNC, RDP, Samba, Avahi, CUPS browsing); it listens on loopback only.",
    },
    severity: "high",
    references: ["BSI SYS.2.1.A16", "BSI SYS.2.1.A20", "DSGVO Art. 32 Abs. 1 lit. b"],
    sdmGoals: ["vertraulichkeit", "integritaet"],
    art32: ["b"],
    facts: ["services", "apps", "network"],
    messages: {
      ok: {
        de: "Erwartet keine Fernzugriffsdienste, gefunden keine.",
        en: "Expected no remote-access services, found none.",
      },
      unit: {
        de: "Erwartet {{unit}} abgeschaltet, gefunden {{state}}.",
        en: "Expected {{unit}} off, found {{state}}.",
      },
      package: {
        de: "Erwartet das Paket {{package}} nicht installiert, gefunden installiert.",
        en: "Expected package {{package}} not installed, found it installed.",
      },
      listener: {
        de: "Erwartet nur Loopback-Dienste, gefunden {{proto}} {{address}}:{{port}} ({{process}}).",
        en: "Expected loopback listeners only, found {{proto}} {{address}}:{{port}} ({{process}}).",
      },
    },
    fix: {
      de: "Fernzugriffsdienste entfernen oder maskieren.",
      en: "Remove or mask remote-access services.",
    },
  },
  evaluate(profile, facts) {
    const findings: Finding[] = [];
    const sshAllowed = profile.spec.network.ssh;
    for (const unit of remoteUnits) {
      if (sshAllowed && unit.startsWith("ssh")) continue;
      const state = unitState(facts, unit);
      if (unitOn(state))
        findings.push(
          fail("unit", { unit, state }, [
            ev(unit, "disabled, masked or absent", state, "systemctl is-enabled"),
          ]),
        );
    }
    const packages = sshAllowed ? remotePackages : ["openssh-server", ...remotePackages];
    for (const name of packages) {
      const pkg = presentPackage(facts, name);
      if (pkg !== undefined)
        findings.push(
          fail("package", { package: name }, [
            ev(`package ${name}`, "not installed", `${pkg.version} (${pkg.status})`, "dpkg status"),
          ]),
        );
    }
    const listeners = facts.network.listeners;
    if (listeners.available)
      for (const l of listeners.value)
        if (!isLoopback(l.address) && !(sshAllowed && l.process === "sshd") && !ikeSocket(l))
          findings.push(
            fail(
              "listener",
              { proto: l.proto, address: l.address, port: l.port, process: l.process ?? "?" },
              [
                ev(
                  "listening sockets",
                  "loopback only",
                  `${l.proto} ${l.address}:${l.port}`,
                  listeners.source,
                ),
              ],
            ),
          );
    if (findings.length === 0) findings.push(pass("ok"));
    return findings;
  },
};
