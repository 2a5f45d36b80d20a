/**
 * Pattern compilation for the searcher: the JS RegExp that finds matches, plus the literal
 * strings at least one of which every match must contain. Those literals let the searcher reject
 * most files with a `Buffer.indexOf` on raw bytes, before any UTF-8 decoding or regex work.
 */

export interface CompiledPattern {
  readonly regex: RegExp;
  /** Case-sensitive: every match contains one of these byte strings (null = no usable literal). */
  readonly requiredLiterals: readonly string[] | null;
  /**
   * Case-insensitive: a regex over the file's latin1 text that is true whenever a match can
   * exist (the required literals, ASCII only, so byte-wise latin1 folding equals UTF-8 folding).
   */
  readonly caseInsensitiveProbe: RegExp | null;
  /** The whole pattern is one case-sensitive literal without newlines: matches are found on bytes. */
  readonly byteLiteral: string | null;
}

export type PatternResult =
  | { readonly ok: true; readonly pattern: CompiledPattern }
  | { readonly ok: false; readonly message: string };

const escapeRegex = (value: string): string => value.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');

/** Index just past the `]` closing the class that opens at `start`. */
function skipClass(source: string, start: number): number {
  let i = start + 1;
  if (source[i] === '^') i++;
  if (source[i] === ']') i++;
  for (; i < source.length; i++) {
    if (source[i] === '\\') i++;
    else if (source[i] === ']') return i + 1;
  }
  return source.length;
}

/** Index just past the `)` closing the group that opens at `start`. */
function skipGroup(source: string, start: number): number {
  let depth = 0;
  for (let i = start; i < source.length; i++) {
    const ch = source[i];
    if (ch === '\\') i++;
    else if (ch === '[') i = skipClass(source, i) - 1;
    else if (ch === '(') depth++;
    else if (ch === ')') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return source.length;
}

/** Splits a regex source on `|` outside groups and classes. */
function topLevelBranches(source: string): string[] {
  const branches: string[] = [];
  let start = 0;
  for (let i = 0; i < source.length; i++) {
    const ch = source[i];
    if (ch === '\\') i++;
    else if (ch === '[') i = skipClass(source, i) - 1;
    else if (ch === '(') i = skipGroup(source, i) - 1;
    else if (ch === '|') {
      branches.push(source.slice(start, i));
      start = i + 1;
    }
  }
  branches.push(source.slice(start));
  return branches;
}

const quantifierAt = /^(?:[*+?]|\{\d+(?:,\d*)?\})/;

/**
 * The longest run of characters that every match of one branch must contain, read from the
 * regex source: literal characters and escaped punctuation extend a run; classes, groups, `.`,
 * anchors and escapes like `\d` end it; a `?`, `*` or `{0,…}` makes the previous character
 * optional, so it leaves the run.
 */
function branchLiteral(source: string): string {
  let best = '';
  let run = '';
  const endRun = (): void => {
    if (run.length > best.length) best = run;
    run = '';
  };
  let i = 0;
  while (i < source.length) {
    const ch = source[i] ?? '';
    let atom: string | null = null;
    let next = i + 1;
    if (ch === '\\') {
      const esc = source[i + 1] ?? '';
      next = i + 2;
      if (esc === 'x') next = i + 4;
      else if (esc === 'u')
        next = source[i + 2] === '{' ? source.indexOf('}', i) + 1 || source.length : i + 6;
      else if (esc === 'c') next = i + 3;
      else if (esc === 'p' || esc === 'P')
        next = source[i + 2] === '{' ? source.indexOf('}', i) + 1 || source.length : i + 3;
      else if (esc === 'k')
        next = source[i + 2] === '<' ? source.indexOf('>', i) + 1 || source.length : i + 2;
      else if (/[0-9]/.test(esc)) {
        while (/[0-9]/.test(source[next] ?? '')) next++;
      } else if (/[^A-Za-z0-9]/.test(esc)) atom = esc;
    } else if (ch === '[') {
      next = skipClass(source, i);
    } else if (ch === '(') {
      next = skipGroup(source, i);
    } else if (!'.^$'.includes(ch) && !quantifierAt.test(source.slice(i, i + 1))) {
      atom = ch;
    }

    const quantifier = quantifierAt.exec(source.slice(next, next + 12));
    if (quantifier !== null) {
      const q = quantifier[0];
      const optional = q === '*' || q === '?' || /^\{0[,}]/.test(q);
      if (atom !== null && !optional) run += atom;
      endRun();
      next += q.length;
      if (source[next] === '?') next++; // lazy quantifier
    } else if (atom !== null) {
      run += atom;
    } else {
      endRun();
    }
    i = next;
  }
  endRun();
  return best;
}

/** Required literals for a whole regex: one per top-level branch, or null if any branch has none. */
export function requiredLiterals(source: string, minLength = 2): string[] | null {
  const literals: string[] = [];
  for (const branch of topLevelBranches(source)) {
    const literal = branchLiteral(branch);
    if (literal.length < minLength) return null;
    literals.push(literal);
  }
  return literals;
}

export function compilePattern(
  pattern: string,
  options: { fixedString?: boolean; caseSensitive?: boolean },
): PatternResult {
  const caseSensitive = options.caseSensitive ?? false;
  const source = options.fixedString === true ? escapeRegex(pattern) : pattern;
  let regex: RegExp;
  try {
    // `m`: ^ and $ are line anchors, as in grep; `g`: iterate over the whole file text.
    regex = new RegExp(source, caseSensitive ? 'gm' : 'gim');
  } catch (error) {
    const reason =
      error instanceof Error
        ? error.message.replace(/^Invalid regular expression: /, '')
        : String(error);
    return {
      ok: false,
      message: `Invalid regular expression (${reason}). Patterns use JavaScript regex syntax; escape special characters such as ( [ . * + ? with a backslash to search for them literally.`,
    };
  }
  const plainLiteral = options.fixedString === true || !/[\\^$.*+?()[\]{}|]/.test(pattern);
  const literals = plainLiteral
    ? pattern.length > 0
      ? [pattern]
      : null
    : requiredLiterals(pattern);
  const asciiLiterals =
    literals !== null && literals.every((literal) => /^[\x20-\x7e\t]+$/.test(literal));
  return {
    ok: true,
    pattern: {
      regex,
      requiredLiterals: caseSensitive ? literals : null,
      caseInsensitiveProbe:
        !caseSensitive && asciiLiterals
          ? new RegExp(literals.map(escapeRegex).join('|'), 'i')
          : null,
      byteLiteral:
        caseSensitive && plainLiteral && pattern.length > 0 && !pattern.includes('\n')
          ? pattern
          : null,
    },
  };
}
