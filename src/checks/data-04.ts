import type { Control, Finding } from "./types.js";
import { ev, fail, list, notApplicable, pass } from "./util.js";

type Policies = Record<string, unknown>;

/** Firefox wraps its policies in `{ "policies": … }`, Chromium's are flat. */
function unwrap(policies: unknown): Policies {
  if (policies === null || typeof policies !== "object") return {};
  const inner = (policies as Policies)["policies"];
  return inner !== null && typeof inner === "object" ? (inner as Policies) : (policies as Policies);
}

function firefoxProblems(p: Policies): string[] {
  const problems: string[] = [];
  if (p["PasswordManagerEnabled"] !== false) problems.push("PasswordManagerEnabled is not false");
  const sanitize = p["SanitizeOnShutdown"];
  const sanitized =
    sanitize === true ||
    (typeof sanitize === "object" &&
      sanitize !== null &&
      (sanitize as Policies)["Cache"] === true &&
      (sanitize as Policies)["FormData"] === true);
  if (!sanitized) problems.push("SanitizeOnShutdown does not clear Cache and FormData");
  if (p["DisableFormHistory"] !== true) problems.push("DisableFormHistory is not true");
  return problems;
}

function chromiumProblems(p: Policies): string[] {
  const problems: string[] = [];
  if (p["PasswordManagerEnabled"] !== false) problems.push("PasswordManagerEnabled is not false");
  if (p["AutofillAddressEnabled"] !== false) problems.push("AutofillAddressEnabled is not false");
  const clear = p["ClearBrowsingDataOnExitList"];
  if (
    !Array.isArray(clear) ||
    !clear.includes("cached_images_and_files") ||
    !clear.includes("autofill")
  )
    problems.push("ClearBrowsingDataOnExitList lacks cached_images_and_files and autofill");
  return problems;
}

export const data04: Control = {
  meta: {
    id: "DATA-04",
    kind: "situational",
    title: {
      de: "Browser speichert keinen Cache, keine Formulardaten, keine Passwörter",
      en: "Browser keeps no cache, form data or passwords",
    },
    description: {
      de: "Ist das Fachverfahren webbasiert, speichert der Browser laut Unternehmensrichtlinien keine Passwörter und keine Formulardaten und löscht Cache und Formulardaten beim Beenden. Gilt nur, wenn das Profil einen Browser nennt.",
      en: "Where the Fachverfahren is web-based, the browser's enterprise policies store no passwords or form data and clear cache and form data on exit. Applies only when the profile names a browser.",
    },
    severity: "medium",
    references: ["DSGVO Art. 32 Abs. 1 lit. b", "DSGVO Art. 5 Abs. 1 lit. c", "BSI SYS.2.1.A26"],
    sdmGoals: ["datenminimierung", "vertraulichkeit"],
    art32: ["b"],
    facts: ["apps"],
    messages: {
      ok: {
        de: "Erwartet datensparsame Browser-Richtlinien, gefunden in {{path}}.",
        en: "Expected data-minimising browser policies, found in {{path}}.",
      },
      notApplicable: {
        de: "Das Profil nennt keinen Browser für ein webbasiertes Fachverfahren.",
        en: "The profile names no browser for a web Fachverfahren.",
      },
      noPolicies: {
        de: "Erwartet Unternehmensrichtlinien für {{browser}}, gefunden keine.",
        en: "Expected enterprise policies for {{browser}}, found none.",
      },
      policy: {
        de: "Erwartet datensparsame Richtlinien für {{browser}}, gefunden: {{problems}} ({{path}}).",
        en: "Expected data-minimising policies for {{browser}}, found: {{problems}} ({{path}}).",
      },
    },
    fix: {
      de: "Browser-Richtlinien (policies.json bzw. managed policies) schreiben.",
      en: "Write the browser policies (policies.json or managed policies).",
    },
  },
  evaluate(profile, facts) {
    const browser = profile.spec.data.browser?.name;
    if (browser === undefined) return [notApplicable("notApplicable")];
    const firefox = browser === "firefox-esr";
    const found = facts.apps.browserPolicies.filter((b) =>
      firefox ? /firefox/.test(b.path) : /chrom/.test(b.path),
    );
    if (found.length === 0)
      return [
        fail("noPolicies", { browser }, [
          ev(
            `${browser} policies`,
            "present",
            "none",
            firefox ? "/etc/firefox/policies/policies.json" : "/etc/chromium/policies/managed",
          ),
        ]),
      ];
    // Chromium merges every managed file; Firefox reads one. Judge the merged view.
    const merged: Policies = Object.assign({}, ...found.map((b) => unwrap(b.policies)));
    const problems = firefox ? firefoxProblems(merged) : chromiumProblems(merged);
    const paths = list(found.map((b) => b.path));
    const findings: Finding[] =
      problems.length > 0
        ? [
            fail("policy", { browser, problems: problems.join("; "), path: paths }, [
              ev(
                `${browser} policies`,
                "no passwords, no form data, cleared on exit",
                problems.join("; "),
                paths,
              ),
            ]),
          ]
        : [];
    return findings.length > 0 ? findings : [pass("ok", { path: paths })];
  },
};
