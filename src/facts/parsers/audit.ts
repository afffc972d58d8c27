/**
 * Audit rules as the kernel applies them. augenrules concatenates /etc/audit/rules.d/*.rules
 * in `ls -v` order into one list (the gatherer yields that order); the kernel then walks
 * each filter list in order and the FIRST rule that matches an event decides: an early
 * `-a never,exit -S execve` silences every later execve rule, an `exclude` rule drops whole
 * record types, a watch records only the access types of its `-p`, and a rule with an
 * argument filter (`-F a0=…`) records only that special case. The last `-e` decides whether
 * auditing is on at all. This module parses rule lines (also `auditctl -l` output) and
 * answers "is every event of this class recorded?" with the rule that decides.
 */

export interface AuditField {
  name: string;
  op: string;
  value: string;
}

export type AuditRule =
  | {
      kind: "filter";
      list: string; // exit, exclude, user, task, filesystem, io_uring
      action: "always" | "never";
      /** System call names; empty = every system call. */
      syscalls: string[];
      fields: AuditField[];
      prepend: boolean;
      text: string;
      source: string;
    }
  | { kind: "enable"; value: string; text: string; source: string }
  /** `-D`: delete the rules loaded so far, only those with key `key` when `-k` is given. */
  | { kind: "delete"; key?: string; text: string; source: string }
  | { kind: "other"; text: string; source: string };

/** Split a rule line into words (auditctl takes them shell-split; quotes are rare). */
function words(line: string): string[] {
  return (line.match(/"[^"]*"|\S+/g) ?? []).map((w) => w.replace(/^"(.*)"$/, "$1"));
}

function field(spec: string): AuditField | null {
  const m = /^([A-Za-z0-9_]+)(!=|>=|<=|=|>|<|&=|&)(.*)$/.exec(spec);
  return m === null ? null : { name: m[1] as string, op: m[2] as string, value: m[3] as string };
}

/** Parse one rule line as auditctl reads it; a watch `-w P -p wa` becomes its exit-list rule. */
export function parseAuditRule(line: string, source: string): AuditRule {
  const w = words(line.trim());
  const text = w.join(" ");
  if (w[0] === "-e") return { kind: "enable", value: w[1] ?? "", text, source };
  if (w[0] === "-D") {
    const k = w.indexOf("-k");
    return k === -1 || w[k + 1] === undefined
      ? { kind: "delete", text, source }
      : { kind: "delete", key: w[k + 1] as string, text, source };
  }
  if (w[0] === "-w") {
    const path = w[1] ?? "";
    let perm = "rwxa";
    const fields: AuditField[] = [];
    for (let i = 2; i < w.length; i++) {
      if (w[i] === "-p") perm = w[++i] ?? perm;
      else if (w[i] === "-k") fields.push({ name: "key", op: "=", value: w[++i] ?? "" });
    }
    // A watch is an exit rule on the path (dir= for a directory: the path and everything below).
    fields.push({
      name: path.endsWith("/") ? "dir" : "watch",
      op: "=",
      value: path.replace(/\/$/, ""),
    });
    fields.push({ name: "perm", op: "=", value: perm });
    return {
      kind: "filter",
      list: "exit",
      action: "always",
      syscalls: [],
      fields,
      prepend: false,
      text,
      source,
    };
  }
  if (w[0] === "-a" || w[0] === "-A") {
    const parts = (w[1] ?? "").split(",");
    const action = parts.includes("never") ? "never" : "always";
    const list = parts.find((p) => p !== "never" && p !== "always") ?? "exit";
    const syscalls: string[] = [];
    const fields: AuditField[] = [];
    for (let i = 2; i < w.length; i++) {
      const flag = w[i];
      if (flag === "-S") syscalls.push(...(w[++i] ?? "").split(",").filter((s) => s !== ""));
      else if (flag === "-F" || flag === "-C") {
        const f = field(w[++i] ?? "");
        if (f !== null) fields.push(f);
      } else if (flag === "-k") fields.push({ name: "key", op: "=", value: w[++i] ?? "" });
    }
    return {
      kind: "filter",
      list,
      action,
      syscalls: syscalls.includes("all") ? [] : syscalls,
      fields,
      prepend: w[0] === "-A",
      text,
      source,
    };
  }
  return { kind: "other", text, source };
}

/**
 * The rule lists in kernel order: `-A` rules go to the front of their list, `-a` to the back,
 * and `-D` removes what was loaded before it (with `-k`, only the rules of that key).
 */
export function orderedRules(rules: readonly AuditRule[]): AuditRule[] {
  let out: AuditRule[] = [];
  for (const r of rules) {
    if (r.kind === "delete")
      out = out.filter(
        (o) =>
          o.kind !== "filter" ||
          (r.key !== undefined && !o.fields.some((f) => f.name === "key" && f.value === r.key)),
      );
    else if (r.kind === "filter" && r.prepend) out.unshift(r);
    else out.push(r);
  }
  return out;
}

/** An event class the controls need recorded. */
export interface AuditEventClass {
  /** The filter list the event passes (exit for syscalls and watches, user for logons). */
  list: "exit" | "user";
  /** System calls of the class (any of them); empty = not syscall-specific. */
  syscalls: string[];
  /** A watched path and the access type ("w" or "a"), for file events. */
  path?: string;
  perm?: "w" | "a" | "x";
  /** Field conditions the class itself has (e.g. euid=0); a rule may use these and still cover it. */
  own: AuditField[];
  /** Record types the class produces (what an exclude rule can drop). */
  msgtypes: string[];
  /** Fields a covering rule may additionally restrict on without losing what matters (auid person filters). */
  tolerated?: (f: AuditField) => boolean;
}

/** System calls behind each watch permission (what a never rule on them silences). */
export const permSyscalls: Record<"w" | "a" | "x", string[]> = {
  w: [
    "open",
    "openat",
    "openat2",
    "creat",
    "truncate",
    "ftruncate",
    "rename",
    "renameat",
    "renameat2",
    "unlink",
    "unlinkat",
    "link",
    "linkat",
    "symlink",
    "symlinkat",
    "mkdir",
    "mkdirat",
    "rmdir",
  ],
  a: [
    "chmod",
    "fchmod",
    "fchmodat",
    "chown",
    "fchown",
    "fchownat",
    "lchown",
    "setxattr",
    "lsetxattr",
    "fsetxattr",
    "removexattr",
    "lremovexattr",
    "fremovexattr",
    "utime",
    "utimes",
    "utimensat",
    "futimesat",
  ],
  x: ["execve", "execveat"],
};

/** Fields that never narrow what a rule records. */
const neutral = new Set(["key", "arch"]);

function under(path: string, dir: string): boolean {
  return path === dir || path.startsWith(`${dir}/`);
}

/** Could an equality on `f` hold for some event of the class (false only when it contradicts one of the class's own fields)? */
function compatible(f: AuditField, cls: AuditEventClass): boolean {
  const own = cls.own.find((o) => o.name === f.name && o.op === "=");
  if (own === undefined) return true;
  if (f.op === "=") return f.value === own.value;
  if (f.op === "!=") return f.value !== own.value;
  return true;
}

function archMatches(rule: { fields: AuditField[] }): boolean {
  // No arch field: auditctl uses the native one (b64 on amd64); the classes are native events.
  const arch = rule.fields.find((f) => f.name === "arch");
  if (arch === undefined) return true;
  const v = arch.value.toLowerCase();
  const native = ["b64", "x86_64", "64"].includes(v);
  return arch.op === "=" ? native : !native;
}

/** Does a path condition of the rule select (some of) the class's file events? */
function pathMatch(
  rule: Extract<AuditRule, { kind: "filter" }>,
  cls: AuditEventClass,
): "all" | "some" | "none" {
  const paths = rule.fields.filter((f) => ["path", "dir", "watch"].includes(f.name));
  if (paths.length === 0) return "all";
  // A path-limited rule sees the calls that name a path: of the syscall classes, only execve.
  if (cls.path === undefined) return cls.syscalls.includes("execve") ? "some" : "none";
  for (const p of paths) {
    const value = p.value.replace(/\/$/, "");
    const covers = p.name === "path" ? value === cls.path : under(cls.path, value);
    // A watch or dir rule on a directory also sees events below it; one on a file inside the watched directory sees part.
    if (covers) return "all";
    if (under(value, cls.path)) return "some";
  }
  return "none";
}

export interface AuditVerdict {
  recorded: boolean;
  /** The rule that decides (first match), if any. */
  rule?: { text: string; source: string };
  why: string;
}

/**
 * Is every event of `cls` recorded? Walks the rules in kernel order; the first rule that
 * can match a part of the class decides that part: `never` → silenced (fail), `always`
 * covering the whole class → recorded, `always` covering only a special case → go on.
 */
export function recorded(rules: readonly AuditRule[], cls: AuditEventClass): AuditVerdict {
  const ordered = orderedRules(rules);
  const enable = [...ordered].reverse().find((r) => r.kind === "enable");
  if (enable !== undefined && enable.value === "0")
    return { recorded: false, rule: enable, why: "auditing is switched off (-e 0)" };
  for (const r of ordered) {
    // On the exclude list every matching rule drops the record, `never` as much as `always`,
    // and a rule matches only through a field that matched (kernel/auditfilter.c, audit_filter()).
    if (r.kind !== "filter" || r.list !== "exclude") continue;
    if (r.fields.filter((f) => f.name !== "key").length === 0) continue;
    const types = r.fields.filter((f) => f.name === "msgtype");
    const drops =
      types.length === 0 ||
      types.some((t) =>
        t.op === "=" ? cls.msgtypes.includes(t.value.toUpperCase()) : t.op !== "=",
      );
    if (drops) return { recorded: false, rule: r, why: "an exclude rule drops these records" };
  }
  if (cls.list === "exit") {
    // kernel/auditsc.c audit_filter_task(): at fork the first matching task-list rule decides,
    // a rule without fields matches every task, and `never` leaves the task without an audit
    // context, so no exit rule is evaluated for it. Rules with fields match some tasks only
    // and are passed over here.
    const task = ordered.find(
      (r) => r.kind === "filter" && r.list === "task" && r.fields.every((f) => f.name === "key"),
    );
    if (task !== undefined && task.kind === "filter" && task.action === "never")
      return {
        recorded: false,
        rule: task,
        why: "a never rule on the task list turns system call auditing off for new processes",
      };
  }
  for (const r of ordered) {
    if (r.kind !== "filter" || r.list !== cls.list) continue;
    if (cls.list === "exit") {
      if (!archMatches(r)) continue;
      const perm = r.fields.find((f) => f.name === "perm");
      if (r.syscalls.length > 0) {
        const relevant =
          cls.path !== undefined && cls.perm !== undefined ? permSyscalls[cls.perm] : cls.syscalls;
        if (!r.syscalls.some((s) => relevant.includes(s))) continue;
      }
      if (perm !== undefined && cls.perm !== undefined && !perm.value.includes(cls.perm)) continue;
      if (perm !== undefined && cls.perm === undefined) continue; // a perm rule only sees file accesses
      const where = pathMatch(r, cls);
      if (where === "none") continue;
      const others = r.fields.filter(
        (f) => !neutral.has(f.name) && !["path", "dir", "watch", "perm"].includes(f.name),
      );
      if (!others.every((f) => compatible(f, cls))) continue;
      const narrowing = others.filter(
        (f) =>
          !cls.own.some((o) => o.name === f.name && o.op === f.op && o.value === f.value) &&
          !(cls.tolerated?.(f) ?? false),
      );
      if (r.action === "never")
        return {
          recorded: false,
          rule: r,
          why: "a never rule before any recording rule silences it",
        };
      const wholeSyscalls =
        r.syscalls.length === 0 ||
        cls.path !== undefined ||
        cls.syscalls.every((s) => r.syscalls.includes(s));
      if (where === "all" && narrowing.length === 0 && wholeSyscalls)
        return { recorded: true, rule: r, why: "recorded" };
      // A special case (argument filter, one path below, part of the calls): recorded only in part.
    } else {
      // user list: never silences (any part of) the logon messages; no rule = recorded (default).
      // The kernel matches a user-list rule only through a field that matched
      // (kernel/auditfilter.c, audit_filter()): a rule without fields matches nothing.
      if (r.fields.filter((f) => f.name !== "key").length === 0) continue;
      if (r.action === "never")
        return {
          recorded: false,
          rule: r,
          why: "a never rule on the user list silences logon messages",
        };
    }
  }
  if (cls.list === "user") return { recorded: true, why: "user messages are recorded by default" };
  return { recorded: false, why: "no rule records it" };
}
