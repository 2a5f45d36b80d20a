import { z } from 'zod';
import { redactSecrets } from '../redact-secrets.js';
import { GlobError } from './glob.js';
import { searchInWorker, SearchTimeoutError } from './search-runner.js';
import { SearchPatternError, type SearchMatch, type SearchResult } from './searcher.js';
import {
  defineTool,
  effectiveLimits,
  failure,
  observation,
  type ToolContext,
  type ToolObservation,
} from './types.js';

const maxContextLines = 5;

// max_results and context_lines advertise their caps to the model, but a larger value is cut to
// the cap rather than refused (the search still runs), so the cap is metadata, not a check.
export const searchTextArgs = z.strictObject({
  pattern: z
    .string()
    .min(1)
    .max(1000)
    .describe('JavaScript regular expression or plain text to find.'),
  path: z
    .string()
    .optional()
    .describe(
      'File or directory to search, relative to the project root. Default: every allowed path.',
    ),
  glob: z
    .string()
    .max(300)
    .optional()
    .describe('Only files matching this glob, e.g. "*.ts" or "src/**/*.{js,mjs}".'),
  case_sensitive: z.boolean().optional().describe('Match case exactly. Default false.'),
  max_results: z
    .number()
    .int()
    .min(1)
    .optional()
    .meta({ maximum: 500, description: 'Maximum matches to return. Default 100.' }),
  context_lines: z.number().int().min(0).optional().meta({
    maximum: maxContextLines,
    description: 'Lines of context around each match. Default 0.',
  }),
});
export type SearchTextArgs = z.infer<typeof searchTextArgs>;

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)} …[+${text.length - max} chars]`;
}

/**
 * `path:line: text` for matches and `path-line- text` for context, grep style; with context,
 * groups that do not touch are separated by `--`. Each shown line is redacted on its own so a
 * secret on a context line is caught even when the block around it is cut.
 */
function renderMatches(
  matches: readonly SearchMatch[],
  lineChars: number,
  withContext: boolean,
): { lines: string[]; redactions: number } {
  // Per file, one entry per line; a line that matches is shown as a match even when it is also
  // context of a neighbouring match.
  const byFile = new Map<string, Map<number, { text: string; match: boolean }>>();
  for (const match of matches) {
    let fileLines = byFile.get(match.path);
    if (fileLines === undefined) {
      fileLines = new Map();
      byFile.set(match.path, fileLines);
    }
    for (const context of [...match.before, ...match.after]) {
      if (!fileLines.has(context.line))
        fileLines.set(context.line, { text: context.text, match: false });
    }
    fileLines.set(match.line, { text: match.text, match: true });
  }
  const lines: string[] = [];
  let redactions = 0;
  for (const [file, fileLines] of byFile) {
    let previous = 0;
    for (const line of [...fileLines.keys()].sort((a, b) => a - b)) {
      const entry = fileLines.get(line);
      if (entry === undefined) continue;
      if (withContext && lines.length > 0 && (previous === 0 || line > previous + 1))
        lines.push('--');
      const separator = entry.match ? ':' : '-';
      // Redact before shortening: a cut could leave a secret too short for its detector.
      const redacted = redactSecrets(entry.text);
      redactions += redacted.count;
      lines.push(`${file}${separator}${line}${separator} ${shorten(redacted.text, lineChars)}`);
      previous = line;
    }
  }
  return { lines, redactions };
}

/**
 * Matches withheld for matching only a secret's hidden text go on the observation for the
 * record, never into the text: "1 match withheld" for `KEY=sk-live-P` and "0" for `KEY=sk-live-Q`
 * would answer exactly the question the redaction hides.
 */
function withheldExtra(result: SearchResult): { withheld?: number } {
  return result.withheld > 0 ? { withheld: result.withheld } : {};
}

/**
 * Where to search: the named path, the whole project for ".", or every allowed path. Every
 * default target goes through the same checks as a named path (deny list, symlinks, critical
 * roots); ones that fail are left out rather than failing the whole search.
 */
function searchTargets(
  requested: string | undefined,
  ctx: ToolContext,
): { targets: string[]; shownPath?: string } | ToolObservation {
  const trimmed = requested?.trim();
  if (requested !== undefined && trimmed !== '' && trimmed !== '.') {
    const resolved = ctx.scope.resolve(requested);
    if (!resolved.ok) return failure(resolved.code, resolved.message);
    return { targets: [resolved.relative], shownPath: resolved.relative };
  }
  if (trimmed === '.') {
    const resolved = ctx.scope.resolve('.');
    if (!resolved.ok) return failure(resolved.code, resolved.message);
    return { targets: [''] };
  }
  const targets = ctx.scope
    .defaultTargets()
    .filter((target) => target === '' || ctx.scope.resolve(target).ok);
  if (targets.length === 0) return failure('path_not_allowed', ctx.scope.describeAllowed());
  return { targets };
}

export async function executeSearchText(
  args: SearchTextArgs,
  ctx: ToolContext,
): Promise<ToolObservation> {
  const limits = effectiveLimits(ctx);
  const where = searchTargets(args.path, ctx);
  if ('ok' in where) return where;
  const { targets, shownPath } = where;

  const maxResults = Math.min(
    args.max_results ?? limits.searchDefaultResults,
    limits.searchMaxResults,
  );
  const contextLines = Math.min(args.context_lines ?? 0, maxContextLines);
  let result: SearchResult;
  try {
    // In a worker with a deadline: the pattern and glob come from the model (search-runner.ts).
    // The worker rebuilds the deny-list filter from the scope's options and withholds matches
    // that only match the secret part of a line (the redacted text must match too).
    result = await searchInWorker(
      {
        root: ctx.scope.projectRoot,
        targets,
        pattern: args.pattern,
        caseSensitive: args.case_sensitive ?? false,
        ...(args.glob !== undefined ? { glob: args.glob } : {}),
        maxResults,
        contextLines,
        maxFileBytes: limits.searchMaxFileBytes,
        respectGitignore: true,
        allowHardLinks: limits.allowHardLinks,
        scope: ctx.scope.options,
      },
      { timeoutMs: limits.searchTimeoutMs, signal: ctx.signal },
    );
  } catch (error) {
    if (error instanceof SearchPatternError) return failure('invalid_pattern', error.message);
    if (error instanceof GlobError) return failure('invalid_glob', error.message);
    if (error instanceof SearchTimeoutError) {
      return failure(
        'search_timeout',
        `The search was stopped after ${limits.searchTimeoutMs / 1000} s: the pattern or glob ` +
          `is too expensive to evaluate (a regex with nested or repeated quantifiers such as ` +
          `(\\w+\\s?)* can take exponential time). Search for a simpler literal, or narrow the ` +
          `search with path or glob.`,
      );
    }
    throw error;
  }

  const extras = shownPath !== undefined ? { path: shownPath } : {};
  const scopeNote = `${args.glob !== undefined ? ` (glob ${args.glob})` : ''} in ${shownPath ?? targets.map((t) => (t === '' ? '.' : t)).join(', ')}`;
  if (result.matches.length === 0) {
    // Zero matches is evidence too: say exactly what was searched.
    return observation(
      true,
      `0 matches for ${JSON.stringify(args.pattern)}${scopeNote} (${result.filesSearched} files searched, case ${args.case_sensitive === true ? 'sensitive' : 'insensitive'})`,
      { ...extras, matches: 0, complete: true, ...withheldExtra(result) },
    );
  }

  const rendered = renderMatches(result.matches, limits.searchLineChars, contextLines > 0);
  const fileCount = new Set(result.matches.map((match) => match.path)).size;
  const header = `${result.matches.length} matches in ${fileCount} files for ${JSON.stringify(args.pattern)}${scopeNote}`;
  const notes: string[] = [];
  if (result.truncated)
    notes.push(
      `[stopped at max_results=${maxResults}; more matches may exist — narrow with path or glob]`,
    );
  let body = rendered.lines.join('\n');
  let complete = !result.truncated;
  if (body.length > limits.searchOutputChars) {
    const cut = body.lastIndexOf('\n', limits.searchOutputChars);
    body = body.slice(0, cut > 0 ? cut : limits.searchOutputChars);
    notes.push(`[output cut at ${limits.searchOutputChars} characters; narrow the search]`);
    complete = false;
  }
  const text = [header, body, ...notes].join('\n');
  return observation(
    true,
    text,
    { ...extras, matches: result.matches.length, complete, ...withheldExtra(result) },
    rendered.redactions,
  );
}

export const searchTextTool = defineTool({
  name: 'search_text',
  toolClass: 'search',
  description:
    'Search file contents in the mission scope with a JavaScript regular expression (plain words ' +
    'work as literals). Returns "path:line: text" lines. Case-insensitive unless case_sensitive is ' +
    'true. Zero matches is a valid result. Secrets are shown as [REDACTED] and the pattern must ' +
    'match the line as shown.',
  schema: searchTextArgs,
  execute: executeSearchText,
});
