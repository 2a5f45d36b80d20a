import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { criticalRoots } from '../../src/mission/index.js';
import {
  StagedWorkspace,
  type EditResult,
  type StagedWorkspaceOptions,
} from '../../src/implementation/index.js';
import { hashTree, sha256, TempDirs, writeTree } from '../support/implementation-fixtures.js';

const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

let root: string;
let outside: string;

const base = {
  'src/app.ts':
    'export function add(a: number, b: number) {\n  return a + b;\n}\n\nexport const answer = 42;\n',
  'src/dup.ts': 'log();\nwork();\nlog();\nrest();\nlog();\n',
  'src/crlf.ts': 'first\r\nsecond\r\n',
  'src/auth/token.ts': 'export const ttl = 60;\n',
  'docs/guide.md': '# Guide\n',
  'README.md': 'readme\n',
  '.env': 'SECRET=1\n',
  'src/.env.local': 'X=1\n',
};

beforeEach(() => {
  root = dirs.make('staged-root');
  outside = dirs.make('staged-outside');
  writeTree(root, base);
  writeTree(outside, { 'target.ts': 'outside\n' });
  mkdirSync(path.join(root, '.git'));
  writeFileSync(path.join(root, '.git', 'config'), '[core]\n');
});

function workspace(overrides: Partial<StagedWorkspaceOptions> = {}): StagedWorkspace {
  return new StagedWorkspace({
    root,
    ownedPaths: ['src/', 'README.md', 'new/'],
    allowDeletions: false,
    criticalRoots,
    criticalWriteAllowed: false,
    ...overrides,
  });
}

function read(relative: string): string {
  return readFileSync(path.join(root, relative), 'utf8');
}

function failure(result: EditResult): Extract<EditResult, { ok: false }> {
  if (result.ok) throw new Error(`expected a failure, got ${result.message}`);
  return result;
}

describe('StagedWorkspace edits', () => {
  it('replaces exactly one occurrence, counts lines, and keeps the base for the diff', async () => {
    const ws = workspace();
    const result = await ws.edit(
      'src/app.ts',
      '  return a + b;\n',
      '  const sum = a + b;\n  return sum;\n',
    );
    expect(result).toMatchObject({ ok: true, path: 'src/app.ts', added: 2, removed: 1 });
    expect(read('src/app.ts')).toContain('const sum = a + b;\n  return sum;');
    await ws.edit('src/app.ts', 'answer = 42', 'answer = 43');
    const [change, ...rest] = ws.changes();
    expect(rest).toEqual([]);
    expect(change?.change).toBe('modify');
    expect(change?.base?.toString('utf8')).toBe(base['src/app.ts']);
    expect(change?.base_sha256).toBe(sha256(base['src/app.ts']));
    expect(change?.new_sha256).toBe(sha256(read('src/app.ts')));
    expect(await ws.read('src/app.ts')).toBe(read('src/app.ts'));
  });

  it('replace_all replaces every occurrence; without it an ambiguous string changes nothing', async () => {
    const ws = workspace();
    const ambiguous = failure(await ws.edit('src/dup.ts', 'log();', 'trace();'));
    expect(ambiguous.code).toBe('old_string_ambiguous');
    expect(ambiguous.message).toContain('3 times');
    expect(ambiguous.message).toContain('lines 1, 3, 5');
    expect(read('src/dup.ts')).toBe(base['src/dup.ts']);
    const all = await ws.edit('src/dup.ts', 'log();', 'trace();', true);
    expect(all.ok).toBe(true);
    expect(read('src/dup.ts')).toBe('trace();\nwork();\ntrace();\nrest();\ntrace();\n');
  });

  it('an absent old_string changes nothing and shows the closest lines with numbers', async () => {
    const ws = workspace();
    const missing = failure(
      await ws.edit(
        'src/app.ts',
        'export function add(a: number, b: number) {\n  return a - b;\n}',
        'x',
      ),
    );
    expect(missing.code).toBe('old_string_not_found');
    expect(missing.closest).toBe(
      '1| export function add(a: number, b: number) {\n2|   return a + b;\n3| }',
    );
    expect(missing.message).toContain('most similar lines are 1-3');
    const indented = failure(await ws.edit('src/app.ts', '    return a + b;\n', 'x'));
    expect(indented.message).toContain('except for whitespace');
    expect(read('src/app.ts')).toBe(base['src/app.ts']);
    expect(ws.changes()).toEqual([]);
  });

  it('keeps `$` patterns literal and matches LF text in a CRLF file', async () => {
    const ws = workspace();
    expect((await ws.edit('src/app.ts', 'answer = 42', "answer = '$&$1'")).ok).toBe(true);
    expect(read('src/app.ts')).toContain("answer = '$&$1'");
    expect((await ws.edit('src/crlf.ts', 'first\nsecond\n', 'one\ntwo\n')).ok).toBe(true);
    expect(read('src/crlf.ts')).toBe('one\r\ntwo\r\n');
  });

  it('refuses a no-op edit and an identical write, and an edit of a missing file', async () => {
    const before = hashTree(root, []);
    const ws = workspace();
    expect(failure(await ws.edit('src/app.ts', 'answer', 'answer')).code).toBe('no_change');
    expect(failure(await ws.write('README.md', 'readme\n')).code).toBe('no_change');
    expect(failure(await ws.edit('src/nope.ts', 'a', 'b')).code).toBe('file_not_found');
    expect(hashTree(root, [])).toEqual(before);
    expect(ws.changes()).toEqual([]);
  });

  it('writes create and replace owned files, new directories included; a new file keeps no base', async () => {
    const ws = workspace();
    expect(await ws.write('new/deep/file.ts', 'a\nb\n')).toMatchObject({
      ok: true,
      added: 2,
      removed: 0,
    });
    expect(await ws.write('README.md', 'new readme\n')).toMatchObject({
      ok: true,
      added: 1,
      removed: 1,
    });
    expect(read('new/deep/file.ts')).toBe('a\nb\n');
    const changes = ws.changes();
    expect(changes.map((c) => [c.path, c.change, c.base_sha256])).toEqual([
      ['README.md', 'modify', sha256('readme\n')],
      ['new/deep/file.ts', 'add', null],
    ]);
    // Writing the base back leaves no change at all.
    await ws.write('README.md', 'readme\n');
    expect(ws.changes().map((c) => c.path)).toEqual(['new/deep/file.ts']);
  });

  it('an existing file keeps its mode when rewritten', async () => {
    chmodSync(path.join(root, 'src/app.ts'), 0o755);
    const ws = workspace();
    await ws.write('src/app.ts', 'changed\n');
    expect(statSync(path.join(root, 'src/app.ts')).mode & 0o777).toBe(0o755);
  });

  it('deletes only when the mission allows deletions', async () => {
    const refused = failure(await workspace().delete('src/dup.ts'));
    expect(refused.code).toBe('deletions_not_allowed');
    expect(existsSync(path.join(root, 'src/dup.ts'))).toBe(true);
    const ws = workspace({ allowDeletions: true });
    expect(await ws.delete('src/dup.ts')).toMatchObject({ ok: true, removed: 5 });
    expect(existsSync(path.join(root, 'src/dup.ts'))).toBe(false);
    expect(await ws.read('src/dup.ts')).toBeNull();
    const [change] = ws.changes();
    expect(change).toMatchObject({
      path: 'src/dup.ts',
      change: 'delete',
      current: null,
      new_sha256: null,
    });
    expect(failure(await ws.delete('src/dup.ts')).code).toBe('file_not_found');
  });
});

describe('StagedWorkspace refuses hostile paths and content, changing nothing on disk', () => {
  const hostile: [string, (ws: StagedWorkspace) => Promise<EditResult>, string][] = [
    ['outside the owned paths', (ws) => ws.write('docs/guide.md', 'x\n'), 'path_not_owned'],
    ['.env at the root', (ws) => ws.write('.env', 'X=2\n'), 'path_denied'],
    [
      'an .env.local under an owned dir',
      (ws) => ws.edit('src/.env.local', 'X=1', 'X=2'),
      'path_denied',
    ],
    ['.git/config', (ws) => ws.write('.git/config', '[core]\nbare = true\n'), 'path_denied'],
    ['a key file', (ws) => ws.write('src/server.pem', 'k\n'), 'path_denied'],
    ['id_rsa', (ws) => ws.write('src/id_rsa', 'k\n'), 'path_denied'],
    ['node_modules', (ws) => ws.write('src/node_modules/x.js', 'k\n'), 'path_denied'],
    ['.codex-oss state', (ws) => ws.write('src/.codex-oss/x', 'k\n'), 'path_denied'],
    [
      'a critical root without permission',
      (ws) => ws.edit('src/auth/token.ts', '60', '6000'),
      'critical_path_denied',
    ],
    ['a .. escape', (ws) => ws.write('src/../../escape.ts', 'x\n'), 'path_traversal'],
    ['an encoded .. escape', (ws) => ws.write('src/..%2f..%2fescape.ts', 'x\n'), 'path_traversal'],
    [
      'an absolute path outside',
      (ws) => ws.write(path.join(outside, 'target.ts'), 'x\n'),
      'path_outside_root',
    ],
    ['NUL bytes in content', (ws) => ws.write('src/bin.ts', 'a\0b'), 'binary_content'],
    ['a lone surrogate', (ws) => ws.write('src/bad.ts', 'a\ud800b'), 'binary_content'],
    ['huge content', (ws) => ws.write('src/huge.ts', 'x'.repeat(2048)), 'file_too_large'],
    ['a quote in the name', (ws) => ws.write('src/a"b.ts', 'x\n'), 'path_invalid'],
  ];

  for (const [name, act, code] of hostile) {
    it(`refuses ${name} (${code})`, async () => {
      const before = hashTree(root, []);
      const outsideBefore = hashTree(outside, []);
      const ws = workspace({ maxFileBytes: 1024 });
      const result = failure(await act(ws));
      expect(result.code).toBe(code);
      expect(result.message.length).toBeGreaterThan(20);
      expect(hashTree(root, [])).toEqual(before);
      expect(hashTree(outside, [])).toEqual(outsideBefore);
      expect(ws.changes()).toEqual([]);
    });
  }

  it('accepts an absolute path inside the root as its relative form', async () => {
    const ws = workspace();
    expect(await ws.write(path.join(root, 'src/abs.ts'), 'x\n')).toMatchObject({
      ok: true,
      path: 'src/abs.ts',
    });
  });

  it('writes a critical path only with criticalWriteAllowed', async () => {
    const ws = workspace({ criticalWriteAllowed: true });
    expect((await ws.edit('src/auth/token.ts', '60', '6000')).ok).toBe(true);
  });

  it('refuses a symlink pointing outside, a symlinked parent directory and a link to another file', async () => {
    symlinkSync(path.join(outside, 'target.ts'), path.join(root, 'src/link.ts'));
    symlinkSync(outside, path.join(root, 'src/linkdir'));
    symlinkSync(path.join(root, 'README.md'), path.join(root, 'src/readme-link.md'));
    const before = hashTree(root, []);
    const outsideBefore = hashTree(outside, []);
    const ws = workspace();
    for (const attempt of [
      () => ws.write('src/link.ts', 'pwned\n'),
      () => ws.edit('src/link.ts', 'outside', 'pwned'),
      () => ws.write('src/linkdir/target.ts', 'pwned\n'),
      () => ws.write('src/linkdir/new.ts', 'pwned\n'),
      () => ws.write('src/readme-link.md', 'pwned\n'),
      () => workspace({ allowDeletions: true }).delete('src/link.ts'),
    ]) {
      expect(failure(await attempt()).code).toBe('symlink_escape');
    }
    expect(readFileSync(path.join(outside, 'target.ts'), 'utf8')).toBe('outside\n');
    expect(hashTree(root, [])).toEqual(before);
    expect(hashTree(outside, [])).toEqual(outsideBefore);
    expect(await ws.read('src/link.ts')).toBeNull();
  });

  it('refuses a `.git` file (a worktree pointer) even under an owned directory', async () => {
    writeFileSync(path.join(root, 'src/.git'), 'gitdir: /elsewhere\n');
    const ws = workspace();
    expect(failure(await ws.write('src/.git', 'gitdir: /tmp/evil\n')).code).toBe('path_denied');
    expect(readFileSync(path.join(root, 'src/.git'), 'utf8')).toBe('gitdir: /elsewhere\n');
  });

  it('refuses to write where a directory is, or under a file', async () => {
    const ws = workspace();
    expect(failure(await ws.write('src/auth', 'x\n')).code).toBe('critical_path_denied');
    expect(failure(await ws.write('src/app.ts/inner.ts', 'x\n')).code).toBe('not_a_file');
    mkdirSync(path.join(root, 'src/folder'));
    expect(failure(await ws.write('src/folder', 'x\n')).code).toBe('not_a_file');
  });
});
