import picomatch from 'picomatch';

/**
 * Globs for search filters, `.gitignore` lines and forbidden roots, matched by `picomatch`:
 * `*` (any run inside one path segment), `**` (any number of segments), `?`, `{a,b}` (may
 * nest), `[abc]` / `[!abc]` classes and `\x` escapes. Dot files match like any other name (a
 * search or a deny rule must not skip `.hidden`). Two things are ours, both about bounded time
 * on model-supplied globs: runs of stars are collapsed first, and a glob with too many wildcards
 * is refused.
 */

export interface GlobOptions {
  readonly caseInsensitive?: boolean;
}

/** More wildcards than this make a glob invalid (see `compileGlob`). */
export const maxGlobWildcards = 20;

/** A glob refused before compiling: too many wildcards to match in bounded time. */
export class GlobError extends Error {}

/**
 * Collapses star runs that mean the same as one copy: consecutive `**` segments give the regex
 * engine that many ways to split a path, all tried when a match fails (12 stacked `**` took 31 s
 * on a deep path). So `**\/**\/` → `**\/`, a trailing `**\/**` → `**`, `a**b` and `***` → `*`
 * (as git reads them). `[!…]` is spelled `[^…]`, which picomatch reads as negation.
 */
function normaliseGlob(glob: string): { text: string; wildcards: number } {
  let out = '';
  let wildcards = 0;
  for (let index = 0; index < glob.length; index++) {
    const char = glob[index] ?? '';
    if (char === '\\') {
      out += glob.slice(index, index + 2);
      index++;
      continue;
    }
    if (char === '[' && glob[index + 1] === '!') {
      out += '[^';
      index++;
      continue;
    }
    if (char === '?') wildcards++;
    if (char !== '*') {
      out += char;
      continue;
    }
    let end = index;
    while (glob[end] === '*') end++;
    wildcards++;
    const segmentStart = index === 0 || glob[index - 1] === '/';
    const wholeSegment =
      end - index === 2 && segmentStart && (end === glob.length || glob[end] === '/');
    if (!wholeSegment) {
      out += '*';
      index = end - 1;
      continue;
    }
    // A `**` segment: skip the ones that follow it directly.
    let next = end;
    while (glob.startsWith('/**', next) && (next + 3 === glob.length || glob[next + 3] === '/'))
      next += 3;
    out += '**';
    index = next - 1;
  }
  return { text: out, wildcards };
}

/**
 * Compiles a glob into an anchored RegExp over `/`-separated relative paths. Throws `GlobError`
 * when the glob has more than `maxGlobWildcards` wildcards (a run of stars counts once): the
 * regex backtracks polynomially in the number of wildcards, so a bound keeps it matchable.
 */
export function compileGlob(glob: string, options: GlobOptions = {}): RegExp {
  const { text, wildcards } = normaliseGlob(glob);
  if (wildcards > maxGlobWildcards) {
    throw new GlobError(
      `The glob has more than ${maxGlobWildcards} wildcards (*, ** and ?), which makes matching ` +
        `too slow. Use a simpler glob such as "*.ts" or "src/**/*.ts".`,
    );
  }
  return picomatch.makeRe(text, {
    dot: true,
    nocase: options.caseInsensitive === true,
    windows: false,
  });
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
