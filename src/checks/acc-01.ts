import { accountExpired } from "../facts/parsers/passwd.js";
import type { Facts, PasswdEntry } from "../facts/types.js";
import type { Profile } from "../profiles/types.js";
import type { Control, Finding } from "./types.js";
import { ev, fail, list, pass } from "./util.js";

const adminGroups = ["sudo", "admin", "wheel"];

/**
 * Whether sudo lets `name` run commands as root: a rule (User_Alias names already expanded)
 * for the account, for ALL, or for a group it is in (as a member or by its primary group),
 * whose commands are not only negations (`!ALL`).
 */
function sudoGrants(facts: Facts, name: string): boolean {
  const acc = facts.accounts;
  const primary = acc.passwd.find((p) => p.name === name)?.gid;
  const groups = acc.groups
    .filter((g) => g.members.includes(name) || g.gid === primary)
    .map((g) => g.name);
  return acc.sudoRules.some((rule) => {
    const matches =
      rule.who === name ||
      rule.who === "ALL" ||
      (rule.who.startsWith("%") && groups.includes(rule.who.slice(1)));
    const commands = rule.spec
      .slice(rule.spec.indexOf("=") + 1)
      .replace(/^\s*\([^)]*\)/, "")
      .replace(/\b[A-Z_]+:/g, "")
      .split(",")
      .map((c) => c.trim());
    return matches && commands.some((c) => c !== "" && !c.startsWith("!"));
  });
}
const noLogin = /(nologin|\/false|\/sync|\/shutdown|\/halt)$/;

/** A person's login: UID 1000–65533 with a login shell. */
export function humanAccount(p: PasswdEntry): boolean {
  return p.uid >= 1000 && p.uid < 65534 && !noLogin.test(p.shell);
}

/**
 * Human accounts the profile does not approve, each with whether it is switched off: password
 * locked and account expired, so no PAM account check (login, gdm, sshd with a key, su, cron,
 * systemd --user) lets it in. Shared with the accounts resource, which switches them off.
 */
export function unapprovedAccounts(
  profile: Profile,
  facts: Facts,
  now: Date,
): { name: string; uid: number; disabled: boolean }[] {
  const { admins, users } = profile.spec.accounts;
  const approved = new Set([...admins, ...users]);
  return facts.accounts.passwd
    .filter((p) => humanAccount(p) && !approved.has(p.name))
    .map((p) => {
      const shadow = facts.accounts.shadow.find((s) => s.name === p.name);
      const disabled =
        shadow !== undefined && shadow.locked && accountExpired(shadow.expireDay, now);
      return { name: p.name, uid: p.uid, disabled };
    });
}

export const acc01: Control = {
  meta: {
    id: "ACC-01",
    kind: "auto",
    title: {
      de: "Nur freigegebene Konten; Administratoren genau laut Profil; UID 0 nur root",
      en: "Only approved accounts; admins exactly the profile's; UID 0 only root",
    },
    description: {
      de: "Es gibt nur die im Profil freigegebenen persönlichen Konten (ein anderes zählt nur gesperrt und abgelaufen nicht); genau die freigegebenen Administratoren haben sudo-Rechte, das Sachbearbeitungskonto hat keine; UID 0 hat nur root.",
      en: "Only the personal accounts the profile approves exist (another one counts as gone only when locked and expired); exactly the approved administrators have sudo rights, the staff account has none; only root has UID 0.",
    },
    severity: "critical",
    references: ["BSI ORP.4.A2", "BSI ORP.4.A3", "BSI ORP.4.A10", "DSGVO Art. 32 Abs. 1 lit. b"],
    sdmGoals: ["vertraulichkeit", "integritaet", "intervenierbarkeit"],
    art32: ["b"],
    facts: ["accounts"],
    messages: {
      ok: {
        de: "Erwartet Administratoren {{admins}} und Konten {{accounts}}, gefunden genau diese.",
        en: "Expected admins {{admins}} and accounts {{accounts}}, found exactly these.",
      },
      uid0: {
        de: "Erwartet UID 0 nur für root, gefunden {{name}}.",
        en: "Expected UID 0 only for root, found {{name}}.",
      },
      unknownAccount: {
        de: "Erwartet nur freigegebene Konten ({{approved}}) oder gesperrte und abgelaufene, gefunden {{name}} (UID {{uid}}), das sich anmelden kann.",
        en: "Expected approved accounts only ({{approved}}) or locked and expired ones, found {{name}} (UID {{uid}}), which can log in.",
      },
      extraAdmin: {
        de: "Erwartet in der Gruppe {{group}} nur {{admins}}, gefunden {{name}}.",
        en: "Expected only {{admins}} in group {{group}}, found {{name}}.",
      },
      missingAdmin: {
        de: "Erwartet, dass {{name}} über sudo Befehle als root ausführen darf (Gruppe sudo mit der Regel %sudo oder eine eigene Regel), gefunden {{actual}}.",
        en: "Expected {{name}} to be allowed to run commands as root through sudo (group sudo with the %sudo rule, or a rule of their own), found {{actual}}.",
      },
      sudoRule: {
        de: "Erwartet sudo-Rechte nur für %sudo und die Administratoren, gefunden {{who}} {{spec}} ({{source}}).",
        en: "Expected sudo rights only for %sudo and the admins, found {{who}} {{spec}} ({{source}}).",
      },
    },
    fix: {
      de: "Gruppenmitgliedschaften und sudoers.d an das Profil anpassen; nicht freigegebene persönliche Konten sperren und ablaufen lassen (Daten bleiben erhalten).",
      en: "Adjust group membership and sudoers.d to the profile; lock and expire personal accounts the profile does not approve (their data is kept).",
    },
  },
  evaluate(profile, facts, context) {
    const findings: Finding[] = [];
    const { admins, users } = profile.spec.accounts;
    const approved = [...admins, ...users];
    const acc = facts.accounts;
    for (const p of acc.passwd)
      if (p.uid === 0 && p.name !== "root")
        findings.push(
          fail("uid0", { name: p.name }, [
            ev("/etc/passwd", "UID 0: root only", `${p.name} has UID 0`, "/etc/passwd"),
          ]),
        );
    const unapproved = unapprovedAccounts(profile, facts, context.now);
    for (const u of unapproved.filter((x) => !x.disabled))
      findings.push(
        fail("unknownAccount", { approved: list(approved), name: u.name, uid: u.uid }, [
          ev(
            "/etc/passwd, /etc/shadow",
            `${list(approved)}; any other locked and expired`,
            `${u.name} (UID ${u.uid}) can log in`,
            "/etc/passwd",
          ),
        ]),
      );
    for (const group of acc.groups.filter((g) => adminGroups.includes(g.name))) {
      const primary = acc.passwd.filter((p) => p.gid === group.gid).map((p) => p.name);
      for (const name of new Set([...group.members, ...primary]))
        if (!admins.includes(name))
          findings.push(
            fail("extraAdmin", { group: group.name, admins: list(admins), name }, [
              ev(`group ${group.name}`, list(admins), list(group.members), "/etc/group"),
            ]),
          );
    }
    const sudo = acc.groups.find((g) => g.name === "sudo");
    for (const name of admins)
      if (!sudoGrants(facts, name)) {
        const members = sudo === undefined ? "no group sudo" : `group sudo: ${list(sudo.members)}`;
        const rules = acc.sudoRules.map((r) => `${r.who} ${r.spec}`);
        const actual = `${members}; rules: ${rules.length === 0 ? "(none)" : list(rules)}`;
        findings.push(
          fail("missingAdmin", { name, actual }, [
            ev(
              "sudoers rules for " + name,
              "a rule for the admin or a group of theirs",
              actual,
              "/etc/sudoers",
            ),
          ]),
        );
      }
    // Rules for the admin groups are fine: their membership is checked above.
    const allowedWho = new Set(["root", ...adminGroups.map((g) => `%${g}`), ...admins]);
    for (const rule of acc.sudoRules)
      if (!allowedWho.has(rule.who))
        findings.push(
          fail("sudoRule", { who: rule.who, spec: rule.spec, source: rule.source }, [
            ev("sudoers", "%sudo and the admins", `${rule.who} ${rule.spec}`, rule.source),
          ]),
        );
    if (findings.length === 0) {
      // Switched-off accounts stay for a person to review and delete with their data.
      const off = unapproved.map((u) => `${u.name} (UID ${u.uid})`);
      findings.push(
        pass(
          "ok",
          { admins: list(admins), accounts: list(approved) },
          off.length === 0
            ? []
            : [
                ev(
                  "/etc/shadow",
                  "accounts outside the profile locked and expired",
                  `locked and expired: ${list(off)}`,
                  "/etc/shadow",
                ),
              ],
        ),
      );
    }
    return findings;
  },
};
