/**
 * A small glob matcher for search filters, `.gitignore` lines and forbidden roots.
 *
 * Supported: `*` (any run inside one path segment), `**` (any number of segments), `?` (one
 * character other than `/`), `{a,b}` alternatives (may nest), `[abc]` / `[!abc]` classes and
 * `\x` escapes. Globs compile once to an anchored RegExp, so matching a path is one `test()`.
 */

export interface GlobOptions {
  readonly caseInsensitive?: boolean;
}

const regexSpecial = /[\\^$.*+?()[\]{}|/]/;

function escapeChar(ch: string): string {
  return regexSpecial.test(ch) ? `\\${ch}` : ch;
}

/** Finds the index of the `}` closing the `{` at `open`, honouring nesting and escapes. */
function closingBrace(glob: string, open: number): number {
  let depth = 0;
  for (let i = open; i < glob.length; i++) {
    const ch = glob[i];
    if (ch === '\\') i++;
    else if (ch === '{') depth++;
    else if (ch === '}') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

/** Splits the body of a `{…}` group on top-level commas. */
function splitAlternatives(body: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (ch === '\\') i++;
    else if (ch === '{') depth++;
    else if (ch === '}') depth--;
    else if (ch === ',' && depth === 0) {
      parts.push(body.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(body.slice(start));
  return parts;
}

/** More wildcards than this make a glob invalid (see `compileGlob`). */
export const maxGlobWildcards = 20;

/** A glob refused before compiling: too many wildcards to match in bounded time. */
export class GlobError extends Error {}

/** Index just past the run of `*` that starts at `start` (`start` itself if there is none). */
function runEnd(glob: string, start: number): number {
  let end = start;
  while (glob[end] === '*') end++;
  return end;
}

interface CompileState {
  wildcards: number;
}

function countWildcard(state: CompileState): void {
  state.wildcards++;
  if (state.wildcards > maxGlobWildcards) {
    throw new GlobError(
      `The glob has more than ${maxGlobWildcards} wildcards (*, ** and ?), which makes matching ` +
        `too slow. Use a simpler glob such as "*.ts" or "src/**/*.ts".`,
    );
  }
}

function globToRegexSource(glob: string, state: CompileState): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i] ?? '';
    if (ch === '\\') {
      const next = glob[i + 1];
      if (next !== undefined) {
        out += escapeChar(next);
        i++;
      } else {
        out += '\\\\';
      }
    } else if (ch === '*') {
      // Runs of stars are collapsed while compiling: each `**/` becomes `(?:[^/]*/)*` and each
      // `*` `[^/]*`, and consecutive copies of either match exactly the paths one copy matches
      // but give the regex engine that many ways to split a path between them, all of which it
      // tries when a match fails (12 consecutive `**/` took 31 s on a deep path). So
      // `**/**/` → `**/`, a trailing `**/**` → `**`, and `a**b` or `***` → `*`.
      countWildcard(state);
      const end = runEnd(glob, i);
      const atSegmentStart = i === 0 || glob[i - 1] === '/';
      if (end - i === 2 && atSegmentStart && glob[end] === '/') {
        // `**/` matches zero or more whole directories.
        let next = end + 1;
        while (runEnd(glob, next) - next === 2 && glob[next + 2] === '/') next += 3;
        if (runEnd(glob, next) - next === 2 && next + 2 === glob.length) {
          out += '.*';
          i = glob.length - 1;
        } else {
          out += '(?:[^/]*/)*';
          i = next - 1;
        }
      } else if (end - i === 2 && atSegmentStart && end === glob.length) {
        out += '.*';
        i = end - 1;
      } else {
        // `**` glued to other characters, or a run of three or more stars, behaves like `*`
        // (as in git).
        out += '[^/]*';
        i = end - 1;
      }
    } else if (ch === '?') {
      countWildcard(state);
      out += '[^/]';
    } else if (ch === '{') {
      const close = closingBrace(glob, i);
      if (close === -1) {
        out += '\\{';
      } else {
        const alternatives = splitAlternatives(glob.slice(i + 1, close)).map((alternative) =>
          globToRegexSource(alternative, state),
        );
        out += `(?:${alternatives.join('|')})`;
        i = close;
      }
    } else if (ch === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close === -1) {
        out += '\\[';
      } else {
        let body = glob.slice(i + 1, close);
        const negate = body.startsWith('!') || body.startsWith('^');
        if (negate) body = body.slice(1);
        const safeBody = body.replace(/[\\\]^]/g, (c) => `\\${c}`);
        out += negate ? `[^/${safeBody}]` : `[${safeBody}]`;
        i = close;
      }
    } else {
      out += escapeChar(ch);
    }
  }
  return out;
}

/**
 * Compiles a glob into an anchored RegExp over `/`-separated relative paths. Throws `GlobError`
 * when the glob has more than `maxGlobWildcards` wildcards (a run of stars counts once): the
 * regex backtracks polynomially in the number of wildcards, so a bound keeps it matchable.
 */
export function compileGlob(glob: string, options: GlobOptions = {}): RegExp {
  const source = globToRegexSource(glob, { wildcards: 0 });
  return new RegExp(`^${source}$`, options.caseInsensitive === true ? 'i' : '');
}

export interface PathGlob {
  readonly source: string;
  /** True when the glob names a path (contains `/`); false when it matches base names anywhere. */
  readonly anchored: boolean;
  matches(relativePath: string): boolean;
}

/**
 * A glob as a search filter: without a `/` it matches the base name at any depth (`*.ts`), with a
 * `/` it matches the whole path relative to the project root (`src/**\/*.ts`).
 */
export function createPathGlob(glob: string, options: GlobOptions = {}): PathGlob {
  let source = glob.trim();
  if (source.startsWith('./')) source = source.slice(2);
  if (source.startsWith('/')) source = source.slice(1);
  const anchored = source.includes('/');
  const regex = compileGlob(source, options);
  return {
    source,
    anchored,
    matches(relativePath: string): boolean {
      if (anchored) return regex.test(relativePath);
      const slash = relativePath.lastIndexOf('/');
      return regex.test(slash === -1 ? relativePath : relativePath.slice(slash + 1));
    },
  };
}
