import { isIP } from "node:net";
import type { Control, Finding } from "./types.js";
import { ev, fail, notApplicable, pass, settingValue } from "./util.js";

/** TR-02102-4 (2023-01) algorithm lists for OpenSSH. */
const kex = new Set([
  "ecdh-sha2-nistp256",
  "ecdh-sha2-nistp384",
  "ecdh-sha2-nistp521",
  "diffie-hellman-group-exchange-sha256",
  "diffie-hellman-group15-sha512",
  "diffie-hellman-group16-sha512",
]);
const ciphers = new Set([
  "aes128-gcm@openssh.com",
  "aes256-gcm@openssh.com",
  "aes128-ctr",
  "aes192-ctr",
  "aes256-ctr",
]);
const macs = new Set([
  "hmac-sha2-256",
  "hmac-sha2-512",
  "hmac-sha2-256-etm@openssh.com",
  "hmac-sha2-512-etm@openssh.com",
]);

/** A ListenAddress or listener address without port and brackets: "[fe80::1]:22" → "fe80::1". */
function bareAddress(address: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (bracketed) return bracketed[1] as string;
  return isIP(address) === 6 ? address : address.replace(/:\d+$/, "");
}

export const net03: Control = {
  meta: {
    id: "NET-03",
    kind: "situational",
    title: {
      de: "Falls SSH erlaubt: nur Schlüssel, kein root, TR-02102-4-Verfahren, nur Tunneladresse",
      en: "If SSH is allowed: keys only, no root, TR-02102-4 algorithms, tunnel address only",
    },
    description: {
      de: "Ist administrativer SSH-Zugang laut Profil erlaubt, lauscht sshd nur auf der Tunneladresse, akzeptiert nur Schlüssel, keine root-Anmeldung und nur Verfahren nach BSI TR-02102-4.",
      en: "Where the profile allows administrative SSH, sshd listens on the tunnel address only, accepts keys only, no root login, and only BSI TR-02102-4 algorithms.",
    },
    severity: "medium",
    references: ["BSI TR-02102-4", "BSI SYS.2.3.A1", "DSGVO Art. 32 Abs. 1 lit. b"],
    sdmGoals: ["vertraulichkeit", "integritaet"],
    art32: ["b"],
    facts: ["network", "data"],
    messages: {
      ok: {
        de: "Erwartet gehärtetes sshd, gefunden gehärtet.",
        en: "Expected a hardened sshd, found it hardened.",
      },
      notApplicable: {
        de: "Das Profil erlaubt keinen SSH-Zugang (spec.network.ssh: false).",
        en: "The profile does not allow SSH (spec.network.ssh: false).",
      },
      setting: {
        de: "Erwartet {{key}} {{expected}}, gefunden {{actual}}.",
        en: "Expected {{key}} {{expected}}, found {{actual}}.",
      },
      algorithms: {
        de: "Erwartet nur TR-02102-4-Verfahren in {{key}}, gefunden {{actual}}.",
        en: "Expected only TR-02102-4 algorithms in {{key}}, found {{actual}}.",
      },
      bootBind: {
        de: "Erwartet {{key}} = 1, damit sshd beim Start die Tunneladresse {{address}} binden kann, bevor der Tunnel steht; gefunden {{actual}}.",
        en: "Expected {{key}} = 1, so that sshd can bind the tunnel address {{address}} at boot before the tunnel is up; found {{actual}}.",
      },
      listening: {
        de: "Erwartet sshd lauschend nur auf {{expected}}, gefunden {{actual}}.",
        en: "Expected sshd listening on {{expected}} only, found {{actual}}.",
      },
    },
    fix: {
      de: "sshd_config.d mit gehärteten Einstellungen schreiben; für die Tunneladresse net.ipv4.ip_nonlocal_bind = 1 in sysctl.d setzen; sshd neu laden.",
      en: "Write hardened settings to sshd_config.d; for the tunnel address set net.ipv4.ip_nonlocal_bind = 1 in sysctl.d; reload sshd.",
    },
  },
  evaluate(profile, facts) {
    if (!profile.spec.network.ssh) return [notApplicable("notApplicable")];
    const findings: Finding[] = [];
    const sshd = facts.network.sshd;
    const expect = (key: string, wanted: string[]) => {
      const actual = settingValue(sshd, key).toLowerCase();
      if (!wanted.includes(actual))
        findings.push(
          fail("setting", { key, expected: wanted.join(" | "), actual }, [
            ev(`sshd ${key}`, wanted.join(" | "), actual, sshd[key]?.source ?? "sshd_config"),
          ]),
        );
    };
    const required: [string, string[]][] = [
      ["passwordauthentication", ["no"]],
      ["kbdinteractiveauthentication", ["no"]],
      ["permitrootlogin", ["no"]],
    ];
    for (const [key, wanted] of required) expect(key, wanted);
    // A Match block overrides the global value for the connections it selects.
    for (const m of facts.network.sshdMatch ?? []) {
      const wanted = required.find(([key]) => key === m.key)?.[1];
      if (wanted !== undefined && !wanted.includes(m.value.toLowerCase()))
        findings.push(
          fail(
            "setting",
            {
              key: `${m.key} (Match ${m.criteria})`,
              expected: wanted.join(" | "),
              actual: m.value,
            },
            [ev(`sshd Match ${m.criteria}: ${m.key}`, wanted.join(" | "), m.value, m.source)],
          ),
        );
    }
    const listen = settingValue(sshd, "listenaddress");
    // ListenAddress accumulates: every address sshd binds must be specific.
    if (
      listen === "(not set)" ||
      listen.split(/\s+/).some((address) => /^(0\.0\.0\.0|::|\[::\]|\*)(:\d+)?$/.test(address))
    )
      findings.push(
        fail("setting", { key: "listenaddress", expected: "the tunnel address", actual: listen }, [
          ev(
            "sshd listenaddress",
            "the tunnel address",
            listen,
            sshd["listenaddress"]?.source ?? "sshd_config",
          ),
        ]),
      );
    const addresses = listen === "(not set)" ? [] : listen.split(/\s+/).map(bareAddress);
    // The tunnel address exists only once the tunnel is up: sshd started at boot binds it
    // only with nonlocal bind on (what systemd-sysctl applies at boot, the files).
    const tunnel = profile.spec.network.sshListenAddress;
    if (tunnel !== undefined && addresses.includes(bareAddress(tunnel))) {
      const key = `net.ipv${isIP(bareAddress(tunnel)) === 6 ? 6 : 4}.ip_nonlocal_bind`;
      const set = facts.data.sysctl[key];
      if (set?.value.trim() !== "1")
        findings.push(
          fail(
            "bootBind",
            { key, address: bareAddress(tunnel), actual: set?.value.trim() ?? "(not set)" },
            [ev(key, "1", set?.value.trim() ?? "(not set)", set?.source ?? "/etc/sysctl.d")],
          ),
        );
    }
    // On a running laptop: where sshd really listens (a reload that did not happen, a bind
    // that failed and left sshd down).
    const listeners = facts.network.listeners;
    if (listeners.available && addresses.length > 0) {
      const actual = [
        ...new Set(
          listeners.value
            .filter((l) => l.proto === "tcp" && l.process === "sshd")
            .map((l) => l.address),
        ),
      ].sort();
      const expected = [...new Set(addresses)].sort();
      if (actual.join(" ") !== expected.join(" ")) {
        const found = actual.length === 0 ? "nothing (sshd is not listening)" : actual.join(", ");
        findings.push(
          fail("listening", { expected: expected.join(", "), actual: found }, [
            ev("sshd listening sockets", expected.join(", "), found, listeners.source),
          ]),
        );
      }
    }
    for (const [key, allowed] of [
      ["kexalgorithms", kex],
      ["ciphers", ciphers],
      ["macs", macs],
    ] as const) {
      const value = settingValue(sshd, key);
      const bad =
        value === "(not set)"
          ? ["(OpenSSH defaults)"]
          : value.split(",").filter((a) => !allowed.has(a.trim()));
      if (bad.length > 0)
        findings.push(
          fail("algorithms", { key, actual: bad.join(",") }, [
            ev(`sshd ${key}`, [...allowed].join(","), value, sshd[key]?.source ?? "sshd_config"),
          ]),
        );
    }
    if (findings.length === 0) findings.push(pass("ok"));
    return findings;
  },
};
