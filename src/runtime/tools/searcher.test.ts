import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { searchTree, SearchPatternError, type SearchRequest } from './searcher.js';

let root: string;

function write(relative: string, content: string | Buffer): void {
  const file = path.join(root, relative);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
}

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'searcher-'));
  write('.gitignore', 'dist/\n*.log\n');
  write(
    'src/a.ts',
    'export function alpha() {}\nconst beta = 1;\n// TODO: gamma\nfunction delta() {}\n',
  );
  write('src/b.js', 'function alphaAsync() {}\r\nALPHA = 2\r\n');
  write(
    'src/deep/c.mjs',
    'line one\nline two\nalpha here\nline four\nline five\nalpha again\nline seven\n',
  );
  write('docs/readme.md', 'Alpha docs\n');
  write('dist/bundle.js', 'alpha in build output\n');
  write('debug.log', 'alpha in a log\n');
  write('bin/blob.bin', Buffer.from([0x61, 0x6c, 0x70, 0x68, 0x61, 0x00, 0x01]));
  write('big.txt', `alpha\n${'x'.repeat(3000)}\n`);
  write('node_modules/dep/index.js', 'alpha dependency\n');
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

function search(overrides: Partial<SearchRequest>) {
  return searchTree({ root, targets: [''], pattern: 'alpha', ...overrides });
}

function hits(result: Awaited<ReturnType<typeof searchTree>>): string[] {
  return result.matches.map((match) => `${match.path}:${match.line}`);
}

describe('searchTree', () => {
  it('finds a literal case-insensitively by default, respecting .gitignore and skipping binaries', async () => {
    const result = await search({ maxFileBytes: 1000 });
    expect(hits(result)).toEqual([
      'docs/readme.md:1',
      'node_modules/dep/index.js:1',
      'src/a.ts:1',
      'src/b.js:1',
      'src/b.js:2',
      'src/deep/c.mjs:3',
      'src/deep/c.mjs:6',
    ]);
    expect(result.skipped.binary).toBe(1);
    expect(result.skipped.tooLarge).toBe(1);
    expect(result.skipped.ignored).toBe(2);
  });

  it('is case-sensitive on request', async () => {
    const result = await search({ caseSensitive: true, targets: ['src'] });
    expect(hits(result)).toEqual([
      'src/a.ts:1',
      'src/b.js:1',
      'src/deep/c.mjs:3',
      'src/deep/c.mjs:6',
    ]);
  });

  it('runs JS regexes with line anchors and strips CR from CRLF lines', async () => {
    const result = await search({
      pattern: '^function\\s+\\w+\\(',
      caseSensitive: true,
      targets: ['src'],
    });
    expect(hits(result)).toEqual(['src/a.ts:4', 'src/b.js:1']);
    expect(result.matches[1]?.text).toBe('function alphaAsync() {}');
    // JS `$` (multiline) also matches before `\r`, so anchors work in CRLF files.
    const anchored = await search({ pattern: '= 2$', targets: ['src'] });
    expect(hits(anchored)).toEqual(['src/b.js:2']);
  });

  it('does not let a match span lines', async () => {
    const result = await search({ pattern: 'beta = 1;\\s+// TODO', targets: ['src'] });
    expect(result.matches).toHaveLength(0);
  });

  it('treats fixed strings literally', async () => {
    const result = await search({ pattern: 'alpha()', fixedString: true, targets: ['src'] });
    expect(hits(result)).toEqual(['src/a.ts:1']);
  });

  it('filters by glob (base name or path) and by caller filter', async () => {
    expect(hits(await search({ glob: '*.{js,mjs}', targets: ['src'] }))).toEqual([
      'src/b.js:1',
      'src/b.js:2',
      'src/deep/c.mjs:3',
      'src/deep/c.mjs:6',
    ]);
    expect(hits(await search({ glob: 'src/**/*.mjs' }))).toEqual([
      'src/deep/c.mjs:3',
      'src/deep/c.mjs:6',
    ]);
    const filtered = await search({
      filter: (relative) => !relative.startsWith('node_modules') && relative !== 'docs',
    });
    expect(
      hits(filtered).some((hit) => hit.startsWith('node_modules') || hit.startsWith('docs')),
    ).toBe(false);
  });

  it('searches ignored trees when told not to honour .gitignore', async () => {
    const result = await search({ respectGitignore: false, maxFileBytes: 1000 });
    expect(hits(result)).toContain('dist/bundle.js:1');
    expect(hits(result)).toContain('debug.log:1');
  });

  it('returns context lines and stops at maxResults in path order', async () => {
    const result = await search({ targets: ['src/deep/c.mjs'], contextLines: 2 });
    expect(result.matches[0]?.before.map((line) => line.line)).toEqual([1, 2]);
    expect(result.matches[0]?.after.map((line) => line.text)).toEqual(['line four', 'line five']);
    expect(result.matches[1]?.after.map((line) => line.line)).toEqual([7]);
    const limited = await search({ targets: ['src'], maxResults: 2 });
    expect(hits(limited)).toEqual(['src/a.ts:1', 'src/b.js:1']);
    expect(limited.truncated).toBe(true);
  });

  it('reports zero matches as a normal result', async () => {
    const result = await search({ pattern: 'no-such-text-anywhere' });
    expect(result.matches).toEqual([]);
    expect(result.filesSearched).toBeGreaterThan(0);
  });

  it('rejects invalid regexes with a clear error', async () => {
    await expect(search({ pattern: 'foo(' })).rejects.toBeInstanceOf(SearchPatternError);
    await expect(search({ pattern: 'foo(' })).rejects.toThrow(/Invalid regular expression/);
  });

  it('withholds a match that no longer matches the line as shown, from results and counts', async () => {
    // `shownAs` stands in for redaction: `alpha` is hidden on every line.
    const shownAs = (line: string): string => line.replace(/alpha/gi, '[HIDDEN]');
    const hidden = await search({ targets: ['src'], shownAs });
    expect(hits(hidden)).toEqual([]);
    expect(hidden.withheld).toBe(5);
    expect(hidden.filesMatched).toBe(0);
    // The case-sensitive literal path (matched on bytes) withholds the same way.
    const bytes = await search({ targets: ['src'], caseSensitive: true, shownAs });
    expect(hits(bytes)).toEqual([]);
    expect(bytes.withheld).toBe(4);
    // A pattern that still matches the shown line keeps its match (shown text is the caller's).
    const visible = await search({ pattern: 'function', targets: ['src/a.ts'], shownAs });
    expect(hits(visible)).toEqual(['src/a.ts:1', 'src/a.ts:4']);
    expect(visible.withheld).toBe(0);
    // Withheld matches do not use up maxResults.
    const limited = await search({
      pattern: 'alpha|line',
      targets: ['src/deep/c.mjs'],
      shownAs,
      maxResults: 3,
    });
    expect(hits(limited)).toEqual(['src/deep/c.mjs:1', 'src/deep/c.mjs:2', 'src/deep/c.mjs:4']);
  });

  it('honours an aborted signal', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(search({ signal: controller.signal })).rejects.toThrow('stop');
  });
});

describe('searchTree honours git ignore files as git does (the `ignore` package)', () => {
  let tree: string;
  beforeAll(() => {
    tree = mkdtempSync(path.join(tmpdir(), 'searcher-ignore-'));
    const put = (relative: string, content: string) => {
      const file = path.join(tree, relative);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, content);
    };
    put('.gitignore', '*.gen.ts\n');
    put('.git/info/exclude', 'scratch/\n');
    put('pkg/.gitignore', 'out/\n!keep.gen.ts\n');
    put('pkg/a.ts', 'needle\n');
    put('pkg/out/b.ts', 'needle\n');
    put('pkg/x.gen.ts', 'needle\n');
    put('pkg/keep.gen.ts', 'needle\n');
    put('scratch/c.ts', 'needle\n');
    put('out/d.ts', 'needle\n');
  });
  afterAll(() => rmSync(tree, { recursive: true, force: true }));

  it('applies nested .gitignore files, their negations, and .git/info/exclude', async () => {
    const result = await searchTree({ root: tree, targets: [''], pattern: 'needle' });
    const found = result.matches.map((match) => match.path);
    // .git itself is walked here (no deny filter); only its text files could match.
    expect(found.filter((file) => !file.startsWith('.git/'))).toEqual([
      'out/d.ts',
      'pkg/a.ts',
      'pkg/keep.gen.ts',
    ]);
  });

  it('applies a parent directory .gitignore to a narrower target', async () => {
    const result = await searchTree({ root: tree, targets: ['pkg'], pattern: 'needle' });
    expect(result.matches.map((match) => match.path)).toEqual(['pkg/a.ts', 'pkg/keep.gen.ts']);
  });
});
