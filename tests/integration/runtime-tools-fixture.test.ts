import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EvidenceLedger } from '../../src/runtime/evidence-ledger.js';
import { normalizeToolArgs } from '../../src/runtime/normalize-tool-args.js';
import { createPathScope } from '../../src/runtime/path-scope.js';
import { runTool, toolDefinitions } from '../../src/runtime/tools/registry.js';
import { type ToolContext, type ToolObservation } from '../../src/runtime/tools/types.js';

// Built at run time so no scanner mistakes this test for a leaked credential.
const fakeSecret = `sk-${'FAKEfake0123456789'.repeat(2)}`;
const seen: ToolObservation[] = [];
let root: string;
let outside: string;

function write(relative: string, content: string): void {
  const file = path.join(root, relative);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
}

function git(...args: string[]): string {
  return execFileSync('git', args, {
    cwd: root,
    env: { PATH: process.env['PATH'] ?? '', HOME: root, GIT_CONFIG_NOSYSTEM: '1' },
  }).toString();
}

function context(overrides: Partial<Parameters<typeof createPathScope>[0]> = {}): ToolContext {
  const scope = createPathScope({
    projectRoot: root,
    allowedPaths: ['README.md', '.env'],
    allowedRoots: ['src', 'docs'],
    forbiddenRoots: [],
    criticalRoots: ['src/auth/'],
    criticalReadAllowed: false,
    criticalReason: null,
    ...overrides,
  });
  return { scope, projectRoot: root, signal: new AbortController().signal };
}

/** Normalises like the loop will, runs the tool, and keeps every observation for the leak check. */
async function call(
  tool: string,
  rawArgs: unknown,
  ctx: ToolContext = context(),
): Promise<ToolObservation> {
  const { args, unsupported } = normalizeToolArgs(tool, rawArgs);
  expect(unsupported).toEqual([]);
  const result = await runTool(tool, args, ctx);
  seen.push(result);
  return result;
}

beforeAll(() => {
  root = realpathSync(mkdtempSync(path.join(tmpdir(), 'runtime-tools-')));
  outside = realpathSync(mkdtempSync(path.join(tmpdir(), 'runtime-outside-')));
  writeFileSync(path.join(outside, 'secret.txt'), `OPENCODE_GO_API_KEY=${fakeSecret}\n`);
  git('init', '-q', '-b', 'main');
  git('config', 'user.email', 'test@example.com');
  git('config', 'user.name', 'Test');
  write('README.md', '# Fixture\n');
  write('.env', `OPENCODE_GO_API_KEY=${fakeSecret}\n`);
  write('.gitignore', 'build/\n');
  write(
    'src/app.ts',
    Array.from({ length: 30 }, (_, i) => `export const value${i + 1} = ${i + 1};`).join('\n') +
      '\n',
  );
  write(
    'src/server.ts',
    'import { createServer } from "node:http";\nexport function start() {\n  return createServer();\n}\n',
  );
  write(
    'src/leaky.ts',
    `// left here by mistake\nconst key = "${fakeSecret}";\nexport default key;\n`,
  );
  write('src/auth/session.ts', 'export const sessionTtl = 3600;\n');
  write('docs/notes.md', 'Notes about createServer usage.\n');
  write(
    'src/big.txt',
    Array.from({ length: 5000 }, (_, i) => `line ${i + 1} ${'x'.repeat(40)}`).join('\n') + '\n',
  );
  write('src/data.bin', '\u0000\u0001binary');
  write('build/out.js', 'createServer();\n');
  git('add', '-A');
  git('commit', '-q', '-m', 'initial commit');
  write(
    'src/server.ts',
    'import { createServer } from "node:http";\nexport function start() {\n  return createServer(() => {});\n}\n',
  );
  git('commit', '-q', '-am', 'server handler');
  // Unstaged changes, including one to the denied .env.
  write('src/app.ts', 'export const value1 = 100;\n');
  write('.env', `OPENCODE_GO_API_KEY=${fakeSecret}\nEXTRA=1\n`);
  write('src/new-file.ts', 'export {};\n');
  symlinkSync(path.join(outside, 'secret.txt'), path.join(root, 'src/escape.txt'));
  symlinkSync(path.join(root, '.env'), path.join(root, 'src/env-link'));
});

afterAll(() => {
  // The fake key must never reach the model, through any tool.
  for (const observation of seen) expect(observation.text).not.toContain(fakeSecret);
  expect(seen.length).toBeGreaterThan(20);
  rmSync(root, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

describe('read_file', () => {
  it('returns numbered lines, the whole file, and metadata', async () => {
    const result = await call('read_file', { path: 'src/server.ts' });
    expect(result.ok).toBe(true);
    expect(result.text.split('\n')[0]).toBe('src/server.ts: lines 1-4 of 4 (whole file)');
    expect(result.text).toContain('   1| import { createServer } from "node:http";');
    expect(result).toMatchObject({
      path: 'src/server.ts',
      lineRange: [1, 4],
      totalLines: 4,
      complete: true,
    });
    expect(result.bytes).toBe(Buffer.byteLength(result.text));
  });

  it('reads 1-based inclusive ranges and validates them', async () => {
    const result = await call('read_file', { file_path: 'src/big.txt', offset: 10, limit: 3 });
    expect(result.lineRange).toEqual([10, 12]);
    expect(result.complete).toBe(false);
    expect(result.text).toContain('  10| line 10 ');
    expect(result.text).not.toContain('line 13 ');
    expect(
      (await call('read_file', { path: 'src/big.txt', start_line: 9, end_line: 2 })).code,
    ).toBe('invalid_range');
    expect((await call('read_file', { path: 'src/big.txt', start_line: 6000 })).code).toBe(
      'invalid_range',
    );
  });

  it('truncates at the read cap and says how to continue', async () => {
    const result = await call('read_file', { path: 'src/big.txt' });
    expect(result.ok).toBe(true);
    expect(result.complete).toBe(false);
    const end = result.lineRange?.[1] ?? 0;
    expect(end).toBeLessThan(5000);
    expect(result.text).toContain(`Read the rest with start_line=${end + 1}`);
    expect(result.text.length).toBeLessThan(100_500);
  });

  it('refuses binary files and directories', async () => {
    expect((await call('read_file', { path: 'src/data.bin' })).code).toBe('binary_file');
    expect((await call('read_file', { path: 'src' })).code).toBe('not_a_file');
  });

  it('refuses denied, escaping and critical paths with a safe message', async () => {
    const env = await call('read_file', { path: '.env' });
    expect(env).toMatchObject({ ok: false, code: 'path_denied' });
    expect((await call('read_file', { path: 'src/env-link' })).code).toBe('path_denied');
    const escape = await call('read_file', { path: 'src/escape.txt' });
    expect(escape.code).toBe('symlink_escape');
    expect(escape.text).not.toContain(outside);
    expect((await call('read_file', { path: 'src/../.env' })).code).toBe('path_traversal');
    expect((await call('read_file', { path: 'src/auth/session.ts' })).code).toBe(
      'critical_path_denied',
    );
    expect((await call('read_file', { path: 'build/out.js' })).code).toBe('path_not_allowed');
  });

  it('redacts secrets in allowed files', async () => {
    const result = await call('read_file', { path: 'src/leaky.ts' });
    expect(result.ok).toBe(true);
    expect(result.text).toContain('const key = "[REDACTED]";');
    expect(result.redactions).toBe(1);
  });
});

describe('search_text', () => {
  it('searches every allowed path by default, case-insensitively, skipping denied and ignored files', async () => {
    const result = await call('search_text', { pattern: 'CREATESERVER' });
    expect(result.ok).toBe(true);
    expect(result.text.split('\n')[0]).toMatch(/^3 matches in 2 files/);
    expect(result.text).toContain('src/server.ts:1: import { createServer } from "node:http";');
    expect(result.text).toContain('docs/notes.md:1: Notes about createServer usage.');
    expect(result.text).not.toContain('build/out.js');
    expect(result.matches).toBe(3);
  });

  it('supports regex, glob, path, context and max_results', async () => {
    const regex = await call('search_text', {
      pattern: 'value(1|2)\\b',
      path: 'src',
      case_sensitive: true,
    });
    expect(regex.text).toContain('src/app.ts:1: export const value1 = 100;');
    const globbed = await call('search_text', { query: 'createServer', include: '*.md' });
    expect(globbed.text).toContain('1 matches in 1 files');
    const withContext = await call('search_text', {
      pattern: 'return',
      path: 'src/server.ts',
      context_lines: 1,
    });
    expect(withContext.text).toContain('src/server.ts-2- export function start() {');
    expect(withContext.text).toContain('src/server.ts:3:   return createServer(() => {});');
    expect(withContext.text).toContain('src/server.ts-4- }');
    const limited = await call('search_text', {
      pattern: 'line',
      path: 'src/big.txt',
      max_results: 3,
    });
    expect(limited.matches).toBe(3);
    expect(limited.text).toContain('stopped at max_results=3');
  });

  it('reports zero matches as valid evidence and rejects bad regexes', async () => {
    const none = await call('search_text', { pattern: 'definitelyNotPresent' });
    expect(none).toMatchObject({ ok: true, matches: 0 });
    expect(none.text).toMatch(/^0 matches for "definitelyNotPresent"/);
    expect((await call('search_text', { pattern: 'foo(' })).code).toBe('invalid_pattern');
  });

  it('never shows secrets or denied files', async () => {
    // `sk-` matches only inside the secret, so the match is withheld (the pattern must match
    // the redacted line); text around the secret still finds the line, shown redacted.
    const probe = await call('search_text', { pattern: 'sk-', path: 'src' });
    expect(probe).toMatchObject({ ok: true, matches: 0, withheld: 1 });
    expect(probe.text).not.toContain('leaky');
    const result = await call('search_text', { pattern: 'const key', path: 'src' });
    expect(result.text).toContain('src/leaky.ts:2: const key = "[REDACTED]";');
    const broad = await call(
      'search_text',
      { pattern: 'OPENCODE_GO_API_KEY' },
      context({ allowedRoots: ['.'] }),
    );
    expect(broad.matches).toBe(0);
    expect((await call('search_text', { pattern: 'x', path: '.env' })).code).toBe('path_denied');
    // `.env` is listed in allowed_paths, but the deny list wins for the default search scope too.
    const defaults = await call('search_text', { pattern: 'EXTRA' });
    expect(defaults.matches).toBe(0);
    expect(defaults.text).not.toContain('.env');
  });
});

describe('list_dir', () => {
  it('lists sorted entries with sizes and hides denied ones', async () => {
    const result = await call('list_dir', { path: '.' }, context({ allowedRoots: ['.'] }));
    expect(result.ok).toBe(true);
    const lines = result.text.split('\n');
    expect(lines[0]).toContain('hidden by the deny list');
    expect(lines).toContain('README.md (10 bytes)');
    expect(lines).toContain('src/');
    expect(result.text).not.toMatch(/^\.env/m);
    expect(result.text).not.toMatch(/^\.git\//m);
    const src = await call('list_dir', { dir: 'src' });
    expect(src.text).toContain('app.ts (');
    expect(src.text).toContain('escape.txt@ (symlink)');
    expect(src.text).not.toContain('auth/');
    expect((await call('list_dir', { path: 'src/app.ts' })).code).toBe('not_a_directory');
  });
});

describe('git tools', () => {
  it('git_status shows changes without denied paths', async () => {
    const result = await call('git_status', {});
    expect(result.ok).toBe(true);
    expect(result.text).toContain(' M src/app.ts');
    expect(result.text).toContain('?? src/new-file.ts');
    expect(result.text).not.toContain('.env');
  });

  it('git_log lists commits with a clamped limit', async () => {
    const result = await call('git_log', { n: 50 });
    expect(result.text.split('\n')[0]).toBe('$ git log --oneline -n20');
    expect(result.text).toContain('server handler');
    expect(result.text).toContain('initial commit');
    const one = await call('git_log', { limit: 1 });
    expect(one.text).not.toContain('initial commit');
  });

  it('git_show_stat shows a commit and validates rev', async () => {
    const head = await call('git_show_stat', {});
    expect(head.text).toContain('server handler');
    expect(head.text).toContain('src/server.ts');
    const first = await call('git_show_stat', { rev: 'HEAD~1' });
    expect(first.text).toContain('initial commit');
    expect(first.text).not.toContain('.env');
    expect((await call('git_show_stat', { rev: '--output=/tmp/x' })).code).toBe('invalid_rev');
    expect((await call('git_show_stat', { rev: 'HEAD;rm' })).code).toBe('invalid_rev');
    expect((await call('git_show_stat', { rev: 'no-such-branch' })).code).toBe('git_failed');
  });

  it('git_diff_stat summarises unstaged changes, scoped and filtered', async () => {
    const all = await call('git_diff_stat', {});
    expect(all.text).toContain('src/app.ts');
    expect(all.text).not.toContain('.env');
    const scoped = await call('git_diff_stat', { path: 'src/app.ts' });
    expect(scoped.text).toContain('src/app.ts');
    expect((await call('git_diff_stat', { path: '.env' })).code).toBe('path_denied');
  });

  it('explains when the project is not a git repository', async () => {
    const plain = realpathSync(mkdtempSync(path.join(tmpdir(), 'runtime-nogit-')));
    try {
      const scope = createPathScope({
        projectRoot: plain,
        allowedPaths: [],
        allowedRoots: ['.'],
        forbiddenRoots: [],
        criticalRoots: [],
        criticalReadAllowed: false,
        criticalReason: null,
      });
      const result = await runTool(
        'git_status',
        {},
        { scope, projectRoot: plain, signal: new AbortController().signal },
      );
      expect(result).toMatchObject({ ok: false, code: 'not_a_git_repo' });
    } finally {
      rmSync(plain, { recursive: true, force: true });
    }
  });
});

describe('tool registry and ledger together', () => {
  it('offers the tools each class allows', () => {
    expect(toolDefinitions(['read']).map((d) => d.function.name)).toEqual(['read_file']);
    expect(toolDefinitions(['search', 'list', 'safe_git']).map((d) => d.function.name)).toEqual([
      'search_text',
      'list_dir',
      'git_status',
      'git_log',
      'git_show_stat',
      'git_diff_stat',
    ]);
    const read = toolDefinitions(['read'])[0]!;
    expect(read.type).toBe('function');
    expect(read.function.parameters).toMatchObject({ type: 'object', required: ['path'] });
  });

  it('rejects arguments outside the contract', async () => {
    // The dispatcher and runTool validate the same way: an argument outside the contract is unsupported.
    const result = await runTool('read_file', { path: 'src/app.ts', encoding: 'utf8' }, context());
    expect(result).toMatchObject({ ok: false, code: 'unsupported_args' });
    expect((await runTool('write_file', {}, context())).code).toBe('unknown_tool');
  });

  it('issues refs and serves repeated reads from cache', async () => {
    const ledger = new EvidenceLedger();
    const read = await call('read_file', { path: 'src/server.ts' });
    expect(ledger.record(1, 'read_file', { path: 'src/server.ts' }, read).refs).toEqual([
      'cmd:1',
      'file:src/server.ts#L1-L4',
    ]);
    const search = await call('search_text', { pattern: 'start' });
    expect(ledger.record(2, 'search_text', { pattern: 'start' }, search).refs).toEqual(['cmd:2']);
    expect(ledger.hasRef('file:src/server.ts#L2-L3')).toBe(true);
    expect(ledger.isRepeat('search_text', { pattern: 'start' })).toBe(true);
    const cached = ledger.lookupRead('src/server.ts', { start_line: 2, end_line: 3 });
    expect(cached?.code).toBe('cache_hit');
    expect(cached?.text).toContain('   2| export function start() {');
  });
});
