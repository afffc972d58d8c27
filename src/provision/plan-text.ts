/**
 * `koffer plan` as text: one line per change, and for a written file a unified diff against
 * what is on the target now. Pure: the caller reads the current files. The diff is a plain
 * LCS over lines — managed files are a few hundred lines at most — so no dependency is needed.
 */
import type { Change } from "./types.js";

type Op = { type: " " | "-" | "+"; line: string };

function lines(text: string): string[] {
  if (text === "") return [];
  const out = text.split("\n");
  if (out[out.length - 1] === "") out.pop();
  return out;
}

/** The edit script turning `a` into `b` (longest common subsequence, O(n·m) for small files). */
function editScript(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      (lcs[i] as number[])[j] =
        a[i] === b[j]
          ? ((lcs[i + 1] as number[])[j + 1] as number) + 1
          : Math.max((lcs[i + 1] as number[])[j] as number, (lcs[i] as number[])[j + 1] as number);
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      ops.push({ type: " ", line: a[i] as string });
      i++;
      j++;
    } else if (((lcs[i + 1] as number[])[j] as number) >= ((lcs[i] as number[])[j + 1] as number))
      ops.push({ type: "-", line: a[i++] as string });
    else ops.push({ type: "+", line: b[j++] as string });
  }
  while (i < n) ops.push({ type: "-", line: a[i++] as string });
  while (j < m) ops.push({ type: "+", line: b[j++] as string });
  return ops;
}

/** A unified diff (`---`/`+++` headers, `@@` hunks with `context` lines around each change). */
export function unifiedDiff(
  before: string | null,
  after: string,
  path: string,
  context = 3,
): string {
  const a = lines(before ?? "");
  const b = lines(after);
  const ops = editScript(a, b);
  const out = [`--- ${before === null ? "/dev/null" : `a${path}`}`, `+++ b${path}`];
  const changed = ops.map((op) => op.type !== " ");
  let k = 0;
  while (k < ops.length) {
    if (!changed[k]) {
      k++;
      continue;
    }
    // A hunk: from `context` lines before this change to `context` lines after the last
    // change that is within 2·context lines of the previous one.
    const start = Math.max(0, k - context);
    let end = k;
    while (end < ops.length) {
      let next = end + 1;
      while (next < ops.length && !changed[next]) next++;
      if (next < ops.length && next - end <= 2 * context) end = next;
      else break;
    }
    const stop = Math.min(ops.length, end + context + 1);
    let aStart = 0;
    let bStart = 0;
    for (let x = 0; x < start; x++) {
      if (ops[x]?.type !== "+") aStart++;
      if (ops[x]?.type !== "-") bStart++;
    }
    const hunk = ops.slice(start, stop);
    const aLen = hunk.filter((o) => o.type !== "+").length;
    const bLen = hunk.filter((o) => o.type !== "-").length;
    out.push(
      `@@ -${aLen === 0 ? aStart : aStart + 1},${aLen} +${bLen === 0 ? bStart : bStart + 1},${bLen} @@`,
    );
    for (const op of hunk) out.push(`${op.type}${op.line}`);
    k = stop;
  }
  return out.join("\n") + "\n";
}

function octal(mode: number): string {
  return `0${(mode & 0o7777).toString(8)}`;
}

/** What a change does, in one line. */
export function describeChange(change: Change): string {
  const controls = change.controls.length > 0 ? ` [${change.controls.join(", ")}]` : "";
  const what = (() => {
    switch (change.kind) {
      case "write-file":
        return `write ${change.path} (${octal(change.mode)} ${change.uid}:${change.gid})`;
      case "remove-file":
        return `remove ${change.path}`;
      case "disable-lines":
        return `comment out ${change.path}:${change.lines.map((l) => l.line).join(",")} (${[...new Set(change.lines.map((l) => l.key))].join(", ")})`;
      case "compile-dconf":
        return `compile /etc/dconf/db/${change.database} from /etc/dconf/db/${change.database}.d`;
      case "install-packages":
      case "purge-packages":
        return `${change.kind === "install-packages" ? "install" : "purge"} ${change.packages.join(" ")}`;
      case "enable-unit":
      case "disable-unit":
      case "mask-unit":
      case "unmask-unit":
        return `${change.kind.replace(/-unit$/, "")} ${change.unit}`;
      case "set-group-members":
        return `group ${change.group} = ${change.members.join(",") || "(empty)"}`;
      case "lock-account":
        return `lock account ${change.user}`;
      case "luks-convert-keyslot":
      case "luks-remove-keyslot":
        return `${change.kind === "luks-convert-keyslot" ? "convert" : "remove"} keyslot ${change.keyslot} of ${change.device}`;
      case "luks-add-recovery-key":
        return `add an escrowed recovery key to ${change.device}`;
      case "luks-reencrypt":
        return `${change.resume ? "resume re-encrypting" : "re-encrypt"} ${change.device} to ${change.to.cipher} ${change.to.keyBits}-bit${change.activeName === null ? " (offline)" : ` (online, ${change.activeName})`}`;
      case "tpm2-enrol":
        return `enrol TPM2+PIN (PCR ${change.pcrs.join("+")}) on ${change.device}`;
      case "initrd-tpm2":
        return `install ${change.packages.join(" ")}; regenerate the initrd of ${change.kernels.join(", ")} with dracut`;
      case "vpn-certificate":
        return `${change.action} the VPN certificate ${change.name}`;
    }
  })();
  return `${change.resource}: ${what}${controls}\n    ${change.summary}`;
}

/**
 * The whole plan as text. `current(path)` gives a file's present text (null: absent,
 * undefined: not known, e.g. planning on a saved snapshot).
 */
export function renderPlanText(
  changes: Change[],
  current: (path: string) => string | null | undefined,
): string {
  if (changes.length === 0) return "No changes: the target already matches the profile.\n";
  const out: string[] = [];
  for (const [index, change] of changes.entries()) {
    out.push(`${index + 1}. ${describeChange(change)}`);
    if (change.kind === "write-file") {
      const before = current(change.path);
      const after =
        change.encoding === "base64"
          ? `(binary, ${Buffer.from(change.content, "base64").length} bytes)\n`
          : change.content;
      if (before === undefined) out.push(`    (current content not known)\n${after}`);
      else out.push(unifiedDiff(before, after, change.path));
    }
  }
  const kinds = new Map<string, number>();
  for (const c of changes) kinds.set(c.kind, (kinds.get(c.kind) ?? 0) + 1);
  out.push(
    `${changes.length} change${changes.length === 1 ? "" : "s"}: ${[...kinds].map(([k, n]) => `${n} ${k}`).join(", ")}`,
  );
  return out.join("\n") + "\n";
}
