import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPathScope, type PathScopeOptions } from '../../src/runtime/path-scope.js';
import { runTool } from '../../src/runtime/tools/registry.js';
import {
  type ToolContext,
  type ToolLimits,
  type ToolObservation,
} from '../../src/runtime/tools/types.js';

/**
 * The three findings of the tool-layer security review, each as the attack a model would make:
 * a catastrophic regex or glob (the daemon must stay alive and the search must stop), git tools
 * naming paths outside the mission's scope, and search counts that confirm a redacted secret.
 */

// Built at run time so no scanner mistakes this test for a leaked credential.
const secretValue = `sk-live-P${'FAKEfake0123456789'.repeat(2)}`;
const longDir = 'aaaaaaaaaaaa/bbbbbbbbbbbbbbbb/cccccccccccccccccccc/dddddddddddddddddddd';
const megacorp = 'acquisition-target-megacorp-q3.md';
const seen: ToolObservation[] = [];
let root: string;

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

function context(
  overrides: Partial<PathScopeOptions> = {},
  limits: Partial<ToolLimits> = {},
  signal: AbortSignal = new AbortController().signal,
): ToolContext {
  const scope = createPathScope({
    projectRoot: root,
    allowedPaths: [],
    allowedRoots: ['src/'],
    forbiddenRoots: ['private'],
    criticalRoots: [],
    criticalReadAllowed: false,
    criticalReason: null,
    ...overrides,
  });
  return { scope, projectRoot: root, signal, limits };
}

async function call(tool: string, args: unknown, ctx: ToolContext): Promise<ToolObservation> {
  const result = await runTool(tool, args, ctx);
  seen.push(result);
  return result;
}

beforeAll(() => {
  root = realpathSync(mkdtempSync(path.join(tmpdir(), 'runtime-hardening-')));
  git('init', '-q', '-b', 'main');
  git('config', 'user.email', 'test@example.com');
  git('config', 'user.name', 'Test');
  write('src/app.ts', 'export const app = 1;\n');
  write(`src/${longDir}/deep-module-with-a-long-name.ts`, 'export const deep = 1;\n');
  write(`private/${longDir}/${megacorp}`, '# Plans\n');
  write('outside/notes.md', 'notes\n');
  write('src/internal/hidden.ts', 'export const hidden = 1;\n');
  write('src/moving.ts', 'export const moving = 1;\n');
  write('private/leaving.md', 'confidential\n');
  write('src/auth/old-session.ts', 'export const ttl = 1;\n');
  write('src/auth/token-store.ts', 'export const store = 1;\n');
  write('src/config.sh', `# deploy settings\nOPENCODE_GO_API_KEY=${secretValue}\nREGION=eu\n`);
  // Deep enough that twelve stacked `**/` segments backtrack for a long time when not collapsed.
  write(`src/${'d/'.repeat(30)}leaf.txt`, 'deep leaf\n');
  write('src/words.txt', `${'lorem ipsum dolor sit amet '.repeat(6).trim()}!\n`);
  git('add', '-A');
  git('commit', '-q', '-m', 'initial commit');
  // A commit that touches only the forbidden root, with a telling subject.
  write(`private/${longDir}/${megacorp}`, '# Plans\nbuy megacorp\n');
  git('commit', '-q', '-am', 'megacorp deal terms');
  // A commit that touches everything, and renames across the scope boundary.
  write('src/app.ts', 'export const app = 2;\n');
  write(`src/${longDir}/deep-module-with-a-long-name.ts`, 'export const deep = 2;\n');
  write(`private/${longDir}/${megacorp}`, '# Plans\nbuy megacorp now\n');
  write('outside/notes.md', 'notes 2\n');
  git('mv', 'private/leaving.md', 'src/arrived.md');
  git('mv', 'src/moving.ts', 'outside/moved-out.ts');
  git('mv', 'src/auth/old-session.ts', 'src/session.ts');
  git('commit', '-q', '-am', 'wide change');
  // Unstaged changes everywhere, and a staged rename out of the scope.
  write('src/app.ts', 'export const app = 3;\n');
  write(`src/${longDir}/deep-module-with-a-long-name.ts`, 'export const deep = 3;\n');
  write(`private/${longDir}/${megacorp}`, '# Plans\nbuy megacorp today\n');
  write('outside/notes.md', 'notes 3\n');
  write('src/internal/hidden.ts', 'export const hidden = 2;\n');
  write('src/untracked.ts', 'export {};\n');
  write('outside/untracked.md', 'x\n');
  git('mv', 'src/arrived.md', 'outside/left-again.md');
  git('mv', 'src/auth/token-store.ts', 'src/token-store.ts');
});

afterAll(() => {
  for (const observation of seen) {
    expect(observation.text).not.toContain(secretValue);
    expect(observation.text).not.toContain('megacorp');
  }
  rmSync(root, { recursive: true, force: true });
});

describe('git tools stay inside the mission scope', () => {
  const scoped = (): ToolContext => context({ forbiddenRoots: ['private', 'src/internal'] });

  function expectInScope(text: string): void {
    expect(text).not.toContain('megacorp');
    expect(text).not.toContain('.../');
    expect(text).not.toContain('outside/');
    expect(text).not.toContain('private/');
    expect(text).not.toContain('src/internal');
  }

  it('git_status lists only allowed, non-forbidden paths', async () => {
    const result = await call('git_status', {}, scoped());
    expect(result.ok).toBe(true);
    expect(result.text).toContain(' M src/app.ts');
    expect(result.text).toContain(`src/${longDir}/deep-module-with-a-long-name.ts`);
    expect(result.text).toContain('?? src/untracked.ts');
    expectInScope(result.text);
    // A rename across the scope boundary shows only its in-scope side (git limits by pathspec).
    expect(result.text).toContain('D  src/arrived.md');
    expect(result.text).not.toContain('left-again');
  });

  it('git_diff_stat shows full in-scope paths and nothing else', async () => {
    const result = await call('git_diff_stat', {}, scoped());
    expect(result.ok).toBe(true);
    expect(result.text).toMatch(/ src\/app\.ts +\| +2 \+-/);
    // Never abbreviated: `--stat` would print `.../dddd…/deep-module-with-a-long-name.ts`.
    expect(result.text).toContain(` src/${longDir}/deep-module-with-a-long-name.ts `);
    expect(result.text).toContain('2 files changed, 2 insertions(+), 2 deletions(-)');
    expectInScope(result.text);
  });

  it('git_show_stat shows only in-scope files, filtering renames on both names', async () => {
    const result = await call('git_show_stat', {}, scoped());
    expect(result.ok).toBe(true);
    expect(result.text).toContain('wide change');
    expect(result.text).toContain(` src/${longDir}/deep-module-with-a-long-name.ts `);
    expect(result.text).toMatch(/ src\/app\.ts +\| +2 \+-/);
    expectInScope(result.text);
    // Renames across the scope boundary show only their in-scope side.
    expect(result.text).toMatch(/ src\/arrived\.md +\| +1 \+/);
    expect(result.text).not.toContain('leaving');
    expect(result.text).not.toContain('moved-out');
  });

  it('hides a rename when either name fails the scope check (critical roots)', async () => {
    // Pathspecs cannot express critical roots, so git reports these renames whole; the final
    // filter must check both names.
    const critical = context({ allowedRoots: ['.'], criticalRoots: ['src/auth'] });
    const show = await call('git_show_stat', {}, critical);
    expect(show.text).toContain('src/app.ts');
    expect(show.text).not.toContain('session');
    expect(show.text).toContain('entries outside the mission scope or on the deny list hidden');
    const status = await call('git_status', {}, critical);
    expect(status.text).toContain('src/app.ts');
    expect(status.text).not.toContain('token-store');
    // Under a plain grant the same renames are in scope and shown with both names.
    const plain = await call('git_show_stat', {}, context({ allowedRoots: ['.'] }));
    expect(plain.text).toContain('src/auth/old-session.ts => src/session.ts');
  });

  it('git_log lists only commits that touch the scope', async () => {
    const result = await call('git_log', { limit: 10 }, scoped());
    expect(result.text).toContain('wide change');
    expect(result.text).toContain('initial commit');
    expect(result.text).not.toContain('megacorp');
  });

  it('keeps forbidden roots out under a whole-project grant, globs included', async () => {
    const broad = context({ allowedRoots: ['.'], forbiddenRoots: ['private', 'outside/*.md'] });
    const diff = await call('git_diff_stat', {}, broad);
    expect(diff.text).toContain('src/app.ts');
    expect(diff.text).toContain('src/internal/hidden.ts');
    expect(diff.text).not.toContain('megacorp');
    expect(diff.text).not.toContain('notes.md');
    const status = await call('git_status', {}, broad);
    expect(status.text).toContain('src/app.ts');
    expect(status.text).not.toContain('private');
    expect(status.text).not.toContain('untracked.md');
    expect((await call('git_log', { limit: 10 }, broad)).text).not.toContain('megacorp');
  });

  it('an explicit path is still filtered by forbidden roots', async () => {
    const result = await call('git_diff_stat', { path: 'src' }, scoped());
    expect(result.text).toContain('src/app.ts');
    expectInScope(result.text);
  });
});

describe('search_text does not confirm redacted secrets', () => {
  it('prefix probes find nothing, and say nothing that differs from a wrong guess', async () => {
    const right = await call(
      'search_text',
      { pattern: 'OPENCODE_GO_API_KEY=sk-live-P' },
      context(),
    );
    const wrong = await call(
      'search_text',
      { pattern: 'OPENCODE_GO_API_KEY=sk-live-Q' },
      context(),
    );
    expect(right).toMatchObject({ ok: true, matches: 0, withheld: 1 });
    expect(wrong).toMatchObject({ ok: true, matches: 0 });
    expect(wrong.withheld).toBeUndefined();
    expect(right.text.replace('sk-live-P', 'sk-live-Q')).toBe(wrong.text);
    for (const pattern of ['sk-live', 'KEY=sk', `=${secretValue.slice(0, 12)}`, 'P.?FAKE']) {
      expect((await call('search_text', { pattern }, context())).matches).toBe(0);
    }
    // The byte-literal fast path (case-sensitive plain text) withholds too.
    const literal = await call(
      'search_text',
      { pattern: 'sk-live-PFAKE', case_sensitive: true },
      context(),
    );
    expect(literal.matches).toBe(0);
  });

  it('still finds the line by the variable name, shown redacted', async () => {
    const result = await call('search_text', { pattern: 'OPENCODE_GO_API_KEY' }, context());
    expect(result.matches).toBe(1);
    expect(result.text).toContain('src/config.sh:2: OPENCODE_GO_API_KEY=[REDACTED]');
    const wide = await call('search_text', { pattern: 'KEY=.*' }, context());
    expect(wide.matches).toBe(1);
    const withContext = await call(
      'search_text',
      { pattern: 'REGION', context_lines: 1 },
      context(),
    );
    expect(withContext.text).toContain('src/config.sh-2- OPENCODE_GO_API_KEY=[REDACTED]');
  });
});

describe('expensive patterns cannot freeze the daemon', () => {
  // Nested quantifiers over a line of words that ends in `!`: backtracking is exponential.
  const redos = '^(\\w+\\s?)*$';

  it('stops a catastrophic regex with search_timeout, and the next search works', async () => {
    // Warm the worker pool first so the deadline covers the regex, not the worker start.
    expect((await call('search_text', { pattern: 'lorem' }, context())).matches).toBe(1);
    const result = await call(
      'search_text',
      { pattern: redos, path: 'src/words.txt' },
      context({}, { searchTimeoutMs: 300 }),
    );
    expect(result).toMatchObject({ ok: false, code: 'search_timeout' });
    expect(result.text).toMatch(/too expensive/);
    expect(result.text).toMatch(/simpler literal/);
    expect((await call('search_text', { pattern: 'dolor' }, context())).matches).toBe(1);
  });

  it('stops on abort', async () => {
    const controller = new AbortController();
    const pending = runTool(
      'search_text',
      { pattern: redos, path: 'src/words.txt' },
      context({}, {}, controller.signal),
    );
    controller.abort(new Error('mission cancelled'));
    await expect(pending).rejects.toThrow('mission cancelled');
  });

  it('collapses repeated ** and refuses globs with too many wildcards', async () => {
    const stacked = await call(
      'search_text',
      { pattern: 'deep', glob: `${'**/'.repeat(12)}zz` },
      context({}, { searchTimeoutMs: 5_000 }),
    );
    expect(stacked).toMatchObject({ ok: true, matches: 0 });
    const tooMany = await call(
      'search_text',
      { pattern: 'deep', glob: '*a'.repeat(21) },
      context(),
    );
    expect(tooMany).toMatchObject({ ok: false, code: 'invalid_glob' });
  });
});

describe('the compiled search worker', () => {
  // Under vitest the worker runs from TypeScript through a transpiling hook; the daemon runs the
  // compiled `search-worker.js` next to `search-runner.js`. Build the runtime once to check that
  // path too (into node_modules/.cache, so packages resolve and dist/ is left alone).
  const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  const outDir = path.join(repoRoot, 'node_modules', '.cache', `runtime-tools-dist-${process.pid}`);
  let built: { runTool: typeof runTool };

  beforeAll(async () => {
    // tsc exits non-zero on type errors elsewhere in the tree but still emits every file.
    spawnSync(
      process.execPath,
      [
        path.join(repoRoot, 'node_modules/typescript/bin/tsc'),
        '-p',
        'tsconfig.build.json',
        '--outDir',
        outDir,
      ],
      { cwd: repoRoot, stdio: 'ignore' },
    );
    built = (await import(pathToFileURL(path.join(outDir, 'runtime/index.js')).href)) as {
      runTool: typeof runTool;
    };
  }, 120_000);

  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('searches, withholds secret-only matches and times out from the built .js files', async () => {
    const found = await built.runTool('search_text', { pattern: 'OPENCODE_GO_API_KEY' }, context());
    seen.push(found);
    expect(found.text).toContain('src/config.sh:2: OPENCODE_GO_API_KEY=[REDACTED]');
    const probe = await built.runTool('search_text', { pattern: 'KEY=sk-live-P' }, context());
    seen.push(probe);
    expect(probe).toMatchObject({ matches: 0, withheld: 1 });
    const stopped = await built.runTool(
      'search_text',
      { pattern: '^(\\w+\\s?)*$', path: 'src/words.txt' },
      context({}, { searchTimeoutMs: 300 }),
    );
    expect(stopped).toMatchObject({ ok: false, code: 'search_timeout' });
  });
});
