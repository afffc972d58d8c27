import type { Profile } from "../profiles/types.js";
import { keyExchangeForm } from "../profiles/proposals.js";
import type { Control, EvaluateContext, Finding } from "./types.js";
import { ev, fail, pass } from "./util.js";

/**
 * BSI TR-02102-1 (2026-01, §2.1): classical key agreement alone is recommended until the end
 * of 2031, and until the end of 2030 for very high protection needs; after that only hybrid
 * (classical plus ML-KEM). The last day on which classical alone is still recommended.
 */
export const classicalKeyAgreementHorizon = { normal: "2031-12-31", veryHigh: "2030-12-31" };
const dayMs = 86_400_000;

/** The last day classical key agreement suffices for this profile (ISO date). */
export function keyAgreementHorizon(profile: Profile): string {
  return profile.metadata.protectionNeeds?.confidentiality === "very-high"
    ? classicalKeyAgreementHorizon.veryHigh
    : classicalKeyAgreementHorizon.normal;
}

/** Whole days from `now`'s UTC date to `horizon` (0 on the day itself, negative after it). */
export function daysUntil(horizon: string, now: Date): number {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return Math.round((Date.parse(`${horizon}T00:00:00Z`) - today) / dayMs);
}

const encryption = /^aes(128|192|256)?(gcm(8|12|16|64|96|128)?|ccm(12|16|96|128)?|ctr)?$/;
const weakAead = /^aes(128|192|256)?(gcm8|gcm64|ccm8|ccm64)$/;
const integrity = new Set([
  "sha256",
  "sha384",
  "sha512",
  "sha2_256",
  "sha2_384",
  "sha2_512",
  "aesxcbc",
  "aescmac",
]);
const prf = new Set(["prfsha256", "prfsha384", "prfsha512", "prfaesxcbc", "prfaescmac"]);
const dhGroups = new Set([
  "ecp256",
  "ecp384",
  "ecp521",
  "ecp256bp",
  "ecp384bp",
  "ecp512bp",
  "modp3072",
  "modp4096",
  "modp6144",
  "modp8192",
]);
const pqKems = new Set(["mlkem512", "mlkem768", "mlkem1024"]);
const flags = new Set(["esn", "noesn"]);

/** Classify one proposal token; null when TR-02102-3 does not list it. */
function tokenKind(raw: string): "enc" | "integ" | "prf" | "dh" | "flag" | null {
  // keN_none: that additional key exchange is optional (strongSwan 6).
  if (/^ke[1-7]_none$/i.test(raw)) return "flag";
  const token = raw.toLowerCase().replace(/^ke[1-7]_/, "");
  if (flags.has(token)) return "flag";
  if (dhGroups.has(token) || pqKems.has(token)) return "dh";
  if (prf.has(token)) return "prf";
  if (integrity.has(token)) return "integ";
  if (encryption.test(token) && !weakAead.test(token)) return "enc";
  return null;
}

/** The tokens of a proposal that TR-02102-3 does not allow. */
export function disallowedTokens(proposal: string): string[] {
  return proposal.split("-").filter((t) => t !== "" && tokenKind(t) === null);
}

function hasDh(proposal: string): boolean {
  return proposal.split("-").some((t) => tokenKind(t) === "dh");
}

export const vpn02: Control = {
  meta: {
    id: "VPN-02",
    kind: "auto",
    title: {
      de: "IKE- und ESP-Algorithmen nur nach BSI TR-02102-3, PFS aktiv",
      en: "IKE/ESP proposals only TR-02102-3 algorithms, PFS on",
    },
    description: {
      de: "Die IKE- und ESP-Vorschläge enthalten nur Verfahren nach BSI TR-02102-3/-1: AES-GCM/CCM/CBC/CTR, HMAC-SHA2, DH-Gruppen ECP-256/384/521, Brainpool oder MODP ab 3072 Bit; Perfect Forward Secrecy für die CHILD_SA; kein Schlüsselwort „default“.",
      en: "IKE and ESP proposals contain only BSI TR-02102-3/-1 algorithms: AES-GCM/CCM/CBC/CTR, HMAC-SHA2, DH groups ECP-256/384/521, Brainpool or MODP ≥ 3072; Perfect Forward Secrecy for the CHILD_SA; no `default` keyword.",
    },
    severity: "high",
    references: ["BSI CON.1.A1", "BSI NET.3.3.A4", "BSI TR-02102-3", "DSGVO Art. 32 Abs. 1 lit. a"],
    sdmGoals: ["vertraulichkeit", "integritaet"],
    art32: ["a"],
    facts: ["vpn"],
    messages: {
      ok: {
        de: "Erwartet nur TR-02102-3-Verfahren mit PFS, gefunden {{proposals}}.",
        en: "Expected only TR-02102-3 algorithms with PFS, found {{proposals}}.",
      },
      noConnection: {
        de: "Erwartet eine IKEv2-Verbindung in swanctl.conf, gefunden keine.",
        en: "Expected an IKEv2 connection in swanctl.conf, found none.",
      },
      defaultProposals: {
        de: "Erwartet ausdrücklich gesetzte {{kind}}-Vorschläge in {{where}}, gefunden die strongSwan-Voreinstellung.",
        en: "Expected explicit {{kind}} proposals in {{where}}, found strongSwan's defaults.",
      },
      disallowed: {
        de: "Erwartet nur TR-02102-3-Verfahren, gefunden {{tokens}} in {{proposal}} ({{where}}).",
        en: "Expected only TR-02102-3 algorithms, found {{tokens}} in {{proposal}} ({{where}}).",
      },
      pqHybrid: {
        de: "Erwartet hybriden Schlüsselaustausch (klassisch und ML-KEM), gefunden {{proposals}}.",
        en: "Expected hybrid key exchange (classical and ML-KEM), found {{proposals}}.",
      },
      pqCountdown: {
        de: "Erwartet spätestens ab dem Tag nach dem {{horizon}} hybriden Schlüsselaustausch mit ML-KEM (BSI TR-02102-1), gefunden möglichen rein klassischen Schlüsselaustausch ({{groups}}): noch {{days|Tag|Tage}}.",
        en: "Expected hybrid key exchange with ML-KEM after {{horizon}} at the latest (BSI TR-02102-1), found purely classical key exchange possible ({{groups}}): {{days|day|days}} left.",
      },
      pqExpired: {
        de: "Erwartet hybriden Schlüsselaustausch mit ML-KEM nach dem {{horizon}} (BSI TR-02102-1), gefunden möglichen rein klassischen Schlüsselaustausch ({{groups}}), {{days|Tag|Tage}} nach dieser Frist.",
        en: "Expected hybrid key exchange with ML-KEM after {{horizon}} (BSI TR-02102-1), found purely classical key exchange possible ({{groups}}), {{days|day|days}} past that date.",
      },
      pqRequired: {
        de: "Erwartet einen hybriden Vorschlag (klassische Gruppe und ML-KEM, Profil postQuantum: required), gefunden {{proposal}} ({{where}}).",
        en: "Expected a hybrid proposal (classical group and ML-KEM, profile postQuantum: required), found {{proposal}} ({{where}}).",
      },
      noPfs: {
        de: "Erwartet eine DH-Gruppe (PFS) im ESP-Vorschlag {{proposal}} ({{where}}), gefunden keine.",
        en: "Expected a DH group (PFS) in ESP proposal {{proposal}} ({{where}}), found none.",
      },
    },
    fix: {
      de: "proposals und esp_proposals aus dem Profil in swanctl.conf schreiben.",
      en: "Write the profile's proposals and esp_proposals to swanctl.conf.",
    },
  },
  evaluate(profile, facts, context) {
    const findings: Finding[] = [];
    const connections = facts.vpn.swanctl.connections;
    if (connections.length === 0)
      return [
        fail("noConnection", {}, [
          ev("swanctl.conf", "an IKEv2 connection", "none", "/etc/swanctl"),
        ]),
      ];
    const seen: string[] = [];
    const check = (proposals: string[], kind: "IKE" | "ESP", where: string, source: string) => {
      if (proposals.length === 0) {
        findings.push(
          fail("defaultProposals", { kind, where }, [
            ev(`${where} ${kind} proposals`, "explicit proposals", "(default)", source),
          ]),
        );
        return;
      }
      for (const proposal of proposals) {
        seen.push(proposal);
        if (proposal.toLowerCase() === "default") {
          findings.push(
            fail("defaultProposals", { kind, where }, [
              ev(`${where} ${kind} proposals`, "explicit proposals", "default", source),
            ]),
          );
          continue;
        }
        const bad = disallowedTokens(proposal);
        if (bad.length > 0)
          findings.push(
            fail("disallowed", { tokens: bad.join(", "), proposal, where }, [
              ev(`${where} ${kind} proposal`, "TR-02102-3 algorithms", proposal, source),
            ]),
          );
        if (kind === "ESP" && !hasDh(proposal))
          findings.push(
            fail("noPfs", { proposal, where }, [
              ev(`${where} ESP proposal`, "a DH group (PFS)", proposal, source),
            ]),
          );
      }
    };
    for (const c of connections) {
      check(c.proposals, "IKE", `connection ${c.name}`, c.source);
      for (const child of c.children)
        check(child.espProposals, "ESP", `child ${c.name}.${child.name}`, c.source);
    }
    if (findings.length === 0)
      findings.push(pass("ok", { proposals: [...new Set(seen)].join(", ") }));
    findings.push(...keyExchangeFindings(profile, facts.vpn.swanctl.connections, context));
    return findings;
  },
};

/**
 * The post-quantum finding: hybrid when every explicit IKE proposal is hybrid (a gateway cannot
 * push the laptop back to classical); otherwise the days left until TR-02102-1's horizon for
 * classical key agreement, a failure after it, and a failure for every non-hybrid proposal
 * when the profile requires hybrid key exchange.
 */
function keyExchangeFindings(
  profile: Profile,
  connections: Parameters<Control["evaluate"]>[1]["vpn"]["swanctl"]["connections"],
  context: EvaluateContext,
): Finding[] {
  const out: Finding[] = [];
  const ike = connections.flatMap((c) =>
    c.proposals.filter((p) => p.toLowerCase() !== "default").map((p) => ({ c, p })),
  );
  if (ike.length === 0) return out;
  if (profile.spec.vpn.postQuantum === "required") {
    const check = (proposal: string, where: string, source: string) => {
      if (proposal.toLowerCase() !== "default" && !keyExchangeForm(proposal).hybrid)
        out.push(
          fail("pqRequired", { proposal, where }, [
            ev(`${where} key exchange`, "classical group + ML-KEM", proposal, source),
          ]),
        );
    };
    for (const c of connections) {
      for (const p of c.proposals) check(p, `connection ${c.name}`, c.source);
      for (const child of c.children)
        for (const p of child.espProposals) check(p, `child ${c.name}.${child.name}`, c.source);
    }
  }
  const classical = ike.filter(({ p }) => !keyExchangeForm(p).hybrid);
  if (classical.length === 0) {
    out.push(pass("pqHybrid", { proposals: [...new Set(ike.map(({ p }) => p))].join(", ") }));
    return out;
  }
  const horizon = keyAgreementHorizon(profile);
  const days = daysUntil(horizon, context.now);
  const groups = [...new Set(classical.flatMap(({ p }) => keyExchangeForm(p).classical))];
  const data = { horizon, groups: groups.join(", ") || "(none)", days: Math.abs(days) };
  const evidence = [
    ev(
      "IKE key exchange",
      `hybrid (classical + ML-KEM) after ${horizon}`,
      `classical ${data.groups}; ${days} days until ${horizon}`,
      classical[0]?.c.source ?? "/etc/swanctl",
    ),
  ];
  out.push(days >= 0 ? pass("pqCountdown", data, evidence) : fail("pqExpired", data, evidence));
  return out;
}
