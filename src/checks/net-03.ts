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
    facts: ["network"],
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
    },
    fix: {
      de: "sshd_config.d mit gehärteten Einstellungen schreiben.",
      en: "Write hardened settings to sshd_config.d.",
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
