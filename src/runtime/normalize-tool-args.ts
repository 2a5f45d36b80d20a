/**
 * Maps the argument spellings open models actually produce (grep flags, `file_path`, `offset`,
 * `query`…) onto the contract arguments of each tool. Anything that cannot be mapped is reported
 * in `unsupported`; the caller then does not run the tool and asks the model to correct itself,
 * so a misunderstood call never spends budget or runs with silently different meaning.
 */

export interface NormalizedToolArgs {
  readonly args: Record<string, unknown>;
  readonly unsupported: string[];
}

const pathAliases = [
  'path',
  'file_path',
  'filepath',
  'filePath',
  'file',
  'filename',
  'root',
  'dir',
  'directory',
  'folder',
];
const pathListAliases = ['paths', 'files'];

/** Per tool: canonical argument → accepted spellings (canonical first). */
const aliasTable: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> = {
  read_file: {
    path: pathAliases,
    start_line: ['start_line', 'start', 'startLine', 'line_start', 'from_line', 'first_line'],
    end_line: ['end_line', 'end', 'endLine', 'line_end', 'to_line', 'last_line'],
  },
  // OpenCode's own edit tools (filePath, oldString, newString, replaceAll) are what the OpenCode Go
  // models are used with daily; their spellings are accepted for the contract names.
  edit_file: {
    path: pathAliases,
    old_string: ['old_string', 'oldString', 'old_str', 'old_text', 'search'],
    new_string: ['new_string', 'newString', 'new_str', 'new_text', 'replace'],
    replace_all: ['replace_all', 'replaceAll'],
  },
  write_file: {
    path: pathAliases,
    content: ['content', 'contents', 'text', 'file_text'],
  },
  delete_file: { path: pathAliases },
  search_text: {
    pattern: ['pattern', 'query', 'regex', 'search', 'text'],
    path: pathAliases,
    glob: ['glob', 'include', 'include_glob', 'file_glob', 'file_pattern'],
    case_sensitive: ['case_sensitive', 'caseSensitive'],
    max_results: ['max_results', 'maxResults', 'max_count', 'limit', 'head_limit'],
    context_lines: [
      'context_lines',
      'context',
      'output_context_lines',
      'context_line_count',
      'contextLines',
      '-C',
      'C',
    ],
  },
  list_dir: { path: pathAliases },
  git_status: {},
  git_log: { limit: ['limit', 'n', 'count', 'max_count'] },
  git_show_stat: { rev: ['rev', 'commit', 'ref', 'sha', 'revision'] },
  git_diff_stat: { path: pathAliases },
};

const integerArgs = new Set(['start_line', 'end_line', 'max_results', 'context_lines', 'limit']);
const booleanArgs = new Set(['case_sensitive']);
/** Keys that carry no meaning for our tools (we always recurse, always number lines). */
const droppedKeys = new Set(['recurse', 'recursive', 'line_number', 'line_numbers', '-n', '-r']);

function coerce(name: string, value: unknown): unknown {
  if (integerArgs.has(name) && typeof value === 'string' && /^\s*-?\d+\s*$/.test(value))
    return Number(value);
  if (booleanArgs.has(name) && typeof value === 'string') {
    const lowered = value.trim().toLowerCase();
    if (lowered === 'true') return true;
    if (lowered === 'false') return false;
  }
  return value;
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Grep-style `options`: only flags with a contract meaning are absorbed. */
function absorbGrepOptions(
  value: unknown,
  args: Record<string, unknown>,
  unsupported: string[],
): void {
  const flags = Array.isArray(value)
    ? value
    : typeof value === 'string'
      ? value.split(/\s+/)
      : [value];
  for (const flag of flags) {
    if (flag === '' || flag === undefined || flag === null) continue;
    if (flag === '-i' || flag === '--ignore-case') args['case_sensitive'] ??= false;
    else if (flag === '-s' || flag === '--case-sensitive') args['case_sensitive'] ??= true;
    else if (['-r', '--recursive', '-n', '--line-number', '-R'].includes(String(flag))) continue;
    else unsupported.push(`options:${String(flag)}`);
  }
}

function parseRaw(raw: unknown): Record<string, unknown> | null {
  let value = raw;
  if (typeof value === 'string') {
    if (value.trim() === '') return {};
    try {
      value = JSON.parse(value) as unknown;
    } catch {
      return null;
    }
  }
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) return null;
  return value as Record<string, unknown>;
}

export function normalizeToolArgs(tool: string, raw: unknown): NormalizedToolArgs {
  const input = parseRaw(raw);
  if (input === null) return { args: {}, unsupported: ['<arguments must be a JSON object>'] };
  const table = aliasTable[tool];
  if (table === undefined) return { args: { ...input }, unsupported: [] };

  const args: Record<string, unknown> = {};
  const unsupported: string[] = [];
  const aliasToCanonical = new Map<string, string>();
  for (const [canonical, aliases] of Object.entries(table)) {
    for (const alias of aliases) aliasToCanonical.set(alias, canonical);
  }

  // Canonical spellings first, so an alias never overrides the contract name.
  const entries = Object.entries(input).sort(
    ([a], [b]) => Number(!(a in table)) - Number(!(b in table)),
  );
  let offset: number | undefined;
  let limitLines: number | undefined;

  for (const [key, rawValue] of entries) {
    // Models often send explicit nulls for optional arguments; they mean "not given".
    if (rawValue === null || rawValue === undefined) continue;
    if (droppedKeys.has(key)) continue;

    if (tool === 'read_file' && (key === 'offset' || key === 'limit')) {
      const numeric = coerce('start_line', rawValue);
      if (typeof numeric !== 'number' || !Number.isInteger(numeric)) {
        unsupported.push(key);
        continue;
      }
      if (key === 'offset') offset = numeric;
      else limitLines = numeric;
      continue;
    }
    if (tool === 'search_text' && key === 'options') {
      absorbGrepOptions(rawValue, args, unsupported);
      continue;
    }
    if (tool === 'search_text' && ['ignore_case', 'case_insensitive', '-i', 'i'].includes(key)) {
      if (typeof coerce('case_sensitive', rawValue) === 'boolean') {
        args['case_sensitive'] ??= !(coerce('case_sensitive', rawValue) as boolean);
      } else unsupported.push(key);
      continue;
    }

    let canonical = aliasToCanonical.get(key);
    let value: unknown = rawValue;
    if (canonical === undefined && pathListAliases.includes(key) && 'path' in table) {
      // `paths: [a, b]` → the first path; our tools take one path per call.
      canonical = 'path';
      if (Array.isArray(rawValue)) {
        if (rawValue.length > 1)
          unsupported.push(`${key} (only one path per call; got ${rawValue.length})`);
        value = rawValue[0];
      }
    }
    if (canonical === undefined) {
      unsupported.push(key);
      continue;
    }
    value = coerce(canonical, value);
    if (canonical in args && !sameValue(args[canonical], value)) {
      unsupported.push(`${key} (conflicts with ${canonical})`);
      continue;
    }
    args[canonical] = value;
  }

  if (offset !== undefined || limitLines !== undefined) {
    // `offset` is the first line to read (1-based; 0 is taken as the file start), `limit` a count.
    const start = Math.max(1, offset ?? 1);
    if (!('start_line' in args)) args['start_line'] = start;
    if (limitLines !== undefined && !('end_line' in args)) {
      args['end_line'] = (args['start_line'] as number) + Math.max(1, limitLines) - 1;
    }
  }
  return { args, unsupported };
}
