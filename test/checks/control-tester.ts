/**
 * A control tester in the manner of ESLint's RuleTester: runs pass/fail cases against one
 * control AND validates the control's metadata (STYLE.md §6). Cases assert message ids and
 * data, never rendered text.
 */
import { basename } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import type { Control, EvaluateContext, Finding } from "../../src/checks/types.js";
import type { Facts } from "../../src/facts/types.js";
import { placeholders } from "../../src/i18n/format.js";
import type { Profile } from "../../src/profiles/types.js";
import { hardenedFacts, judgedAt } from "../helpers/facts.js";
import { makeProfile } from "../helpers/profile.js";
import { catalogue } from "./catalogue.js";

export interface ControlCase {
  name: string;
  profile?: Profile;
  facts?: Facts;
  context?: Partial<EvaluateContext>;
  /** The control's overall status (worst finding). */
  status: Finding["status"];
  /** Message ids that must appear among the findings (exactly this set when `exact`). */
  messages: string[];
  exact?: boolean;
  /** Data the first finding with `messages[0]` must carry (subset match). */
  data?: Record<string, string | number>;
}

const rank: Record<Finding["status"], number> = {
  pass: 0,
  "not-applicable": 1,
  skip: 2,
  pending: 3,
  fail: 4,
  error: 5,
};

/** Evaluate a control the way evaluate() does, returning the findings and the worst status. */
export function run(
  control: Control,
  c: Omit<ControlCase, "status" | "messages" | "name">,
): { findings: Finding[]; status: Finding["status"] } {
  const findings = control.evaluate(c.profile ?? makeProfile(), c.facts ?? hardenedFacts(), {
    now: judgedAt,
    ...c.context,
  });
  const status = findings.reduce<Finding["status"]>(
    (w, f) => (rank[f.status] > rank[w] ? f.status : w),
    "pass",
  );
  return { findings, status };
}

export function testControl(control: Control, testFileUrl: string, cases: ControlCase[]): void {
  const meta = control.meta;
  const used = new Set<string>();
  describe(`${meta.id} metadata`, () => {
    it("id equals the file name", () => {
      const file = basename(fileURLToPath(testFileUrl)).replace(/\.test\.ts$/, "");
      expect(meta.id.toLowerCase()).toBe(file);
    });
    it("matches the catalogue (severity, kind)", () => {
      const row = catalogue.find((r) => r.id === meta.id);
      expect(row, `${meta.id} is in CONTROLS.md`).toBeDefined();
      expect(meta.severity).toBe(row?.severity);
      expect(meta.kind).toBe(row?.kind);
    });
    it("has titles and descriptions in German and English", () => {
      for (const text of [meta.title, meta.description]) {
        expect(text.de.trim()).not.toBe("");
        expect(text.en.trim()).not.toBe("");
        expect(text.de).not.toBe(text.en);
      }
      if (meta.fix !== null)
        expect(meta.fix.de.trim() !== "" && meta.fix.en.trim() !== "").toBe(true);
    });
    it("names its basis, SDM goals and Art. 32 letters", () => {
      expect(meta.references.length).toBeGreaterThan(0);
      expect(meta.references.some((r) => /^(BSI|DSGVO|AKNV)/.test(r))).toBe(true);
      expect(meta.sdmGoals.length).toBeGreaterThan(0);
      expect(meta.art32.length).toBeGreaterThan(0);
    });
    it("has message templates with the same placeholders in both languages", () => {
      expect(Object.keys(meta.messages).length).toBeGreaterThan(0);
      for (const [id, t] of Object.entries(meta.messages)) {
        expect(placeholders(t.de).sort(), id).toEqual(placeholders(t.en).sort());
        expect(t.de.trim() !== "" && t.en.trim() !== "", id).toBe(true);
      }
    });
  });
  describe(`${meta.id} cases`, () => {
    for (const c of cases)
      it(`${c.status}: ${c.name}`, () => {
        const { findings, status } = run(control, c);
        expect(findings.length).toBeGreaterThan(0);
        const ids = findings.map((f) => f.messageId);
        for (const f of findings) {
          used.add(f.messageId);
          const template = meta.messages[f.messageId];
          expect(template, `message ${f.messageId} exists in meta.messages`).toBeDefined();
          for (const name of placeholders(template?.en ?? ""))
            expect(f.data ?? {}, `${f.messageId} data has ${name}`).toHaveProperty(name);
        }
        expect({ status, ids }).toMatchObject({ status: c.status });
        for (const id of c.messages) expect(ids).toContain(id);
        if (c.exact === true)
          expect([...new Set(ids)].sort()).toEqual([...new Set(c.messages)].sort());
        if (c.data !== undefined)
          expect(findings.find((f) => f.messageId === c.messages[0])?.data).toMatchObject(c.data);
      });
    afterAll(() => {
      // Every template is exercised by some case, and no case used an unknown one.
      expect([...used].sort()).toEqual(Object.keys(meta.messages).sort());
    });
  });
}
