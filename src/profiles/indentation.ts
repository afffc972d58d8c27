/**
 * Finding the one mis-indented line behind a cascade of YAML syntax errors.
 *
 * A key indented one space too far makes yaml read it as the continuation of the previous
 * value and report two errors at that value (the line before the bad one); a key indented too
 * little makes it report every following sibling. Neither points at the line the technician
 * has to fix. This walks the block structure line by line, as YAML's indentation rules
 * define it, and names the first line that fits no open level. It is only consulted when
 * yaml has already refused the file, so a heuristic miss can never reject a valid profile.
 */

export interface IndentationProblem {
  line: number;
  column: number;
  message: string;
}

interface KeyLine {
  line: number;
  indent: number;
  key: string;
  /** The levels this line closed to reach its own (deepest first). */
  closed: number[];
  /** True when the line came right after a key ending in ":" at its own column (leaving it empty). */
  emptiedOpener?: boolean;
}

const keyPattern =
  /^(?:"(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"{[\]},&*!|>%@`-][^#]*?|-[^\s][^#]*?)\s*:(?:\s+|$)/;

/** The first mis-indented key of a YAML text, or undefined when indentation is not the problem. */
export function findMisindentedKey(text: string): IndentationProblem | undefined {
  const lines = text.split(/\r?\n/);
  const levels: number[] = [];
  /** For each open level: how many lines start at it, and the first key line that did. */
  const members: { count: number; first?: KeyLine }[] = [];
  const push = (indent: number) => {
    levels.push(indent);
    members.push({ count: 0 });
  };
  const pop = () => {
    members.pop();
    return levels.pop()!;
  };
  /** The first child of a level holding only it, when the lines after `i` agree on `indent`: the odd one out. */
  const loneFirst = (
    member: { count: number; first?: KeyLine } | undefined,
    i: number,
    indent: number,
  ) =>
    member?.count === 1 && member.first && nextIndent(lines, i) === indent
      ? member.first
      : undefined;
  /** The indent of the key whose block the next line may open (deeper, or a sequence at the same column). */
  let opener: number | undefined;
  /** The previous key line when its value was a scalar on the same line. */
  let scalarKey: KeyLine | undefined;
  let blockScalarParent: number | undefined;
  let flowDepth = 0;

  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const indent = raw.length - raw.trimStart().length;
    const content = raw.slice(indent);
    if (blockScalarParent !== undefined) {
      if (content === "" || indent > blockScalarParent) continue;
      blockScalarParent = undefined;
    }
    if (content === "" || content.startsWith("#")) continue;
    if (flowDepth > 0) {
      flowDepth = Math.max(0, flowDepth + bracketBalance(content));
      continue;
    }
    if (indent === 0 && /^(---|\.\.\.)(\s|$)/.test(content)) {
      levels.length = 0;
      members.length = 0;
      opener = undefined;
      scalarKey = undefined;
      continue;
    }
    // Tabs in indentation: yaml's own message already points at them.
    if (raw.slice(0, indent).includes("\t")) return undefined;

    const top = levels.at(-1);
    const closed: number[] = [];
    if (opener !== undefined && (indent > opener || (indent === opener && isItem(content)))) {
      if (indent > opener) push(indent);
    } else if (top === undefined) {
      push(indent);
    } else if (indent > top) {
      const key = keyOf(content);
      // A deeper line after `key: value` is a plain scalar's continuation — unless it is a key.
      if (key === undefined || !scalarKey) {
        if (key !== undefined) return undefined;
        continue;
      }
      // The previous key left this level to reach its own: it is the odd one out.
      if (scalarKey.closed.includes(indent) || scalarKey.emptiedOpener)
        return misplaced(scalarKey, indent, `like the keys around it`);
      const lone = loneFirst(members.at(-1), i, indent);
      if (lone) return misplaced(lone, indent, `like the keys below it`);
      return misplaced(
        { line: i + 1, indent, key, closed: [] },
        scalarKey.indent,
        `like "${scalarKey.key}" above it (or nest it under a key ending in ":")`,
      );
    } else {
      let closedMember: { count: number; first?: KeyLine } | undefined;
      while (levels.length > 0 && levels.at(-1)! > indent) {
        closedMember = members.at(-1);
        closed.push(pop());
      }
      if (levels.at(-1) !== indent) {
        const lone = closed.length === 1 ? loneFirst(closedMember, i, indent) : undefined;
        if (lone) return misplaced(lone, indent, `like the keys below it`);
        const key = keyOf(content) ?? content.split(/\s/)[0]!;
        const candidates = [closed.at(-1), levels.at(-1)].filter((n) => n !== undefined);
        return {
          line: i + 1,
          column: indent + 1,
          message: `Expected "${key}" at ${candidates.map((n) => `column ${n + 1}`).join(" or ")} like the keys beside it, found column ${indent + 1}`,
        };
      }
    }
    const emptiedOpener = opener === indent && !isItem(content);
    opener = undefined;
    scalarKey = undefined;

    // The line's own content: sequence dashes open a level each for what follows them.
    let rest = content;
    let column = indent;
    while (/^-(\s|$)/.test(rest)) {
      const after = rest.slice(1);
      const pad = after.length - after.trimStart().length;
      if (after.trim() === "" || after.trimStart().startsWith("#")) {
        opener = column;
        rest = "";
        break;
      }
      members.at(-1)!.count++;
      column += 1 + pad;
      push(column);
      rest = after.trimStart();
    }
    if (rest === "") continue;
    const member = members.at(-1)!;
    member.count++;
    const key = keyOf(rest);
    if (key === undefined) {
      flowDepth = Math.max(0, bracketBalance(rest));
      continue;
    }
    const value = rest.slice(rest.indexOf(":", key.length) + 1).trim();
    if (value === "" || value.startsWith("#") || /^[&!][^\s]*(\s+#.*)?$/.test(value))
      opener = column;
    else if (/^[|>][-+0-9]*(\s+#.*)?$/.test(value)) blockScalarParent = column;
    else {
      // A flow collection closed on its line is a value like a scalar.
      flowDepth = /^[[{]/.test(value) ? Math.max(0, bracketBalance(value)) : 0;
      if (flowDepth === 0) scalarKey = { line: i + 1, indent: column, key, closed, emptiedOpener };
    }
    if (member.count === 1) member.first = { line: i + 1, indent: column, key, closed };
  }
  return undefined;
}

function misplaced(at: KeyLine, expected: number, why: string): IndentationProblem {
  return {
    line: at.line,
    column: at.indent + 1,
    message: `Expected "${at.key}" at column ${expected + 1} ${why}, found column ${at.indent + 1}`,
  };
}

function nextIndent(lines: string[], i: number): number | undefined {
  for (let j = i + 1; j < lines.length; j++) {
    const content = lines[j]!.trimStart();
    if (content !== "" && !content.startsWith("#")) return lines[j]!.length - content.length;
  }
  return undefined;
}

function isItem(content: string): boolean {
  return /^-(\s|$)/.test(content);
}

function keyOf(content: string): string | undefined {
  const match = keyPattern.exec(content);
  if (!match) return undefined;
  const key = match[0].replace(/\s*:\s*$/, "");
  return key.replace(/^(["'])(.*)\1$/, "$2");
}

/** Opening minus closing brackets outside quotes. */
function bracketBalance(text: string): number {
  let depth = 0;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === "\\" && quote === '"') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "#" && (i === 0 || /\s/.test(text[i - 1]!))) break;
    else if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") depth--;
  }
  return depth;
}
